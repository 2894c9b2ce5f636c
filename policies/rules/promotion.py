"""The promotion gate: a version copied from another stack may take traffic only after it was released there.

``promotion-gate`` reads a ``ModelPromotion``'s gate inputs, which the program fills from the source stack's own
outputs (``pulumi.StackReference``; the offline plan answers from the source stack's file or from recorded
outputs): ``source_stack``, ``model``, ``version``, ``live`` (whether this stack makes the version live),
``release_history`` (the source's ``releaseHistory`` of that model: the TrafficShift events), ``source_artifact``
(the source's ``modelArtifacts`` entry: uri, commit, origin, checksums), ``commit`` (the commit this stack expects)
and ``override`` (a reviewed bypass: reason, approvedBy, ticket).

A live promoted version passes when the source's history has a step to 100% for that version whose verdict is
``pass`` and nothing after it (a breach, an inconclusive bake, a revert, a hand change) took it back; when the
source recorded the version's commit and it is the one expected here; and when a version the source itself
promoted comes with the checksums its copy verified (one it trained or holds otherwise is verified against the
bytes it holds instead). The copy then
checks every object against those checksums before any traffic moves. A well-formed override turns the gate off
for that version; the program records it in the model registry and the ``promotions`` output.

``promotion-copy-scope`` holds the copy role's per-version policies (components/copy_role.py: RAM policies named
``…-promote-<model>-<version>[-write]``, their description ending in the one prefix they grant) to that prefix:
object actions only on ``acs:oss:*:*:<bucket>/<prefix>…`` of a bucket named without wildcards, ``oss:ListObjects``
only on that bucket with every ``oss:Prefix`` under the prefix, reads only (``oss:GetObject``) for a read policy and
``oss:PutObject`` besides for a write policy, no ``NotAction`` / ``NotResource``. A PR that widens the grant (a
model's whole prefix, a listing without the condition, a delete) is refused at preview.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .common import MalformedDocument, as_list, is_list, json_object

MODEL_PROMOTION: Final = "pulumi-python:dynamic/pai:ModelPromotion"
RELEASED_PHASES: Final = ("step", "resume")
TAKEN_BACK: Final = ("breach", "inconclusive", "changed_by_someone_else")
OVERRIDE_FIELDS: Final = ("reason", "approvedBy", "ticket")
RAM_POLICY: Final = "alicloud:ram/policy:Policy"
COPY_HEAD: Final = "pai-mlops promotion copy role:"  # components/copy_role.py DESCRIPTION_HEAD
COPY_ACTIONS: Final = {"read": ("oss:GetObject",), "write": ("oss:GetObject", "oss:PutObject")}
VERSION_PREFIX: Final = re.compile(r"^models/[^/*?]+/[^/*?]+/$")
BUCKET_ARN: Final = re.compile(r"^acs:oss:\*:\*:(?P<bucket>[a-z0-9][a-z0-9-]{1,61}[a-z0-9])(?P<rest>/.*)?$")


def released(history: Any, version: str) -> bool:
    """Whether ``history`` shows ``version`` reaching 100% with a passing bake, not taken back since."""
    events = [e for e in history if isinstance(e, Mapping) and e.get("to") == version] if is_list(history) else []
    last_pass = max(
        (
            i
            for i, e in enumerate(events)
            if e.get("phase") in RELEASED_PHASES and e.get("step") in (100, 100.0) and e.get("verdict") == "pass"
        ),
        default=None,
    )
    if last_pass is None:
        return False
    later = events[last_pass + 1 :]
    return not any(e.get("verdict") in TAKEN_BACK or e.get("phase") in ("revert", "stopped") for e in later)


def valid_override(override: Any) -> bool:
    return isinstance(override, Mapping) and all(
        isinstance(override.get(name), str) and override.get(name, "").strip() for name in OVERRIDE_FIELDS
    )


def gate_problems(props: Mapping[str, Any]) -> list[str]:
    """What is missing before this promoted version may be live (empty: it may)."""
    if props.get("live") is not True or valid_override(props.get("override")):
        return []
    source, model, version = props.get("source_stack"), props.get("model"), props.get("version")
    artifact = props.get("source_artifact")
    artifact = artifact if isinstance(artifact, Mapping) else {}
    missing: list[str] = []
    if not artifact:
        missing.append(f"stack '{source}' exports no artifact of {model} {version} (its modelArtifacts output)")
    if not released(props.get("release_history"), str(version)):
        missing.append(
            f"stack '{source}' has no release of {model} {version} to 100% without a breach in its releaseHistory"
        )
    recorded, expected = artifact.get("commit"), props.get("commit")
    if artifact and expected and recorded != expected:
        missing.append(f"stack '{source}' built {version} from commit {recorded!r}, this stack expects {expected!r}")
    checksums = artifact.get("checksums")
    if artifact.get("origin") == "promoted" and not artifact.get("planned") and not checksums:
        missing.append(f"stack '{source}' recorded no checksums of {model} {version}, so the copy cannot be verified")
    return missing


def validate_gate(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != MODEL_PROMOTION:
        return
    missing = gate_problems(args.props)
    if missing:
        props = args.props
        report(
            f"{props.get('model')} {props.get('version')} is promoted from stack '{props.get('source_stack')}' and "
            f"made live here, but {'; '.join(missing)}. Release it in '{props.get('source_stack')}' first (its "
            "pulumi up must finish the traffic shift), or set live back to a released version; in an emergency, "
            "add a reviewed override {reason, approvedBy, ticket} to the version's promoted entry.",
            None,
        )


promotion_gate = ResourceValidationPolicy(
    name="promotion-gate",
    description="A promoted model version is live only after its source stack released it and recorded its checksums.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_gate,
)


def is_copy_policy(props: Mapping[str, Any]) -> bool:
    """A per-version policy of the copy role (its KMS policy is held by the RAM rules instead)."""
    name = str(props.get("policyName") or props.get("name") or "")
    return "-promote-" in name and not name.endswith("-promote-copy-kms")


def _statement_problems(statement: Any, kind: str, prefix: str) -> list[str]:
    if not isinstance(statement, Mapping):
        return [f"a statement is not an object: {statement!r}"]
    if "NotAction" in statement or "NotResource" in statement:
        return ["a statement uses NotAction or NotResource"]
    if statement.get("Effect") != "Allow":
        return []  # a Deny only narrows the grant
    actions, resources = [str(a) for a in as_list(statement.get("Action"))], as_list(statement.get("Resource"))
    found: list[str] = []
    for action in actions:
        if action == "oss:ListObjects":
            condition = statement.get("Condition")
            prefixes = [
                str(value)
                for operator in ("StringLike", "StringEquals")
                for value in as_list(
                    (condition or {}).get(operator, {}).get("oss:Prefix") if isinstance(condition, Mapping) else None
                )
            ]
            if not prefixes or any(not p.startswith(prefix) for p in prefixes):
                found.append(
                    f"oss:ListObjects is not limited to oss:Prefix {prefix}* (it lists {prefixes or 'everything'})"
                )
            wide = [r for r in resources if not (m := BUCKET_ARN.match(str(r))) or m["rest"]]
            if wide:
                found.append(f"oss:ListObjects is granted on {', '.join(map(str, wide))}, not on one bucket")
        elif action not in COPY_ACTIONS[kind]:
            found.append(f"it grants {action}, which a {kind} policy of the copy role never needs")
        else:
            wide = [
                str(r)
                for r in resources
                if not (m := BUCKET_ARN.match(str(r))) or not (m["rest"] or "").startswith(f"/{prefix}")
            ]
            if wide:
                found.append(f"{action} reaches {', '.join(wide)}, beyond {prefix}")
    return found


def copy_scope_problems(props: Mapping[str, Any]) -> list[str]:
    """What in one of the copy role's per-version policies reaches beyond its version's prefix (empty: nothing)."""
    if not is_copy_policy(props):
        return []
    description = str(props.get("description") or "")
    words = description.removeprefix(COPY_HEAD).split()
    if not description.startswith(COPY_HEAD) or len(words) < 2 or words[0] not in COPY_ACTIONS:
        return [
            f"its description {description!r} does not say which prefix it grants ('{COPY_HEAD} read|write … <prefix>')"
        ]
    kind, prefix = words[0], words[-1]
    if not VERSION_PREFIX.fullmatch(prefix):
        return [f"the prefix it grants, {prefix!r}, is not one version's models/<name>/<version>/"]
    try:
        document = json_object(props.get("policyDocument"), "policyDocument")
    except MalformedDocument as error:
        return [str(error)]
    return [p for statement in as_list(document.get("Statement")) for p in _statement_problems(statement, kind, prefix)]


def validate_copy_scope(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != RAM_POLICY:
        return
    problems = copy_scope_problems(args.props)
    if problems:
        name = args.props.get("policyName") or args.name
        report(
            f"RAM policy '{name}' of the promotion copy role reaches beyond the one version it promotes: "
            f"{'; '.join(problems)}. The copy role may read only the version's source prefix and write only its "
            "destination prefix (components/copy_role.py builds those documents): restore them.",
            None,
        )


promotion_copy_scope = ResourceValidationPolicy(
    name="promotion-copy-scope",
    description="The promotion copy role's policies grant one version's prefix: read at the source, write here.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_copy_scope,
)

POLICIES: Final[Sequence[ResourceValidationPolicy]] = [promotion_gate, promotion_copy_scope]
