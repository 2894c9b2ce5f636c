"""RAM without loopholes: what a policy allows, who may assume a role, what gets attached, and no users or keys.

Checkov has no RAM policy-document or trust-policy check for Alibaba Cloud (anchors.md §2.3); these mirror the AWS
IAM checks' intent and close the bypasses the security review found (shared/reference/security-review.md F1, F4-F7).

Documents come from every type that holds one, with the same checks for each: ``ram.Policy`` (``policyDocument``,
the deprecated ``document`` / ``statements``), ``resourcemanager.Policy`` and ``resourcemanager.PolicyVersion``
(``policyDocument``); trust from ``ram.Role`` and ``resourcemanager.Role`` (``assumeRolePolicyDocument``, the
deprecated ``document`` / ``services`` / ``ramUsers``). Property names are those of the generated pulumi-alicloud
4.0.0 SDK (``pulumi_alicloud/ram/policy.py``, ``resourcemanager/policy.py``, ``resourcemanager/role.py``).

RAM policy grammar (Alibaba Cloud RAM docs, "Policy elements" and "Policy structure and syntax"): ``Effect``,
``Action`` / ``NotAction``, ``Resource`` / ``NotResource``, ``Condition``; a value may be a string or a list; ARNs are
``acs:<service>:<region>:<account>:<relative id>`` and ``*`` matches anything in any segment.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
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
    RAM_ACCESS_KEY,
    RAM_GROUP_ATTACHMENT,
    RAM_LOGIN_PROFILE,
    RAM_POLICY,
    RAM_ROLE,
    RAM_ROLE_ATTACHMENT,
    RAM_USER,
    RAM_USER_ATTACHMENT,
    RM_ATTACHMENT,
    RM_POLICY,
    RM_POLICY_VERSION,
    RM_ROLE,
    MalformedDocument,
    Settings,
    as_list,
    json_object,
    names_by_key_setting,
    names_setting,
    peek,
    short_type,
)

POLICY_TYPES: Final = (RAM_POLICY, RM_POLICY, RM_POLICY_VERSION)
ROLE_TYPES: Final = (RAM_ROLE, RM_ROLE)
ATTACHMENT_TYPES: Final = (RAM_ROLE_ATTACHMENT, RAM_USER_ATTACHMENT, RAM_GROUP_ATTACHMENT, RM_ATTACHMENT)
PASS_ROLE: Final = "ram:passrole"
# acs:ram::<account>:role/<name>: one named role (RAM ARNs have an empty region; RAM docs, "RAM role ARN").
ROLE_ARN: Final = re.compile(r"acs:ram::(?P<account>[0-9]+):role/(?P<name>[A-Za-z0-9.\-]+)", re.IGNORECASE)


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


def _what(resource_type: str) -> str:
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
            f"{_what(args.resource_type)} '{policy_name(args)}': {error}, so what it allows cannot be checked. Fix "
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
            f"{_what(args.resource_type)} '{name}' allows actions by wildcard ({', '.join(found)}), which grants "
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
            f"{_what(args.resource_type)} '{name}' allows resources by wildcard ({', '.join(sorted(found))}). Name "
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
            f"{_what(args.resource_type)} '{policy_name(args)}' allows with {' and '.join(keys)}, which grants "
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
            f"{_what(args.resource_type)} '{policy_name(args)}' allows {', '.join(found)}: with these a workload can "
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

# --- ram-no-users-or-keys -------------------------------------------------------------------------

USER_TYPES: Final = (RAM_USER, RAM_ACCESS_KEY, RAM_LOGIN_PROFILE, RAM_USER_ATTACHMENT)


def validate_users(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in USER_TYPES:
        return
    report(
        f"{short_type(args.resource_type)} '{args.name}': pai-mlops creates no RAM users, passwords or long-lived "
        f"AccessKeys (a leaked key works until someone revokes it). Workloads use RAM roles; CI assumes a role "
        f"through GitHub OIDC (docs/ci-cd.md). Remove the resource.",
        None,
    )


ram_no_users_or_keys = ResourceValidationPolicy(
    name="ram-no-users-or-keys",
    description="No RAM users, login profiles, user policy attachments or long-lived AccessKeys.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_users,
)

# --- ram-trusted-service-principals ---------------------------------------------------------------

TRUST = Settings(
    principals=names_by_key_setting(
        {
            "*-dsw": ["pai.aliyuncs.com"],
            "*-dlc": ["pai.aliyuncs.com"],
            "*-eas": ["pai.aliyuncs.com"],
            "*-start": ["fc.aliyuncs.com"],
            "*-start-oss": ["oss.aliyuncs.com"],
        },
        "Role name pattern (fnmatch) → who may assume matching roles: a service ('pai.aliyuncs.com') or "
        "'<kind>:<principal>' (e.g. 'RAM:acs:ram::123:root'). A role no pattern matches may be assumed by nobody.",
    )
)


def trusted_principals(props: Mapping[str, Any]) -> list[str]:
    """Who may assume the role, as ``<kind>:<principal>`` (``Service:pai.aliyuncs.com``, ``RAM:acs:ram::1:root``)."""
    document = json_document(props, ("assumeRolePolicyDocument", "document"))
    if document is None:
        services = [f"Service:{service}" for service in as_list(props.get("services"))]
        return services + [f"RAM:{user}" for user in as_list(props.get("ramUsers"))]
    found: list[str] = []
    for statement in as_list(document.get("Statement")):
        if not isinstance(statement, Mapping) or str(statement.get("Effect", "")).lower() != "allow":
            continue
        if "NotPrincipal" in statement:
            found.append(f"NotPrincipal:{statement.get('NotPrincipal')}")
        principal = statement.get("Principal")
        if not isinstance(principal, Mapping):
            if principal is not None or "NotPrincipal" not in statement:
                found.append(f"*:{principal}")
            continue
        for kind, values in principal.items():
            found += [f"{kind}:{value}" for value in as_list(values)]
    return found


def _allowed_for(role: str, patterns: Mapping[str, Sequence[str]]) -> set[str]:
    allowed: set[str] = set()
    for pattern, principals in patterns.items():
        if fnmatch.fnmatchcase(role.lower(), pattern.lower()):
            allowed |= {p if ":" in p else f"Service:{p}" for p in principals}
    return allowed


def validate_trust(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in ROLE_TYPES:
        return
    role = str(args.props.get("roleName") or args.props.get("name") or args.name)
    allowed = _allowed_for(role, TRUST.get(args, "principals"))
    try:
        principals = trusted_principals(args.props)
    except MalformedDocument as error:
        report(
            f"{_what(args.resource_type).replace('policy', 'role')} '{role}': {error}, so who may assume it cannot be "
            f"checked. Fix the trust policy.",
            None,
        )
        return
    others = sorted(set(principals) - allowed)
    if others:
        expected = ", ".join(sorted(a.removeprefix("Service:") for a in allowed)) or "nobody (no pattern matches it)"
        what = _what(args.resource_type).replace("policy", "role")
        report(
            f"{what} '{role}' can be assumed by {', '.join(others)}; this role is for "
            f"{expected} only. Remove the other principals from the trust policy, or map the role's name to them in "
            f"this policy's principals (reviewed in policies/config).",
            None,
        )


ram_trusted_service_principals = ResourceValidationPolicy(
    name="ram-trusted-service-principals",
    description="Each RAM role can be assumed only by the principals configured for its name.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_trust,
    config_schema=TRUST.schema(),
)

# --- ram-attachments-reviewed (stack) -------------------------------------------------------------

ATTACHMENTS = Settings(
    allowedSystemPolicies=names_setting(
        [], "System (Alibaba-managed) policies that may be attached; each needs a reviewed reason."
    )
)


def _own_policies(resources: Sequence[PolicyResource]) -> tuple[set[str], set[str]]:
    """Names (lowercase) and URNs of the custom policies this stack defines."""
    own = [r for r in resources if r.resource_type in (RAM_POLICY, RM_POLICY)]
    names = {str(peek(r.props, "policyName") or peek(r.props, "name") or "").lower() for r in own}
    return names - {""}, {r.urn for r in own}


def validate_attachments(args: StackValidationArgs, report: ReportViolation) -> None:
    allowed = {name.lower() for name in ATTACHMENTS.get(args, "allowedSystemPolicies")}
    names, urns = _own_policies(args.resources)
    for attachment in (r for r in args.resources if r.resource_type in ATTACHMENT_TYPES):
        policy = peek(attachment.props, "policyName")
        kind = str(peek(attachment.props, "policyType") or "")
        label = f"{short_type(attachment.resource_type)} '{attachment.name}'"
        if kind.lower() == "system":
            if not isinstance(policy, str) or policy.lower() not in allowed:
                report(
                    f"{label} attaches the system policy {policy!r}; system policies grant whole services (e.g. "
                    f"AdministratorAccess, AliyunOSSFullAccess). Attach a custom policy of this stack with the named "
                    f"actions, or add the policy to allowedSystemPolicies with a reviewed reason.",
                    attachment.urn,
                )
            continue
        depends = any(dep.urn in urns for dep in attachment.property_dependencies.get("policyName", []))
        if not depends and not (isinstance(policy, str) and policy.lower() in names):
            report(
                f"{label} attaches {policy!r} (policy type {kind or 'not set'}), which is not a policy this stack "
                f"defines, so the pack cannot see what it allows. Define the policy in the program (ram.Policy) and "
                f"attach that.",
                attachment.urn,
            )


ram_attachments_reviewed = StackValidationPolicy(
    name="ram-attachments-reviewed",
    description="Policy attachments name this stack's own custom policies or an allow-listed system policy.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_attachments,
    config_schema=ATTACHMENTS.schema(),
)

# --- ram-pass-role-own-roles (stack) --------------------------------------------------------------


def _pass_role_targets(resource: PolicyResource) -> list[str]:
    try:
        statements = policy_statements(resource.props)
    except MalformedDocument:
        return []  # the resource policies report a broken document
    return [r for s in statements if s.allows and PASS_ROLE in {a.lower() for a in s.actions} for r in s.resources]


def validate_pass_role(args: StackValidationArgs, report: ReportViolation) -> None:
    roles = {str(peek(r.props, "roleName") or "").lower() for r in args.resources if r.resource_type in ROLE_TYPES}
    for resource in (r for r in args.resources if r.resource_type in POLICY_TYPES):
        if peek(resource.props, "policyDocument", unknown="") == "":
            continue  # unknown until `pulumi up`: the resource policies check it then
        outside: list[str] = []
        for target in _pass_role_targets(resource):
            match = ROLE_ARN.fullmatch(target)
            if match is None or match["name"].lower() not in roles:
                outside.append(target)
        if outside:
            report(
                f"{_what(resource.resource_type)} '{policy_name(resource)}' allows ram:PassRole on "
                f"{', '.join(sorted(outside))}: a workload could hand itself a role this stack does not define. Name "
                f"each role of this stack by ARN (acs:ram::<account>:role/<roleName>).",
                resource.urn,
            )


ram_pass_role_own_roles = StackValidationPolicy(
    name="ram-pass-role-own-roles",
    description="ram:PassRole names only roles this stack defines, each by its ARN.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_pass_role,
)

POLICIES: Final = [
    ram_no_wildcard_actions,
    ram_no_wildcard_resources,
    ram_no_not_action,
    ram_no_escalation_actions,
    ram_no_users_or_keys,
    ram_trusted_service_principals,
    ram_attachments_reviewed,
    ram_pass_role_own_roles,
]
