"""RAM policy documents without loopholes: how a document reads, and the rules on what it may allow.

The rules on roles (who may assume one, what gets attached, who may pass it on, and no users or keys) are in
``ram_roles.py``; both modules read documents with :func:`policy_statements` from here.

Checkov has no RAM policy-document check for Alibaba Cloud (anchors.md §2.3); these mirror the AWS IAM checks'
intent and close the bypasses the security review found (shared/reference/security-review.md F1, F4-F7).

Documents come from every type that holds one, with the same checks for each: ``ram.Policy`` (``policyDocument``,
the deprecated ``document`` / ``statements``), ``resourcemanager.Policy`` and ``resourcemanager.PolicyVersion``
(``policyDocument``). Property names are those of the generated pulumi-alicloud 4.0.0 SDK
(``pulumi_alicloud/ram/policy.py``, ``resourcemanager/policy.py``).

RAM policy grammar (Alibaba Cloud RAM docs, "Policy elements" and "Policy structure and syntax"): ``Effect``,
``Action`` / ``NotAction``, ``Resource`` / ``NotResource``, ``Condition``; a value may be a string or a list; ARNs are
``acs:<service>:<region>:<account>:<relative id>`` and ``*`` matches anything in any segment.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from .common import (
    RAM_POLICY,
    RM_POLICY,
    RM_POLICY_VERSION,
    MalformedDocument,
    Settings,
    as_list,
    json_object,
    names_by_key_setting,
    names_setting,
    peek,
)

POLICY_TYPES: Final = (RAM_POLICY, RM_POLICY, RM_POLICY_VERSION)


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_actions: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()

    @property
    def allows(self) -> bool:
        return self.effect.lower() == "allow"


def json_document(props: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any] | None:
    """The JSON document under the first of ``keys`` that is set (current name first, then deprecated)."""
    for key in keys:
        if props.get(key) is not None:
            return json_object(props.get(key), key)
    return None


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(map(str, as_list(value)))


def policy_statements(props: Mapping[str, Any]) -> list[Statement]:
    """Every statement of a policy document, whichever of its forms the program used."""
    document = json_document(props, ("policyDocument", "document"))
    if document is not None:
        return [
            Statement(
                str(item.get("Effect", "")),
                _strings(item.get("Action")),
                _strings(item.get("Resource")),
                _strings(item.get("NotAction")),
                _strings(item.get("NotResource")),
            )
            for item in as_list(document.get("Statement"))
            if isinstance(item, Mapping)
        ]
    return [
        Statement(str(item.get("effect", "")), _strings(item.get("actions")), _strings(item.get("resources")))
        for item in as_list(props.get("statements"))
        if isinstance(item, Mapping)
    ]


def policy_name(args: ResourceValidationArgs | PolicyResource) -> str:
    return str(peek(args.props, "policyName") or peek(args.props, "name") or args.name)


def what(resource_type: str) -> str:
    """How a message names the resource: ``RAM policy``, ``resourcemanager policy`` or ``resourcemanager role``."""
    if "resourcemanager" in resource_type:
        return "resourcemanager policy" if "olicy" in resource_type else "resourcemanager role"
    return "RAM policy"


def _statements_or_report(args: ResourceValidationArgs, report: ReportViolation) -> list[Statement] | None:
    if args.resource_type not in POLICY_TYPES:
        return None
    try:
        return policy_statements(args.props)
    except MalformedDocument as error:
        report(
            f"{what(args.resource_type)} '{policy_name(args)}': {error}, so what it allows cannot be checked. Fix "
            f"the policy document.",
            None,
        )
        return None


# --- ram-no-wildcard-actions ----------------------------------------------------------------------


def validate_actions(args: ResourceValidationArgs, report: ReportViolation) -> None:
    statements = _statements_or_report(args, report)
    if not statements:
        return
    found = sorted({action for s in statements if s.allows for action in s.actions if "*" in action})
    if found:
        name = policy_name(args)
        report(
            f"{what(args.resource_type)} '{name}' allows actions by wildcard ({', '.join(found)}), which grants "
            f"whatever the service adds under that name. List each action the role needs (e.g. oss:GetObject); "
            f"wildcard actions have no exemption.",
            None,
        )


ram_no_wildcard_actions = ResourceValidationPolicy(
    name="ram-no-wildcard-actions",
    description="RAM policies allow named actions: no '*' anywhere in an action ('*', '*:*', 'oss:*', 'oss:Put*').",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_actions,
)

# --- ram-no-wildcard-resources --------------------------------------------------------------------

WILDCARDS = Settings(
    exemptActions=names_by_key_setting(
        {},
        "Per policy name, the actions that may have Resource '*' because RAM authorizes them per operation only "
        "(each pair needs a reviewed reason). A statement passes only when every one of its actions is listed.",
    )
)


def scoped_object_prefix(service: str, path: str) -> bool:
    """``<bucket>/<prefix>/*`` of one named OSS bucket: the only wildcard resource a pai-mlops role needs."""
    bucket, slash, key = path.partition("/")
    prefix = key[:-1]
    return (
        service.lower() == "oss"
        and bool(slash)
        and bool(bucket)
        and "*" not in bucket
        and key.endswith("*")
        and bool(prefix)
        and prefix.endswith("/")
        and "*" not in prefix
    )


def wildcard_resource(resource: str) -> bool:
    """Whether ``resource`` names more than it should: ``*`` in the service or the relative id, or a partial ``*``.

    A whole ``*`` region or account segment is allowed (OSS bucket names are global; the project's documents use
    ``acs:oss:*:*:<bucket>/<prefix>*``); a wildcard relative id is allowed only as a prefix of one named bucket.
    """
    if "*" not in resource:
        return False
    parts = resource.split(":", 4)
    if len(parts) != 5 or parts[0].lower() != "acs":
        return True
    _, service, region, account, path = parts
    if "*" in service or (region != "*" and "*" in region) or (account != "*" and "*" in account):
        return True
    return "*" in path and not scoped_object_prefix(service, path)


def validate_resources(args: ResourceValidationArgs, report: ReportViolation) -> None:
    statements = _statements_or_report(args, report)
    if not statements:
        return
    name = policy_name(args)
    exempt = {a.lower() for a in WILDCARDS.get(args, "exemptActions").get(name, [])}
    found: set[str] = set()
    for statement in (s for s in statements if s.allows):
        operation_only = bool(statement.actions) and all(a.lower() in exempt for a in statement.actions)
        for resource in statement.resources:
            if wildcard_resource(resource) and not (resource == "*" and operation_only):
                found.add(resource)
    if found:
        report(
            f"{what(args.resource_type)} '{name}' allows resources by wildcard ({', '.join(sorted(found))}). Name "
            f"the resources, e.g. acs:oss:*:*:<bucket>/<prefix>/* for objects of one bucket; an action RAM authorizes "
            f"only per operation may have Resource '*' when listed under this policy's exemptActions['{name}'].",
            None,
        )


ram_no_wildcard_resources = ResourceValidationPolicy(
    name="ram-no-wildcard-resources",
    description="RAM policies allow named resources: no '*' ARN segment but '<bucket>/<prefix>/*' of a named bucket.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_resources,
    config_schema=WILDCARDS.schema(),
)

# --- ram-no-not-action ----------------------------------------------------------------------------


def validate_not(args: ResourceValidationArgs, report: ReportViolation) -> None:
    statements = _statements_or_report(args, report)
    if not statements:
        return
    keys = sorted(
        {
            key
            for s in statements
            if s.allows
            for key, v in (("NotAction", s.not_actions), ("NotResource", s.not_resources))
            if v
        }
    )
    if keys:
        report(
            f"{what(args.resource_type)} '{policy_name(args)}' allows with {' and '.join(keys)}, which grants "
            f"everything except what it names (including actions and resources added later). Use Action and "
            f"Resource with the names that are needed.",
            None,
        )


ram_no_not_action = ResourceValidationPolicy(
    name="ram-no-not-action",
    description="RAM policies never Allow with NotAction or NotResource.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_not,
)

# --- ram-no-escalation-actions --------------------------------------------------------------------

ESCALATION = Settings(
    deniedActions=names_setting(
        # Writes to RAM and Resource Management (new policy versions, attachments, users, keys, trust), assuming
        # other roles, and the OSS/KMS/FC calls that expose data or hand a role to new code.
        [
            "ram:Create*",
            "ram:Attach*",
            "ram:Detach*",
            "ram:Update*",
            "ram:Delete*",
            "ram:Set*",
            "ram:Add*",
            "ram:Remove*",
            "ram:Bind*",
            "ram:Change*",
            "resourcemanager:Create*",
            "resourcemanager:Attach*",
            "resourcemanager:Detach*",
            "resourcemanager:Update*",
            "resourcemanager:Delete*",
            "resourcemanager:Set*",
            "sts:AssumeRole",
            "oss:PutBucketAcl",
            "oss:PutBucketPolicy",
            "oss:DeleteBucketPolicy",
            "oss:PutObjectAcl",
            "oss:PutBucketPublicAccessBlock",
            "oss:DeleteBucketPublicAccessBlock",
            "oss:PutPublicAccessBlock",
            "oss:DeletePublicAccessBlock",
            "oss:PutAccessPointPolicy",
            "oss:DeleteObjectVersion",
            "oss:PutBucketVersioning",
            "oss:PutBucketEncryption",
            "oss:DeleteBucketEncryption",
            "oss:DeleteBucketLogging",
            "oss:DeleteBucket",
            "kms:SetKeyPolicy",
            "kms:SetSecretPolicy",
            "kms:ScheduleKeyDeletion",
            "kms:DisableKey",
            "fc:CreateTrigger",
            "fc:UpdateTrigger",
            "fc:UpdateFunction",
        ],
        "Actions (fnmatch patterns, case-insensitive) no pai-mlops policy may allow.",
    )
)


def denied(actions: Iterable[str], patterns: Sequence[str]) -> list[str]:
    lowered = [pattern.lower() for pattern in patterns]
    return sorted({a for a in actions if any(fnmatch.fnmatchcase(a.lower(), p) for p in lowered)})


def validate_escalation(args: ResourceValidationArgs, report: ReportViolation) -> None:
    statements = _statements_or_report(args, report)
    if not statements:
        return
    found = denied((a for s in statements if s.allows for a in s.actions), ESCALATION.get(args, "deniedActions"))
    if found:
        report(
            f"{what(args.resource_type)} '{policy_name(args)}' allows {', '.join(found)}: with these a workload can "
            f"widen its own permissions, hand itself another role, or make data public. Remove them; changes to RAM, "
            f"ACLs, bucket and key policies are made by the deployment, not by the workloads' roles.",
            None,
        )


ram_no_escalation_actions = ResourceValidationPolicy(
    name="ram-no-escalation-actions",
    description="RAM policies never allow privilege-escalation or exposure actions (RAM writes, ACLs, key policy).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_escalation,
    config_schema=ESCALATION.schema(),
)

POLICIES: Final = [
    ram_no_wildcard_actions,
    ram_no_wildcard_resources,
    ram_no_not_action,
    ram_no_escalation_actions,
]
