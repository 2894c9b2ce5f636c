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

``promotion-copy-scope`` (a stack check) holds the copy role (components/copy_role.py: ``<prefix>-promote-copy``)
to the versions the stack promotes. Every ``RolePolicyAttachment`` to that role (by its ``roleName`` or by a
dependency on the role) must name a custom RAM policy of this stack (by dependency, else by name); a system
policy, or one the stack does not define, is refused. The role's ``<role>-kms`` policy may grant only
``kms:Decrypt`` / ``kms:GenerateDataKey`` on KMS key ARNs. Every other attached policy is a per-version one
(``…-promote-<model>-<version>[-write]``, its description ending in the one prefix it grants): that prefix must be a
``ModelPromotion``'s of this stack; object actions only on ``acs:oss:*:*:<bucket>/<prefix>…``, the bucket being the
promotion's ``source_bucket`` for a read and its ``dest_bucket`` for a write, which must be a bucket this stack
defines; ``oss:ListObjects`` only on that bucket with every ``oss:Prefix`` under the prefix; ``oss:GetObject`` for a
read and ``oss:PutObject`` besides for a write; no ``NotAction`` / ``NotResource``. A policy named ``…-promote-…``
that nothing attaches is held to its own description's prefix as well. A PR that widens the grant (a model's whole
prefix, a listing without the condition, a delete, a second policy of any name on the role) is refused at preview.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .common import (
    OSS_BUCKET,
    RAM_POLICY,
    RAM_ROLE,
    RAM_ROLE_ATTACHMENT,
    MalformedDocument,
    as_list,
    is_list,
    json_object,
    peek,
)

MODEL_PROMOTION: Final = "pulumi-python:dynamic/pai:ModelPromotion"
RELEASED_PHASES: Final = ("step", "resume")
TAKEN_BACK: Final = ("breach", "inconclusive", "changed_by_someone_else")
OVERRIDE_FIELDS: Final = ("reason", "approvedBy", "ticket")
COPY_HEAD: Final = "pai-mlops promotion copy role:"  # components/copy_role.py DESCRIPTION_HEAD
COPY_ROLE_SUFFIX: Final = "promote-copy"  # components/copy_role.py: the role is <namePrefix>-promote-copy
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
    """Named like a per-version policy of the copy role (``…-promote-…``); the KMS one is judged as KMS instead."""
    name = str(peek(props, "policyName") or peek(props, "name") or "")
    return "-promote-" in name and not name.endswith(f"-{COPY_ROLE_SUFFIX}-kms")


def _statement_problems(statement: Any, kind: str, prefix: str, bucket: str | None = None) -> list[str]:
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
            found += _other_buckets(action, resources, bucket)
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
            found += _other_buckets(action, resources, bucket)
    return found


def _other_buckets(action: str, resources: Sequence[Any], bucket: str | None) -> list[str]:
    """``action`` granted on a bucket other than ``bucket`` (None: not known here, nothing to compare)."""
    others = sorted({m["bucket"] for r in resources if (m := BUCKET_ARN.match(str(r))) and m["bucket"] != bucket})
    return [f"{action} is granted on bucket {', '.join(others)}, not {bucket}"] if bucket and others else []


def copy_scope_problems(props: Mapping[str, Any], buckets: Mapping[tuple[str, str], str] | None = None) -> list[str]:
    """What in one of the copy role's per-version policies reaches beyond its version's prefix (empty: nothing).

    ``buckets`` maps (kind, prefix) to the one bucket that kind may reach for that version (read: the source's,
    write: this stack's), from the stack's ModelPromotions; None: not known (the policy is judged alone)."""
    description = str(props.get("description") or "")
    words = description.removeprefix(COPY_HEAD).split()
    if not description.startswith(COPY_HEAD) or len(words) < 2 or words[0] not in COPY_ACTIONS:
        return [
            f"its description {description!r} does not say which prefix it grants ('{COPY_HEAD} read|write … <prefix>')"
        ]
    kind, prefix = words[0], words[-1]
    if not VERSION_PREFIX.fullmatch(prefix):
        return [f"the prefix it grants, {prefix!r}, is not one version's models/<name>/<version>/"]
    bucket = None
    if buckets is not None:
        if (kind, prefix) not in buckets:
            return [f"no ModelPromotion of this stack copies {prefix}, so the copy role needs no {kind} grant on it"]
        bucket = buckets[(kind, prefix)] or None  # "": unknown until pulumi up
        if bucket and bucket.startswith("!"):
            return [f"its ModelPromotion writes bucket {bucket[1:]}, which is not a bucket of this stack"]
    text = peek(props, "policyDocument", unknown="")
    if text == "":
        return []  # unknown until `pulumi up`: judged then
    try:
        document = json_object(text, "policyDocument")
    except MalformedDocument as error:
        return [str(error)]
    statements = as_list(document.get("Statement"))
    return [p for statement in statements for p in _statement_problems(statement, kind, prefix, bucket)]


KMS_ACTIONS: Final = ("kms:Decrypt", "kms:GenerateDataKey")  # components/copy_role.py KMS_WRITE, KMS_READ
KMS_KEY_ARN: Final = re.compile(r"^acs:kms:[a-z0-9-]+:[0-9]+:key/[A-Za-z0-9-]+$")


