"""The drift check's OSS access: what the retraining trigger's start function may touch when it checks drift.

components/drift_trigger.py ``drift_policy`` builds one RAM policy, ``<function>-drift``, attached to the start
function's role (components/retraining_trigger.py; the function is ``<prefix>-<pipeline>-start``). It reads the
marker's folder and one reference profile, lists that folder, and writes the pipeline's reports. ``drift-check-scope``
holds it to exactly that shape, read from the document itself:

- ``oss:PutObject`` only on ``acs:oss:*:*:<bucket>/data/drift-reports/<pipeline>/*``, the pipeline being the one the
  policy's name ends in (``…-<pipeline>-start-drift``, where the function name spells ``_`` as ``-``);
- ``oss:ListObjects`` only on ``acs:oss:*:*:<bucket>`` with every ``oss:Prefix`` (``StringLike`` or
  ``StringEquals``) ``<folder>*`` of ONE folder under ``data/`` (stack_config ``dataMarker`` is an object under
  ``data/``; the folder is the marker's);
- ``oss:GetObject`` only on ``<bucket>/<folder>*`` of that folder and on one object key ending ``.json`` (the
  profile; no wildcard);
- one bucket throughout, nothing else allowed, no ``NotAction`` / ``NotResource``. A Deny only narrows the grant.

The KMS policy beside it (``<function>-drift-kms``) is the bucket key's use, held by the RAM rules. A PR that points
the reports at ``models/*``, reads the whole bucket or adds an action is refused at preview.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .common import RAM_POLICY, MalformedDocument, as_list, json_object, peek

REPORTS: Final = "data/drift-reports/"  # components/drift_trigger.py REPORTS_PREFIX
DRIFT_NAME: Final = re.compile(r"^.+-start-drift$")
OBJECT: Final = re.compile(r"^acs:oss:\*:\*:(?P<bucket>[a-z0-9][a-z0-9-]{1,61}[a-z0-9])/(?P<key>.+)$")
BUCKET: Final = re.compile(r"^acs:oss:\*:\*:(?P<bucket>[a-z0-9][a-z0-9-]{1,61}[a-z0-9])$")
FOLDER: Final = re.compile(r"^data/([A-Za-z0-9_.=-]+/)*$")  # the folder of a stack_config dataMarker
REPORT_FOLDER: Final = re.compile(r"^[A-Za-z0-9_-]+$")
PROFILE: Final = re.compile(r"^[A-Za-z0-9_.=/-]+\.json$")


def is_drift_policy(props: Mapping[str, Any]) -> bool:
    return str(peek(props, "policyName") or "").endswith("-start-drift")


def _listed(statement: Mapping[str, Any]) -> list[str]:
    condition = statement.get("Condition")
    if not isinstance(condition, Mapping):
        return []
    return [
        str(v)
        for operator in ("StringLike", "StringEquals")
        if isinstance(condition.get(operator), Mapping)
        for v in as_list(condition[operator].get("oss:Prefix"))
    ]


def _grants(document: Mapping[str, Any]) -> tuple[dict[str, list[str]], list[str], list[str]]:
    """(action → resources, listed prefixes, problems) of the allowing statements."""
    grants: dict[str, list[str]] = {}
    listed: list[str] = []
    found: list[str] = []
    for statement in as_list(document.get("Statement")):
        if not isinstance(statement, Mapping):
            found.append(f"a statement is not an object: {statement!r}")
            continue
        if "NotAction" in statement or "NotResource" in statement:
            found.append("a statement uses NotAction or NotResource")
            continue
        if statement.get("Effect") != "Allow":
            continue
        for action in map(str, as_list(statement.get("Action"))):
            grants.setdefault(action, []).extend(map(str, as_list(statement.get("Resource"))))
            if action == "oss:ListObjects":
                prefixes = _listed(statement)
                listed += prefixes or ["(no oss:Prefix condition)"]
    return grants, listed, found


def drift_scope_problems(props: Mapping[str, Any]) -> list[str]:
    """What the drift policy grants beyond the shape above (empty: nothing)."""
    match = DRIFT_NAME.fullmatch(str(peek(props, "policyName") or ""))
    if match is None:
        return [f"its name does not end in -<pipeline>-start-drift (got {peek(props, 'policyName')!r})"]
    text = peek(props, "policyDocument", unknown="")
    if text == "":
        return []  # unknown until `pulumi up`: judged then
    try:
        document = json_object(text, "policyDocument")
    except MalformedDocument as error:
        return [str(error)]
    grants, listed, found = _grants(document)
    name = match.group(0)
    found += [f"it grants {a}, which the drift check never needs" for a in grants if a not in ALLOWED]
    folders = sorted({p.removesuffix("*") for p in listed})
    if "oss:ListObjects" in grants and (len(folders) != 1 or not FOLDER.fullmatch(folders[0]) or "*" in folders[0]):
        found.append(
            f"oss:ListObjects is not limited to oss:Prefix <marker folder>* of one folder under data/ ({listed})"
        )
    folder = folders[0] if len(folders) == 1 and FOLDER.fullmatch(folders[0]) else None
    buckets: set[str] = set()
    for resource in grants.get("oss:ListObjects", []):
        if (m := BUCKET.fullmatch(resource)) is None:
            found.append(f"oss:ListObjects is granted on {resource}, not on one bucket")
        else:
            buckets.add(m["bucket"])
    found += _objects(grants.get("oss:PutObject", []), "oss:PutObject", lambda key: _is_reports(key, name), buckets)
    keys = [m["key"] for r in grants.get("oss:GetObject", []) if (m := OBJECT.fullmatch(r))]
    profiles = [k for k in keys if k != f"{folder}*" and PROFILE.fullmatch(k)]
    found += _objects(
        grants.get("oss:GetObject", []),
        "oss:GetObject",
        lambda key: (folder is not None and key == f"{folder}*") or (key in profiles[:1]),
        buckets,
    )
    if len(buckets) > 1:
        found.append(f"it reaches more than one bucket ({', '.join(sorted(buckets))})")
    return found


def _is_reports(key: str, name: str) -> bool:
    """``data/drift-reports/<pipeline>/*`` of the pipeline ``name`` ends in (spelling its ``_`` as ``-``)."""
    folder = key.removeprefix(REPORTS).removesuffix("/*")
    return (
        key == f"{REPORTS}{folder}/*"
        and REPORT_FOLDER.fullmatch(folder) is not None
        and name.endswith(f"-{folder.replace('_', '-')}-start-drift")
    )


def _objects(resources: Sequence[str], action: str, allowed: Callable[[str], bool], buckets: set[str]) -> list[str]:
    wide: list[str] = []
    for resource in resources:
        m = OBJECT.fullmatch(resource)
        if m is None or not allowed(m["key"]):
            wide.append(resource)
        else:
            buckets.add(m["bucket"])
    return [f"{action} reaches {', '.join(wide)}"] if wide else []


ALLOWED: Final = ("oss:GetObject", "oss:ListObjects", "oss:PutObject")


def validate_drift_scope(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != RAM_POLICY or not is_drift_policy(args.props):
        return
    problems = drift_scope_problems(args.props)
    if problems:
        report(
            f"RAM policy '{peek(args.props, 'policyName')}' of the drift check reaches beyond what it needs: "
            f"{'; '.join(problems)}. The drift check writes only data/drift-reports/<pipeline>/, reads the marker's "
            "folder and one profile, and lists that folder (components/drift_trigger.py drift_policy): restore it.",
            None,
        )


drift_check_scope = ResourceValidationPolicy(
    name="drift-check-scope",
    description="The drift check's OSS policy writes only its pipeline's reports and reads only its batch and profile.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_drift_scope,
)

POLICIES: Final[Sequence[ResourceValidationPolicy]] = [drift_check_scope]
