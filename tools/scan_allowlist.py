"""The image scan's allow-list: accepted findings that expire, checked, and written in the scanner's ignore format.

    python -m tools.scan_allowlist --check                                  # validate images/scan-allowlist.yaml
    python -m tools.scan_allowlist --image fraud-train --output ignore.txt  # the ignore file for one image

``.github/workflows/images.yml`` runs the second form before it scans an image (Trivy ``--ignorefile``), so the
scanner only skips what this file accepts, for that image, until the entry's date. Each entry::

    - id: CVE-2024-3094            # one finding: CVE-YYYY-NNNN… or GHSA-xxxx-xxxx-xxxx, never a wildcard
      repository: fraud-train      # one image: a directory images/<repository>/ with a Dockerfile
      reason: why the finding does not matter in this image, or what is done about it
      expires: 2027-01-15          # YYYY-MM-DD, after today and at most MAX_DAYS (90) days ahead
      approvedBy: "@alice"         # the reviewer who accepted it (the file is under code owners)

The file is refused whole if any entry is expired, too far ahead, missing a key, of the wrong type, a wildcard, a
repeat of another, or names an image that does not exist: a refused file fails the images workflow before anything
is scanned or pushed, and fails ``make test`` in the pull request that broke it. 90 days: long enough for an upstream
fix to reach a base image, short enough that every acceptance is looked at again each quarter.

Output: Trivy's ``.trivyignore`` format, one ``<id> exp:<yyyy-mm-dd>`` line per finding, with the reason and the
approver as a comment above it (trivy ``docs/docs/configuration/filtering.md``, "By Finding IDs" → ``.trivyignore``:
``CVE-2019-14697 exp:2023-01-01``). Not ``.trivyignore.yaml``: that page marks the YAML format EXPERIMENTAL.

Exit status: 0 valid (and written); 2 the file is refused (every problem printed).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Final

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

# The repository root, found from this file rather than imported: the images workflow's scan job checks out only this
# tool and the allow-list (code-owned) and runs it with yaml and pydantic alone, so it imports nothing of the project.
ROOT: Final = Path(__file__).resolve().parent.parent
ALLOWLIST: Final = Path("images") / "scan-allowlist.yaml"
MAX_DAYS: Final = 90

# CVE ids (https://www.cve.org/ResourcesSupport/Glossary, "CVE ID": CVE-YYYY-NNNN with 4 or more digits) and GitHub
# advisory ids (https://docs.github.com/en/code-security/security-advisories, "GHSA-xxxx-xxxx-xxxx", the characters
# 23456789cfghjmpqrvwx), the two kinds Trivy reports for image packages.
FINDING_ID: Final = re.compile(r"^(CVE-\d{4}-\d{4,}|GHSA(-[23456789cfghjmpqrvwx]{4}){3})$")
_WILDCARD: Final = re.compile(r"[*?%\[\]{}]|\.\*")
REPOSITORY: Final = r"^[a-z0-9][a-z0-9._-]{0,62}[a-z0-9]$"  # as stack_config's registry.repositories
APPROVER: Final = r"^@[A-Za-z0-9](-?[A-Za-z0-9])*(/[A-Za-z0-9._-]+)?$"  # a GitHub user or @org/team

FIX: Final = {
    "id": "Give one finding id, e.g. 'CVE-2024-3094' or 'GHSA-jfh8-c2jp-5v3q'",
    "repository": "Give the image repository: a directory images/<repository>/ with a Dockerfile",
    "reason": "Say why the finding is accepted in this image",
    "expires": f"Give the date the acceptance ends as YYYY-MM-DD, after today and at most {MAX_DAYS} days ahead",
    "approvedBy": "Give the reviewer who accepted it, e.g. '@alice' or '@acme/platform-security'",
}


def _finding_id(value: str) -> str:
    if _WILDCARD.search(value):
        raise PydanticCustomError("wildcard", "is a wildcard; an entry accepts exactly one finding")
    if not FINDING_ID.match(value):
        raise PydanticCustomError("finding_id", "is not a CVE or GHSA id")
    return value


def _date(value: Any) -> date:
    # YAML reads an unquoted 2027-01-15 as a date and a quoted one as a string; 2027 alone is an int, which pydantic
    # would otherwise read as seconds since 1970.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise PydanticCustomError("date", "must be a date written YYYY-MM-DD")


def _text(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank", "is blank")
    return value


class Entry(BaseModel):
    """One accepted finding (the module docstring lists the keys)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, validate_by_name=True, validate_by_alias=True)

    id: Annotated[str, AfterValidator(_finding_id)]
    repository: Annotated[str, Field(pattern=REPOSITORY)]
    reason: Annotated[str, AfterValidator(_text)]
    expires: Annotated[date, BeforeValidator(_date)]
    approved_by: Annotated[str, Field(alias="approvedBy", pattern=APPROVER)]


