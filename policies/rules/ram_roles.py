"""RAM roles are the only principals: no users or keys, who may assume each role, what is attached to it, and
which roles a policy may pass on.

Checkov has no RAM trust-policy check for Alibaba Cloud (anchors.md §2.3); these mirror the AWS IAM checks' intent
and close the bypasses the security review found (shared/reference/security-review.md F1, F4-F7). Trust comes from
``ram.Role`` and ``resourcemanager.Role`` (``assumeRolePolicyDocument``, the deprecated ``document`` / ``services``
/ ``ramUsers``; pulumi-alicloud 4.0.0 ``pulumi_alicloud/ram/role.py``, ``resourcemanager/role.py``). Policy
documents are read as ``ram.py`` reads them (:func:`policy_statements`), so both modules see the same statements.

A trust policy follows the RAM policy grammar (RAM docs, "Policy elements"): ``Principal`` / ``NotPrincipal`` name
who may call ``sts:AssumeRole``, by kind (``Service``, ``RAM``, ``Federated``) or ``*``.
"""

from __future__ import annotations

import fnmatch
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
    RM_ROLE,
    MalformedDocument,
    Settings,
    as_list,
    names_by_key_setting,
    names_setting,
    peek,
    short_type,
)
from .ram import POLICY_TYPES, json_document, policy_name, policy_statements, what

ROLE_TYPES: Final = (RAM_ROLE, RM_ROLE)
ATTACHMENT_TYPES: Final = (RAM_ROLE_ATTACHMENT, RAM_USER_ATTACHMENT, RAM_GROUP_ATTACHMENT, RM_ATTACHMENT)
PASS_ROLE: Final = "ram:passrole"
# acs:ram::<account>:role/<name>: one named role (RAM ARNs have an empty region; RAM docs, "RAM role ARN").
ROLE_ARN: Final = re.compile(r"acs:ram::(?P<account>[0-9]+):role/(?P<name>[A-Za-z0-9.\-]+)", re.IGNORECASE)


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
            f"{what(args.resource_type).replace('policy', 'role')} '{role}': {error}, so who may assume it cannot be "
            f"checked. Fix the trust policy.",
            None,
        )
        return
    others = sorted(set(principals) - allowed)
    if others:
        expected = ", ".join(sorted(a.removeprefix("Service:") for a in allowed)) or "nobody (no pattern matches it)"
        holder = what(args.resource_type).replace("policy", "role")
        report(
            f"{holder} '{role}' can be assumed by {', '.join(others)}; this role is for "
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
                f"{what(resource.resource_type)} '{policy_name(resource)}' allows ram:PassRole on "
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
    ram_no_users_or_keys,
    ram_trusted_service_principals,
    ram_attachments_reviewed,
    ram_pass_role_own_roles,
]
