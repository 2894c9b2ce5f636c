"""RAM: no wildcard actions or resources in what a policy allows, and roles only PAI can assume.

Checkov has no RAM policy-document or trust-policy check for Alibaba Cloud (anchors.md §2.3); these
mirror the AWS IAM checks' intent. Statements come from ``ram.Policy`` ``policyDocument`` (or the
deprecated ``document`` / ``statements``); trust from ``ram.Role`` ``assumeRolePolicyDocument`` (or the
deprecated ``document`` / ``services`` / ``ramUsers``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .common import RAM_POLICY, RAM_ROLE, MalformedDocument, Settings, as_list, json_object

WILDCARD_ACTION: Final = re.compile(r"\*|[a-z0-9-]+:\*", re.IGNORECASE)
WILDCARD_RESOURCE: Final = re.compile(r"\*|acs:[^:]+:\*:\*:\*", re.IGNORECASE)


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]


def json_document(props: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any] | None:
    """The JSON document under the first of ``keys`` that is set (current name first, then deprecated)."""
    for key in keys:
        if props.get(key) is not None:
            return json_object(props.get(key), key)
    return None


def _statements(items: Any, effect: str, action: str, resource: str) -> list[Statement]:
    return [
        Statement(
            str(item.get(effect, "")),
            tuple(map(str, as_list(item.get(action)))),
            tuple(map(str, as_list(item.get(resource)))),
        )
        for item in as_list(items)
        if isinstance(item, Mapping)
    ]


def policy_statements(props: Mapping[str, Any]) -> list[Statement]:
    """Every statement of a ``ram.Policy``, whichever of its three forms the program used."""
    document = json_document(props, ("policyDocument", "document"))
    if document is not None:
        return _statements(document.get("Statement"), "Effect", "Action", "Resource")
    return _statements(props.get("statements"), "effect", "actions", "resources")


def policy_name(args: ResourceValidationArgs) -> str:
    return str(args.props.get("policyName") or args.props.get("name") or args.name)


WILDCARDS = Settings(
    exemptPolicies={
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "description": "RAM policy names (policyName) allowed to use wildcards; each needs a reviewed reason.",
    }
)


def _wildcards(args: ResourceValidationArgs, report: ReportViolation, field: str) -> None:
    if args.resource_type != RAM_POLICY:
        return
    name = policy_name(args)
    if name in WILDCARDS.get(args, "exemptPolicies"):
        args.not_applicable(f"RAM policy '{name}' is exempt by name (exemptPolicies)")
    try:
        statements = policy_statements(args.props)
    except MalformedDocument as error:
        report(f"RAM policy '{name}': {error}, so what it allows cannot be checked. Fix the policy document.", None)
        return
    pattern = WILDCARD_ACTION if field == "actions" else WILDCARD_RESOURCE
    found = sorted(
        {value for s in statements if s.effect == "Allow" for value in getattr(s, field) if pattern.fullmatch(value)}
    )
    if not found:
        return
    if field == "actions":
        report(
            f"RAM policy '{name}' allows every action of a service ({', '.join(found)}). Grant only the actions "
            f"the role needs (e.g. oss:GetObject), or list '{name}' in this policy's exemptPolicies with a reason.",
            None,
        )
    else:
        report(
            f"RAM policy '{name}' allows access to every resource ({', '.join(found)}). Name the resources, "
            f"e.g. acs:oss:*:*:<bucket>/<prefix>*, or list '{name}' in this policy's exemptPolicies with a reason.",
            None,
        )


def validate_actions(args: ResourceValidationArgs, report: ReportViolation) -> None:
    _wildcards(args, report, "actions")


def validate_resources(args: ResourceValidationArgs, report: ReportViolation) -> None:
    _wildcards(args, report, "resources")


ram_no_wildcard_actions = ResourceValidationPolicy(
    name="ram-no-wildcard-actions",
    description="RAM policies allow named actions, never '*' or '<service>:*'.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_actions,
    config_schema=WILDCARDS.schema(),
)
ram_no_wildcard_resources = ResourceValidationPolicy(
    name="ram-no-wildcard-resources",
    description="RAM policies allow named resources, never '*' or every resource of a service.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_resources,
    config_schema=WILDCARDS.schema(),
)

# --- ram-trusted-service-principals -------------------------------------------------------------

TRUST = Settings(
    principals={
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "default": ["pai.aliyuncs.com"],
        "description": "Service principals allowed to assume pai-mlops roles.",
    }
)


def trusted_principals(props: Mapping[str, Any]) -> list[str]:
    """Who may assume the role, as ``<kind>:<principal>`` (``Service:pai.aliyuncs.com``, ``RAM:acs:ram::1:root``)."""
    document = json_document(props, ("assumeRolePolicyDocument", "document"))
    if document is None:
        services = [f"Service:{service}" for service in as_list(props.get("services"))]
        return services + [f"RAM:{user}" for user in as_list(props.get("ramUsers"))]
    found: list[str] = []
    for statement in as_list(document.get("Statement")):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        if not isinstance(principal, Mapping):
            found.append(f"*:{principal}")
            continue
        for kind, values in principal.items():
            found += [f"{kind}:{value}" for value in as_list(values)]
    return found


def validate_trust(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != RAM_ROLE:
        return
    role = str(args.props.get("roleName") or args.props.get("name") or args.name)
    allowed = [f"Service:{service}" for service in TRUST.get(args, "principals")]
    try:
        principals = trusted_principals(args.props)
    except MalformedDocument as error:
        report(f"RAM role '{role}': {error}, so who may assume it cannot be checked. Fix the trust policy.", None)
        return
    others = sorted(set(principals) - set(allowed))
    if others:
        report(
            f"RAM role '{role}' can be assumed by {', '.join(others)}; pai-mlops roles are for the PAI services "
            f"({', '.join(a.split(':', 1)[1] for a in allowed)}) only. Remove the other principals from the trust "
            f"policy, or add the service to this policy's principals.",
            None,
        )


ram_trusted_service_principals = ResourceValidationPolicy(
    name="ram-trusted-service-principals",
    description="RAM roles can be assumed only by the configured PAI service principals.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_trust,
    config_schema=TRUST.schema(),
)

POLICIES: Final = [ram_no_wildcard_actions, ram_no_wildcard_resources, ram_trusted_service_principals]