_MESSAGES: Final = {
    "missing": "is missing",
    "extra_forbidden": "is not a key of an entry",
    "string_type": "must be a string",
    "string_pattern_mismatch": "is not in the expected form",
    "model_type": "must be a mapping of id, repository, reason, expires and approvedBy",
}


def _shown(value: Any) -> str:
    return repr(value) if not isinstance(value, date) else value.isoformat()


def _entry_problems(index: int, raw: Any) -> tuple[Entry | None, list[str]]:
    try:
        return Entry.model_validate(raw), []
    except ValidationError as error:
        problems: list[str] = []
        for item in error.errors():
            key = str(item["loc"][0]) if item["loc"] else ""
            what = _MESSAGES.get(item["type"], item["msg"])
            got = "" if item["type"] == "missing" else f"; got {_shown(item['input'])}"
            where = f"entries[{index}] [{key}]" if key else f"entries[{index}]"
            problems.append(f"{where}: {what}{got}. {FIX.get(key, 'Write the entry as the file header shows')}.")
        return None, problems


def problems_of(document: Any, today: date, root: Path = ROOT) -> tuple[list[Entry], list[str]]:
    """The valid entries of a parsed allow-list and every problem with it (the file is usable only with none)."""
    if not isinstance(document, dict) or set(document) != {"entries"} or not isinstance(document["entries"], list):
        return [], ["the file must be a mapping with one key, entries: a list (entries: [] for none)."]
    entries: list[Entry] = []
    problems: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    for index, raw in enumerate(document["entries"]):
        entry, found = _entry_problems(index, raw)
        problems += found
        if entry is None:
            continue
        where = f"entries[{index}] ({entry.id}, {entry.repository})"
        if entry.expires <= today:
            problems.append(
                f"{where} [expires]: expired on {entry.expires.isoformat()}. Fix the image, or renew the "
                f"acceptance with a new review and a date at most {MAX_DAYS} days ahead."
            )
        elif entry.expires > today + timedelta(days=MAX_DAYS):
            problems.append(
                f"{where} [expires]: {entry.expires.isoformat()} is more than {MAX_DAYS} days ahead. Give a date "
                f"no later than {(today + timedelta(days=MAX_DAYS)).isoformat()}."
            )
        if not (root / "images" / entry.repository / "Dockerfile").is_file():
            problems.append(
                f"{where} [repository]: images/{entry.repository}/Dockerfile does not exist. {FIX['repository']}."
            )
        if (first := seen.setdefault((entry.id, entry.repository), index)) != index:
            problems.append(f"{where}: repeats entries[{first}]. Keep one entry per finding and image.")
        entries.append(entry)
    return entries, problems


class AllowListError(Exception):
    """The allow-list is refused; ``problems`` says every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load(root: Path, today: date) -> list[Entry]:
    """The entries of ``root/images/scan-allowlist.yaml``, or AllowListError naming every problem."""
    path = root / ALLOWLIST
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise AllowListError([f"cannot be read: {error}"]) from error
    entries, problems = problems_of(document, today, root)
    if problems:
        raise AllowListError(problems)
    return entries


def trivyignore(entries: Sequence[Entry], image: str, today: date) -> str:
    """The ``.trivyignore`` text accepting ``image``'s entries, each until its date (comments on one line each)."""
    lines = [
        f"# {image}: generated from {ALLOWLIST} by tools/scan_allowlist.py on {today.isoformat()}; do not edit.",
    ]
    for entry in entries:
        if entry.repository != image:
            continue
        reason = " ".join(entry.reason.split())  # a reason never spills onto a line of its own
        lines.append(f"# {reason} (approved by {entry.approved_by})")
        lines.append(f"{entry.id} exp:{entry.expires.isoformat()}")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.scan_allowlist", description=(__doc__ or "").split("\n\n")[0]
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--check", action="store_true", help="validate the allow-list only")
    what.add_argument("--image", help="the image repository whose ignore file to write")
    parser.add_argument("--output", type=Path, help="where to write the ignore file (with --image)")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.image is not None and args.output is None:
        parser.error("--image needs --output")
    if args.image is not None and not re.match(REPOSITORY, args.image):
        parser.error(f"--image {args.image!r} is not an image repository name")
    today = datetime.now(UTC).date()
    try:
        entries = load(args.root, today)
    except AllowListError as error:
        for problem in error.problems:
            print(f"error: {ALLOWLIST}: {problem}", file=sys.stderr)
        return 2
    if args.image is None:
        print(f"{ALLOWLIST}: {len(entries)} accepted finding(s), none expired")
        return 0
    text = trivyignore(entries, args.image, today)
    args.output.write_text(text)
    print(f"{args.output}: {text.count(' exp:')} accepted finding(s) for {args.image}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
