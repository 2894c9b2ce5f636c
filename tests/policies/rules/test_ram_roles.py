"""RAM roles on fixtures (policies/rules/ram_roles.py): no users or keys, per-role trust, attachments and PassRole,
on every type that holds a trust document or an attachment (ram and resourcemanager alike)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pulumi_policy import EnforcementLevel

from components.ram_documents import trust_policy
from policies.rules import ram_roles
from policies.rules.common import (
    RAM_ACCESS_KEY,
    RAM_LOGIN_PROFILE,
    RAM_POLICY,
    RAM_ROLE,
    RAM_ROLE_ATTACHMENT,
    RAM_USER,
    RM_ATTACHMENT,
    RM_ROLE,
)
from tests.support.policy_harness import UNKNOWN, Fixture, allow, check, check_stack, ram_policy


def test_policy_metadata() -> None:
    assert [(p.name, p.enforcement_level, type(p).__name__) for p in ram_roles.POLICIES] == [
        ("ram-no-users-or-keys", EnforcementLevel.MANDATORY, "ResourceValidationPolicy"),
        ("ram-trusted-service-principals", EnforcementLevel.MANDATORY, "ResourceValidationPolicy"),
        ("ram-attachments-reviewed", EnforcementLevel.MANDATORY, "StackValidationPolicy"),
        ("ram-pass-role-own-roles", EnforcementLevel.MANDATORY, "StackValidationPolicy"),
    ]


# --- ram-no-users-or-keys


@pytest.mark.parametrize(
    ("resource_type", "kind"),
    [(RAM_USER, "User"), (RAM_ACCESS_KEY, "AccessKey"), (RAM_LOGIN_PROFILE, "LoginProfile")],
)
def test_users_passwords_and_access_keys_are_refused(resource_type: str, kind: str) -> None:
    assert check(ram_roles.ram_no_users_or_keys, resource_type, {"userName": "ci"}, name="ci") == [
        f"{kind} 'ci': pai-mlops creates no RAM users, passwords or long-lived AccessKeys (a leaked key works until "
        "someone revokes it). Workloads use RAM roles; CI assumes a role through GitHub OIDC (docs/ci-cd.md). "
        "Remove the resource."
    ]


# --- ram-trusted-service-principals


def role(trust: dict[str, Any], name: str = "pai-mlops-prod-dlc") -> dict[str, Any]:
    return {"roleName": name, "assumeRolePolicyDocument": json.dumps(trust)}


def trust_fix(role_name: str, expected: str, kind: str = "RAM role") -> str:
    return (
        f"this role is for {expected} only. Remove the other principals from the trust policy, or map the role's "
        "name to them in this policy's principals (reviewed in policies/config)."
    )


def test_trust_fires_on_accounts_other_services_and_anyone() -> None:
    trust = {
        "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": ["acs:ram::1234:root"]}},
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": ["ecs.aliyuncs.com"]}},
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": "*"},
        ]
    }
    assert check(ram_roles.ram_trusted_service_principals, RAM_ROLE, role(trust)) == [
        "RAM role 'pai-mlops-prod-dlc' can be assumed by *:*, RAM:acs:ram::1234:root, Service:ecs.aliyuncs.com; "
        + trust_fix("pai-mlops-prod-dlc", "pai.aliyuncs.com")
    ]


def test_trusted_principals_are_per_role() -> None:
    # OSS may assume the trigger's invocation role, not the data role (security review F7).
    oss = role(trust_policy(["oss.aliyuncs.com"]))
    assert check(ram_roles.ram_trusted_service_principals, RAM_ROLE, oss) == [
        "RAM role 'pai-mlops-prod-dlc' can be assumed by Service:oss.aliyuncs.com; "
        + trust_fix("pai-mlops-prod-dlc", "pai.aliyuncs.com")
    ]
    invoker = role(trust_policy(["oss.aliyuncs.com"]), name="pai-mlops-prod-fraud-retraining-start-oss")
    assert check(ram_roles.ram_trusted_service_principals, RAM_ROLE, invoker) == []
    unmatched = role(trust_policy(["pai.aliyuncs.com"]), name="pai-mlops-prod-admin")
    assert check(ram_roles.ram_trusted_service_principals, RAM_ROLE, unmatched) == [
        "RAM role 'pai-mlops-prod-admin' can be assumed by Service:pai.aliyuncs.com; "
        + trust_fix("pai-mlops-prod-admin", "nobody (no pattern matches it)")
    ]


def test_trust_applies_to_resourcemanager_roles_and_the_deprecated_forms() -> None:
    rm = role(trust_policy(["ecs.aliyuncs.com"]))
    assert check(ram_roles.ram_trusted_service_principals, RM_ROLE, rm) == [
        "resourcemanager role 'pai-mlops-prod-dlc' can be assumed by Service:ecs.aliyuncs.com; "
        + trust_fix("pai-mlops-prod-dlc", "pai.aliyuncs.com")
    ]
    props = {"roleName": "x-dsw", "services": ["pai.aliyuncs.com"], "ramUsers": ["acs:ram::1234:root"]}
    assert check(ram_roles.ram_trusted_service_principals, RAM_ROLE, props) == [
        "RAM role 'x-dsw' can be assumed by RAM:acs:ram::1234:root; " + trust_fix("x-dsw", "pai.aliyuncs.com")
    ]


def test_trust_is_quiet_for_the_configured_principals() -> None:
    assert check(ram_roles.ram_trusted_service_principals, RAM_ROLE, role(trust_policy(["pai.aliyuncs.com"]))) == []
    both = role(trust_policy(["pai.aliyuncs.com", "eas.pai.aliyuncs.com"]))
    assert len(check(ram_roles.ram_trusted_service_principals, RAM_ROLE, both)) == 1
    allowed = {"principals": {"*-dlc": ["pai.aliyuncs.com", "eas.pai.aliyuncs.com"]}}
    assert check(ram_roles.ram_trusted_service_principals, RAM_ROLE, both, config=allowed) == []


# --- ram-attachments-reviewed

OWN = Fixture(RAM_POLICY, "own", {"policyName": "pai-mlops-prod-dlc-oss"})


def attachment(policy: Any, kind: str = "Custom", resource_type: str = RAM_ROLE_ATTACHMENT) -> Fixture:
    return Fixture(resource_type, "attach", {"policyName": policy, "policyType": kind, "roleName": "r"})


def test_system_policies_need_the_allow_list() -> None:
    found = check_stack(ram_roles.ram_attachments_reviewed, [attachment("AdministratorAccess", "System")])
    assert found == [
        (
            "attach",
            "RolePolicyAttachment 'attach' attaches the system policy 'AdministratorAccess'; system policies grant "
            "whole services (e.g. AdministratorAccess, AliyunOSSFullAccess). Attach a custom policy of this stack "
            "with the named actions, or add the policy to allowedSystemPolicies with a reviewed reason.",
        )
    ]
    config = {"allowedSystemPolicies": ["AliyunPAIReadOnlyAccess"]}
    assert (
        check_stack(ram_roles.ram_attachments_reviewed, [attachment("AliyunPAIReadOnlyAccess", "System")], config) == []
    )


def test_custom_attachments_name_a_policy_of_this_stack() -> None:
    assert check_stack(ram_roles.ram_attachments_reviewed, [OWN, attachment("pai-mlops-prod-dlc-oss")]) == []
    by_dependency = Fixture(
        RAM_ROLE_ATTACHMENT, "attach", {"policyName": UNKNOWN, "policyType": "Custom"}, depends_on={"policyName": [OWN]}
    )
    assert check_stack(ram_roles.ram_attachments_reviewed, [OWN, by_dependency]) == []
    assert check_stack(
        ram_roles.ram_attachments_reviewed, [OWN, attachment("legacy-admin", resource_type=RM_ATTACHMENT)]
    ) == [
        (
            "attach",
            "PolicyAttachment 'attach' attaches 'legacy-admin' (policy type Custom), which is not a policy this stack "
            "defines, so the pack cannot see what it allows. Define the policy in the program (ram.Policy) and "
            "attach that.",
        )
    ]


# --- ram-pass-role-own-roles


def test_pass_role_names_only_this_stacks_roles() -> None:
    dlc = Fixture(RAM_ROLE, "dlc", {"roleName": "pai-mlops-prod-dlc"})
    ok = Fixture(RAM_POLICY, "ok", ram_policy(allow("ram:PassRole", "acs:ram::123:role/pai-mlops-prod-dlc")))
    assert check_stack(ram_roles.ram_pass_role_own_roles, [dlc, ok]) == []
    wide = Fixture(
        RAM_POLICY,
        "wide",
        ram_policy(allow(["ram:PassRole"], ["acs:ram::123:role/pai-mlops-prod-dlc", "acs:ram::123:role/admin"])),
    )
    assert check_stack(ram_roles.ram_pass_role_own_roles, [dlc, wide]) == [
        (
            "wide",
            "RAM policy 'p1' allows ram:PassRole on acs:ram::123:role/admin: a workload could hand itself a role this "
            "stack does not define. Name each role of this stack by ARN (acs:ram::<account>:role/<roleName>).",
        )
    ]
    unknown = Fixture(RAM_POLICY, "later", {"policyName": "later", "policyDocument": UNKNOWN})
    assert check_stack(ram_roles.ram_pass_role_own_roles, [dlc, unknown]) == []
