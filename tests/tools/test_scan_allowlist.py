"""The image scan's allow-list: what a pull request may accept, for how long, and the ignore file the scanner gets."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools import scan_allowlist
from tools.scan_allowlist import MAX_DAYS, problems_of, trivyignore

TODAY = date(2026, 12, 1)
GOOD: dict[str, Any] = {
    "id": "CVE-2024-3094",
    "repository": "fraud-train",
    "reason": "xz backdoor; the image runs no sshd",
    "expires": date(2027, 1, 15),
    "approvedBy": "@alice",
}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for image in ("fraud-train", "fraud-prep"):
        (tmp_path / "images" / image).mkdir(parents=True)
        (tmp_path / "images" / image / "Dockerfile").write_text("FROM scratch\n")
    return tmp_path


def problems(root: Path, *entries: dict[str, Any]) -> list[str]:
    return problems_of({"entries": list(entries)}, TODAY, root)[1]


def test_a_valid_entry_becomes_one_expiring_ignore_line_for_its_image_only(root: Path) -> None:
    other = {**GOOD, "id": "GHSA-jfh8-c2jp-5v3q", "repository": "fraud-prep", "approvedBy": "@acme/platform-security"}
    entries, found = problems_of({"entries": [GOOD, other]}, TODAY, root)
    assert found == []
    assert trivyignore(entries, "fraud-train", TODAY) == (
        "# fraud-train: generated from images/scan-allowlist.yaml by tools/scan_allowlist.py on 2026-12-01; "
        "do not edit.\n"
        "# xz backdoor; the image runs no sshd (approved by @alice)\n"
        "CVE-2024-3094 exp:2027-01-15\n"
    )
    assert trivyignore(entries, "fraud-prep", TODAY).splitlines()[1:] == [
        "# xz backdoor; the image runs no sshd (approved by @acme/platform-security)",
        "GHSA-jfh8-c2jp-5v3q exp:2027-01-15",
    ]
    assert trivyignore(entries, "image-tagger", TODAY).count("\n") == 1  # the header only: nothing accepted


@pytest.mark.parametrize("expires", [TODAY, TODAY - timedelta(days=1)])
def test_an_expired_entry_refuses_the_file(root: Path, expires: date) -> None:
    assert problems(root, {**GOOD, "expires": expires}) == [
        f"entries[0] (CVE-2024-3094, fraud-train) [expires]: expired on {expires.isoformat()}. Fix the image, or "
        "renew the acceptance with a new review and a date at most 90 days ahead."
    ]


def test_an_expiry_more_than_90_days_ahead_is_refused_and_90_days_is_not(root: Path) -> None:
    assert MAX_DAYS == 90
    assert problems(root, {**GOOD, "expires": TODAY + timedelta(days=90)}) == []
    assert problems(root, {**GOOD, "expires": TODAY + timedelta(days=91)}) == [
        "entries[0] (CVE-2024-3094, fraud-train) [expires]: 2027-03-02 is more than 90 days ahead. Give a date "
        "no later than 2027-03-01."
    ]


def test_an_entry_without_reason_or_expiry_is_refused(root: Path) -> None:
    no_reason = {k: v for k, v in GOOD.items() if k != "reason"}
    no_expiry = {k: v for k, v in GOOD.items() if k != "expires"}
    assert problems(root, no_reason, no_expiry, {**GOOD, "reason": "  \n"}) == [
        "entries[0] [reason]: is missing. Say why the finding is accepted in this image.",
        "entries[1] [expires]: is missing. Give the date the acceptance ends as YYYY-MM-DD, after today and at most "
        "90 days ahead.",
        "entries[2] [reason]: is blank; got '  \\n'. Say why the finding is accepted in this image.",
    ]


@pytest.mark.parametrize(
    ("expires", "got"),
    [(2026, "2026"), ("2027-02-30", "'2027-02-30'"), ("15/01/2027", "'15/01/2027'"), (1767225600, "1767225600")],
)
def test_an_expiry_that_is_not_a_date_is_refused_not_read_as_a_timestamp(root: Path, expires: Any, got: str) -> None:
    assert problems(root, {**GOOD, "expires": expires}) == [
        f"entries[0] [expires]: must be a date written YYYY-MM-DD; got {got}. Give the date the acceptance ends as "
        "YYYY-MM-DD, after today and at most 90 days ahead."
    ]


def test_yaml_as_written_by_hand_parses_to_the_same_checks(root: Path) -> None:
    text = (
        "entries:\n"
        "  - {id: CVE-2024-3094, repository: fraud-train, reason: r, expires: 2026, approvedBy: '@a'}\n"
        "  - {id: CVE-2024-3094, repository: fraud-prep, reason: r, expires: '2027-01-15', approvedBy: '@a'}\n"
    )
    assert problems_of(yaml.safe_load(text), TODAY, root)[1] == [
        "entries[0] [expires]: must be a date written YYYY-MM-DD; got 2026. Give the date the acceptance ends as "
        "YYYY-MM-DD, after today and at most 90 days ahead."
    ]


@pytest.mark.parametrize("finding", ["*", "CVE-2024-*", "CVE-2024-3094*", "CVE-2024-309?", "CVE-.*", "GHSA-[a-z]"])
def test_a_wildcard_id_is_refused(root: Path, finding: str) -> None:
    assert problems(root, {**GOOD, "id": finding}) == [
        f"entries[0] [id]: is a wildcard; an entry accepts exactly one finding; got {finding!r}. Give one finding "
        "id, e.g. 'CVE-2024-3094' or 'GHSA-jfh8-c2jp-5v3q'."
    ]


@pytest.mark.parametrize("finding", ["CVE-24-3094", "cve-2024-3094", "DLA-3682-1", "CVE-2024-3094 ", "GHSA-aaaa-bbbb"])
def test_an_id_that_is_not_one_cve_or_ghsa_is_refused(root: Path, finding: str) -> None:
    assert problems(root, {**GOOD, "id": finding}) == [
        f"entries[0] [id]: is not a CVE or GHSA id; got {finding!r}. Give one finding id, e.g. 'CVE-2024-3094' or "
        "'GHSA-jfh8-c2jp-5v3q'."
    ]


def test_a_repeated_entry_is_refused(root: Path) -> None:
    assert problems(root, GOOD, {**GOOD, "repository": "fraud-prep"}, {**GOOD, "reason": "said again"}) == [
        "entries[2] (CVE-2024-3094, fraud-train): repeats entries[0]. Keep one entry per finding and image."
    ]


def test_wrong_types_unknown_keys_and_unknown_images_are_refused(root: Path) -> None:
    assert problems(
        root,
        {**GOOD, "reason": 42, "approvedBy": "alice"},
        {**GOOD, "severity": "HIGH"},
        {**GOOD, "repository": "fraud-trian"},
        "CVE-2024-3094",  # pyright: ignore[reportArgumentType]
    ) == [
        "entries[0] [reason]: must be a string; got 42. Say why the finding is accepted in this image.",
        "entries[0] [approvedBy]: is not in the expected form; got 'alice'. Give the reviewer who accepted it, "
        "e.g. '@alice' or '@acme/platform-security'.",
        "entries[1] [severity]: is not a key of an entry; got 'HIGH'. Write the entry as the file header shows.",
        "entries[2] (CVE-2024-3094, fraud-trian) [repository]: images/fraud-trian/Dockerfile does not exist. Give "
        "the image repository: a directory images/<repository>/ with a Dockerfile.",
        "entries[3]: must be a mapping of id, repository, reason, expires and approvedBy; got 'CVE-2024-3094'. "
        "Write the entry as the file header shows.",
    ]


@pytest.mark.parametrize("document", [None, [], {"entries": None}, {"entries": [], "ignoreAll": True}])
def test_a_file_of_another_shape_is_refused(root: Path, document: Any) -> None:
    assert problems_of(document, TODAY, root) == (
        [],
        ["the file must be a mapping with one key, entries: a list (entries: [] for none)."],
    )


def test_a_reason_cannot_smuggle_an_ignore_line_into_the_output(root: Path) -> None:
    sneaky = {**GOOD, "reason": "harmless\nCVE-2025-0001\n*"}
    entries, found = problems_of({"entries": [sneaky]}, TODAY, root)
    assert found == []
    assert [line for line in trivyignore(entries, "fraud-train", TODAY).splitlines() if not line.startswith("#")] == [
        "CVE-2024-3094 exp:2027-01-15"
    ]


def write(root: Path, *entries: dict[str, Any]) -> None:
    (root / "images" / "scan-allowlist.yaml").write_text(yaml.safe_dump({"entries": list(entries)}))


def test_the_command_writes_the_ignore_file_for_the_workflow(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    today = datetime.now(UTC).date()
    write(root, {**GOOD, "expires": today + timedelta(days=30)})
    output = root / "trivyignore"
    assert scan_allowlist.main(["--image", "fraud-train", "--output", str(output), "--root", str(root)]) == 0
    assert output.read_text().splitlines()[1:] == [
        "# xz backdoor; the image runs no sshd (approved by @alice)",
        f"CVE-2024-3094 exp:{(today + timedelta(days=30)).isoformat()}",
    ]
    assert capsys.readouterr().out == f"{output}: 1 accepted finding(s) for fraud-train\n"


def test_the_command_refuses_an_expired_file_and_writes_nothing(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    write(root, {**GOOD, "expires": yesterday})
    output = root / "trivyignore"
    assert scan_allowlist.main(["--image", "fraud-train", "--output", str(output), "--root", str(root)]) == 2
    assert not output.exists()
    assert capsys.readouterr().err == (
        f"error: images/scan-allowlist.yaml: entries[0] (CVE-2024-3094, fraud-train) [expires]: expired on "
        f"{yesterday.isoformat()}. Fix the image, or renew the acceptance with a new review and a date at most 90 "
        "days ahead.\n"
    )


def test_the_repositorys_own_allow_list_is_valid_today(capsys: pytest.CaptureFixture[str]) -> None:
    assert scan_allowlist.main(["--check"]) == 0
    assert capsys.readouterr().out.endswith("accepted finding(s), none expired\n")