def kms_problems(props: Mapping[str, Any]) -> list[str]:
    """What the copy role's KMS policy grants besides kms:Decrypt / kms:GenerateDataKey on named keys."""
    text = peek(props, "policyDocument", unknown="")
    if text == "":
        return []  # the keys are known at `pulumi up`: judged then
    try:
        document = json_object(text, "policyDocument")
    except MalformedDocument as error:
        return [str(error)]
    found: list[str] = []
    for statement in as_list(document.get("Statement")):
        if not isinstance(statement, Mapping):
            found.append(f"a statement is not an object: {statement!r}")
        elif "NotAction" in statement or "NotResource" in statement:
            found.append("a statement uses NotAction or NotResource")
        elif statement.get("Effect") == "Allow":
            found += [
                f"it grants {a}, which the copy role's KMS policy never needs"
                for a in map(str, as_list(statement.get("Action")))
                if a not in KMS_ACTIONS
            ]
            found += [
                f"it reaches {r}, which is not one KMS key"
                for r in map(str, as_list(statement.get("Resource")))
                if not KMS_KEY_ARN.fullmatch(r)
            ]
    return found


def _copy_roles(resources: Sequence[PolicyResource]) -> tuple[set[str], set[str]]:
    names = {
        str(peek(r.props, "roleName") or "")
        for r in resources
        if r.resource_type == RAM_ROLE and str(peek(r.props, "roleName") or "").endswith(f"-{COPY_ROLE_SUFFIX}")
    }
    return names, {r.urn for r in resources if r.resource_type == RAM_ROLE and peek(r.props, "roleName") in names}


def version_buckets(resources: Sequence[PolicyResource]) -> dict[tuple[str, str], str]:
    """(kind, prefix) → the bucket the copy role may reach for it: read the source's, write this stack's ("": not
    known at preview; ``!<name>``: a write to a bucket this stack does not define, never allowed)."""
    own = {str(peek(r.props, "bucket") or "") for r in resources if r.resource_type == OSS_BUCKET}
    found: dict[tuple[str, str], str] = {}
    for promotion in (r for r in resources if r.resource_type == MODEL_PROMOTION):
        source, dest = (
            str(peek(promotion.props, "source_bucket") or ""),
            str(peek(promotion.props, "dest_bucket") or ""),
        )
        found[("read", str(peek(promotion.props, "source_prefix") or ""))] = source
        found[("write", str(peek(promotion.props, "dest_prefix") or ""))] = (
            dest if not dest or dest in own else f"!{dest}"
        )
    return found


def _attachment_problems(
    attachment: PolicyResource, policies: Mapping[str, PolicyResource], role: str, buckets: Any
) -> tuple[PolicyResource | None, list[str]]:
    name = peek(attachment.props, "policyName")
    kind = str(peek(attachment.props, "policyType") or "")
    by_dependency = [p for p in attachment.property_dependencies.get("policyName", []) if p.resource_type == RAM_POLICY]
    policy = by_dependency[0] if by_dependency else policies.get(str(name))
    if kind.lower() == "system" or policy is None:
        what = "the system policy" if kind.lower() == "system" else "the policy"
        return None, [f"{what} {name!r} is attached to it, which is not a copy policy of this stack"]
    if str(peek(policy.props, "policyName") or "") == f"{role}-kms":
        return policy, kms_problems(policy.props)
    return policy, copy_scope_problems(policy.props, buckets)


def validate_copy_scope(args: StackValidationArgs, report: ReportViolation) -> None:
    roles, role_urns = _copy_roles(args.resources)
    policies = {str(peek(r.props, "policyName") or ""): r for r in args.resources if r.resource_type == RAM_POLICY}
    buckets = version_buckets(args.resources)
    judged: set[str] = set()
    for attachment in (r for r in args.resources if r.resource_type == RAM_ROLE_ATTACHMENT):
        role = str(peek(attachment.props, "roleName") or "")
        deps = [d for d in attachment.property_dependencies.get("roleName", []) if d.urn in role_urns]
        if role not in roles and not deps:
            continue
        role = role or str(peek(deps[0].props, "roleName") or "")
        policy, problems = _attachment_problems(attachment, policies, role, buckets)
        if policy is not None:
            judged.add(policy.urn)
        if problems:
            name = peek(policy.props, "policyName") if policy else peek(attachment.props, "policyName")
            report(
                f"RolePolicyAttachment '{attachment.name}' gives the promotion copy role {role} the policy "
                f"{name!r}, which reaches beyond the versions it promotes: {'; '.join(problems)}. The copy role holds "
                "only each promoted version's read and write policies and its KMS use (components/copy_role.py "
                "builds them): remove the attachment or restore the document.",
                attachment.urn,
            )
    for policy in (r for r in args.resources if r.resource_type == RAM_POLICY and r.urn not in judged):
        problems = copy_scope_problems(policy.props) if is_copy_policy(policy.props) else []
        if problems:
            report(
                f"RAM policy '{peek(policy.props, 'policyName') or policy.name}' of the promotion copy role reaches "
                f"beyond the one version it promotes: {'; '.join(problems)}. The copy role may read only the "
                "version's source prefix and write only its destination prefix (components/copy_role.py builds "
                "those documents): restore them.",
                policy.urn,
            )


promotion_copy_scope = StackValidationPolicy(
    name="promotion-copy-scope",
    description="The promotion copy role's policies grant one version's prefix: read at the source, write here.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_copy_scope,
)

POLICIES: Final[Sequence[ResourceValidationPolicy | StackValidationPolicy]] = [promotion_gate, promotion_copy_scope]
