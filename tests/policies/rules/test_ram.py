"""RAM policies on fixtures: wildcards, NotAction, escalation actions, users and keys, per-role trust, attachments
and PassRole, on every type that holds a policy or a trust document (ram and resourcemanager alike)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pulumi_policy import EnforcementLevel

from components.ram_documents import PrefixAccess, kms_key_policy, oss_prefix_policy, trust_policy
from policies.rules import ram
from policies.rules.common import (
    RAM_ACCESS_KEY,
    RAM_LOGIN_PROFILE,
    RAM_POLICY,
    RAM_ROLE,
    RAM_ROLE_ATTACHMENT,
    RAM_USER,
    RM_ATTACHMENT,
    RM_POLICY,
    RM_POLICY_VERSION,
    RM_ROLE,
)
from tests.support.policy_harness import UNKNOWN, Fixture, check, check_stack


def test_policy_metadata() -> None:
    assert [(p.name, p.enforcement_level, type(p).__name__) for p in ram.POLICIES] == [
        ("ram-no-wildcard-actions", EnforcementLevel.MANDATORY, "ResourceValidationPolicy"),
        ("ram-no-wildcard-resources", EnforcementLevel.MANDATORY, "ResourceValidationPolicy"),
        ("ram-no-not-action", EnforcementLevel.MANDATORY, "ResourceValidationPolicy"),
        ("ram-no-escalation-actions", EnforcementLevel.MANDATORY, "ResourceValidationPolicy"),
        ("ram-no-users-or-keys", EnforcementLevel.MANDATORY, "ResourceValidationPolicy"),
        ("ram-trusted-service-principals", EnforcementLevel.MANDATORY, "ResourceValidationPolicy"),
        ("ram-attachments-reviewed", EnforcementLevel.MANDATORY, "StackValidationPolicy"),
        ("ram-pass-role-own-roles", EnforcementLevel.MANDATORY, "StackValidationPolicy"),
    ]


def document(*statements: dict[str, Any], name: str = "p1") -> dict[str, Any]:
    return {"policyName": name, "policyDocument": json.dumps({"Version": "1", "Statement": list(statements)})}


def allow(action: Any, resource: Any = "acs:oss:*:*:acme-data/data/*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


# --- ram-no-wildcard-actions


@pytest.mark.parametrize("action", ["*", "*:*", "oss:*", "oss:Delete*", "ram:*Role*", "OSS:Get?bject*"])
def test_any_star_in_an_action_is_a_wildcard(action: str) -> None:
    assert check(ram.ram_no_wildcard_actions, RAM_POLICY, document(allow([action, "oss:GetObject"]))) == [
        f"RAM policy 'p1' allows actions by wildcard ({action}), which grants whatever the service adds under that "
        "name. List each action the role needs (e.g. oss:GetObject); wildcard actions have no exemption."
    ]


@pytest.mark.parametrize("resource_type", [RM_POLICY, RM_POLICY_VERSION])
def test_resourcemanager_policies_get_the_same_checks(resource_type: str) -> None:
    props = {"policyName": "rm", "policyDocument": json.dumps({"Statement": [allow("*", "*")]})}
    assert check(ram.ram_no_wildcard_actions, resource_type, props) == [
        "resourcemanager policy 'rm' allows actions by wildcard (*), which grants whatever the service adds under "
        "that name. List each action the role needs (e.g. oss:GetObject); wildcard actions have no exemption."
    ]
    assert len(check(ram.ram_no_wildcard_resources, resource_type, props)) == 1


def test_wildcards_in_the_deprecated_statements_form_fire_too() -> None:
    props = {"policyName": "old", "statements": [{"effect": "Allow", "actions": ["ecs:*"], "resources": ["*"]}]}
    assert len(check(ram.ram_no_wildcard_actions, RAM_POLICY, props)) == 1
    assert len(check(ram.ram_no_wildcard_resources, RAM_POLICY, props)) == 1


def test_wildcards_report_a_document_that_is_not_json() -> None:
    assert check(ram.ram_no_wildcard_actions, RAM_POLICY, {"policyName": "bad", "policyDocument": "Statement"}) == [
        "RAM policy 'bad': policyDocument is not valid JSON (Expecting value at character 0), so what it allows "
        "cannot be checked. Fix the policy document."
    ]


# --- ram-no-wildcard-resources

RESOURCE_FIX = (
    "Name the resources, e.g. acs:oss:*:*:<bucket>/<prefix>/* for objects of one bucket; an action RAM authorizes "
    "only per operation may have Resource '*' when listed under this policy's exemptActions['p1']."
)


@pytest.mark.parametrize(
    "resource",
    [
        "*",
        "acs:oss:*:*:*",
        "acs:oss:*:*:*/*",
        "acs:oss:*:1234567890:*",
        "acs:oss:*:*:acme-data/*",
        "acs:oss:*:*:acme-*/data/*",
        "acs:oss:*:*:acme-data/data/*/x",
        "acs:ram:*:*:role/*",
        "acs:*:*:*:thing",
        "acs:oss:cn-*:*:acme-data",
        "acs:oss:*:12*:acme-data",
        "oss*",
    ],
)
def test_wildcard_resources_fire(resource: str) -> None:
    assert check(ram.ram_no_wildcard_resources, RAM_POLICY, document(allow("oss:GetObject", resource))) == [
        f"RAM policy 'p1' allows resources by wildcard ({resource}). {RESOURCE_FIX}"
    ]


def test_the_projects_own_documents_pass_every_document_rule() -> None:
    access = PrefixAccess(read=("data/",), write=("models/m/r1/", "checkpoints/m/r1/"), delete=("checkpoints/m/r1/",))
    for doc in (oss_prefix_policy("acme-data", access), kms_key_policy("acs:kms:cn-hangzhou:1:key/k", encrypt=True)):
        props = {"policyName": "own", "policyDocument": json.dumps(doc)}
        for policy in (
            ram.ram_no_wildcard_actions,
            ram.ram_no_wildcard_resources,
            ram.ram_no_not_action,
            ram.ram_no_escalation_actions,
        ):
            assert check(policy, RAM_POLICY, props) == [], policy.name
    deny = document({"Effect": "Deny", "Action": "*", "Resource": "*", "NotAction": "x"})
    assert check(ram.ram_no_wildcard_actions, RAM_POLICY, deny) == []
    assert check(ram.ram_no_not_action, RAM_POLICY, deny) == []


def test_the_exemption_names_actions_not_a_whole_policy() -> None:
    config = {"exemptActions": {"p1": ["paiflow:CreatePipelineRun", "paiflow:ListPipelineRuns"]}}
    start = document(allow(["paiflow:CreatePipelineRun", "paiflow:ListPipelineRuns"], "*"))
    assert check(ram.ram_no_wildcard_resources, RAM_POLICY, start, config=config) == []
    # The same policy with one more action on '*': the statement is no longer operation-only.
    widened = document(allow(["paiflow:CreatePipelineRun", "oss:GetObject"], "*"))
    assert check(ram.ram_no_wildcard_resources, RAM_POLICY, widened, config=config) == [
        f"RAM policy 'p1' allows resources by wildcard (*). {RESOURCE_FIX}"
    ]
    # An exempt action still may not take a wildcard ARN, only the operation-level '*'.
    arn = document(allow(["paiflow:CreatePipelineRun"], "acs:oss:*:*:*"))
    assert len(check(ram.ram_no_wildcard_resources, RAM_POLICY, arn, config=config)) == 1
    assert len(check(ram.ram_no_wildcard_resources, RAM_POLICY, start, config={"exemptActions": {"p2": ["*"]}})) == 1


# --- ram-no-not-action


@pytest.mark.parametrize(
    ("statement", "keys"),
    [
        ({"Effect": "Allow", "NotAction": "ram:*", "Resource": "acs:oss:*:*:b/data/*"}, "NotAction"),
        ({"Effect": "Allow", "Action": "oss:GetObject", "NotResource": "acs:oss:*:*:b/secret/*"}, "NotResource"),
        ({"Effect": "Allow", "NotAction": ["a:B"], "NotResource": ["x"]}, "NotAction and NotResource"),
    ],
)
def test_allow_with_not_action_or_not_resource_fires(statement: dict[str, Any], keys: str) -> None:
    assert check(ram.ram_no_not_action, RAM_POLICY, document(statement)) == [
        f"RAM policy 'p1' allows with {keys}, which grants everything except what it names (including actions and "
        "resources added later). Use Action and Resource with the names that are needed."
    ]


# --- ram-no-escalation-actions


@pytest.mark.parametrize(
    "action",
    [
        "ram:CreatePolicyVersion",
        "ram:AttachPolicyToRole",
        "ram:UpdateRole",
        "ram:CreateAccessKey",
        "RAM:createuser",
        "sts:AssumeRole",
        "oss:PutBucketAcl",
        "oss:PutBucketPolicy",
        "oss:PutObjectAcl",
        "oss:DeleteBucketPublicAccessBlock",
        "kms:SetKeyPolicy",
        "kms:ScheduleKeyDeletion",
        "resourcemanager:AttachPolicy",
        "fc:UpdateFunction",
    ],
)
def test_escalation_and_exposure_actions_fire(action: str) -> None:
    props = document(allow([action, "oss:GetObject"], "acs:oss:*:*:b/data/*"))
    assert check(ram.ram_no_escalation_actions, RAM_POLICY, props) == [
        f"RAM policy 'p1' allows {action}: with these a workload can widen its own permissions, hand itself another "
        "role, or make data public. Remove them; changes to RAM, ACLs, bucket and key policies are made by the "
        "deployment, not by the workloads' roles."
    ]


def test_read_only_ram_actions_pass() -> None:
    props = document(allow(["ram:GetRole", "ram:ListPolicies"], "acs:ram::1:role/r"))
    assert check(ram.ram_no_escalation_actions, RAM_POLICY, props) == []


# --- ram-no-users-or-keys


@pytest.mark.parametrize(
    ("resource_type", "kind"),
    [(RAM_USER, "User"), (RAM_ACCESS_KEY, "AccessKey"), (RAM_LOGIN_PROFILE, "LoginProfile")],
)
def test_users_passwords_and_access_keys_are_refused(resource_type: str, kind: str) -> None:
    assert check(ram.ram_no_users_or_keys, resource_type, {"userName": "ci"}, name="ci") == [
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
    assert check(ram.ram_trusted_service_principals, RAM_ROLE, role(trust)) == [
        "RAM role 'pai-mlops-prod-dlc' can be assumed by *:*, RAM:acs:ram::1234:root, Service:ecs.aliyuncs.com; "
        + trust_fix("pai-mlops-prod-dlc", "pai.aliyuncs.com")
    ]


def test_trusted_principals_are_per_role() -> None:
    # OSS may assume the trigger's invocation role, not the data role (security review F7).
    oss = role(trust_policy(["oss.aliyuncs.com"]))
    assert check(ram.ram_trusted_service_principals, RAM_ROLE, oss) == [
        "RAM role 'pai-mlops-prod-dlc' can be assumed by Service:oss.aliyuncs.com; "
        + trust_fix("pai-mlops-prod-dlc", "pai.aliyuncs.com")
    ]
    invoker = role(trust_policy(["oss.aliyuncs.com"]), name="pai-mlops-prod-fraud-retraining-start-oss")
    assert check(ram.ram_trusted_service_principals, RAM_ROLE, invoker) == []
    unmatched = role(trust_policy(["pai.aliyuncs.com"]), name="pai-mlops-prod-admin")
    assert check(ram.ram_trusted_service_principals, RAM_ROLE, unmatched) == [
        "RAM role 'pai-mlops-prod-admin' can be assumed by Service:pai.aliyuncs.com; "
        + trust_fix("pai-mlops-prod-admin", "nobody (no pattern matches it)")
    ]


def test_trust_applies_to_resourcemanager_roles_and_the_deprecated_forms() -> None:
    rm = role(trust_policy(["ecs.aliyuncs.com"]))
    assert check(ram.ram_trusted_service_principals, RM_ROLE, rm) == [
        "resourcemanager role 'pai-mlops-prod-dlc' can be assumed by Service:ecs.aliyuncs.com; "
        + trust_fix("pai-mlops-prod-dlc", "pai.aliyuncs.com")
    ]
    props = {"roleName": "x-dsw", "services": ["pai.aliyuncs.com"], "ramUsers": ["acs:ram::1234:root"]}
    assert check(ram.ram_trusted_service_principals, RAM_ROLE, props) == [
        "RAM role 'x-dsw' can be assumed by RAM:acs:ram::1234:root; " + trust_fix("x-dsw", "pai.aliyuncs.com")
    ]


def test_trust_is_quiet_for_the_configured_principals() -> None:
    assert check(ram.ram_trusted_service_principals, RAM_ROLE, role(trust_policy(["pai.aliyuncs.com"]))) == []
    both = role(trust_policy(["pai.aliyuncs.com", "eas.pai.aliyuncs.com"]))
    assert len(check(ram.ram_trusted_service_principals, RAM_ROLE, both)) == 1
    allowed = {"principals": {"*-dlc": ["pai.aliyuncs.com", "eas.pai.aliyuncs.com"]}}
    assert check(ram.ram_trusted_service_principals, RAM_ROLE, both, config=allowed) == []


# --- ram-attachments-reviewed

OWN = Fixture(RAM_POLICY, "own", {"policyName": "pai-mlops-prod-dlc-oss"})


def attachment(policy: Any, kind: str = "Custom", resource_type: str = RAM_ROLE_ATTACHMENT) -> Fixture:
    return Fixture(resource_type, "attach", {"policyName": policy, "policyType": kind, "roleName": "r"})


def test_system_policies_need_the_allow_list() -> None:
    found = check_stack(ram.ram_attachments_reviewed, [attachment("AdministratorAccess", "System")])
    assert found == [
        (
            "attach",
            "RolePolicyAttachment 'attach' attaches the system policy 'AdministratorAccess'; system policies grant "
            "whole services (e.g. AdministratorAccess, AliyunOSSFullAccess). Attach a custom policy of this stack "
            "with the named actions, or add the policy to allowedSystemPolicies with a reviewed reason.",
        )
    ]
    config = {"allowedSystemPolicies": ["AliyunPAIReadOnlyAccess"]}
    assert check_stack(ram.ram_attachments_reviewed, [attachment("AliyunPAIReadOnlyAccess", "System")], config) == []


def test_custom_attachments_name_a_policy_of_this_stack() -> None:
    assert check_stack(ram.ram_attachments_reviewed, [OWN, attachment("pai-mlops-prod-dlc-oss")]) == []
    by_dependency = Fixture(
        RAM_ROLE_ATTACHMENT, "attach", {"policyName": UNKNOWN, "policyType": "Custom"}, depends_on={"policyName": [OWN]}
    )
    assert check_stack(ram.ram_attachments_reviewed, [OWN, by_dependency]) == []
    assert check_stack(
        ram.ram_attachments_reviewed, [OWN, attachment("legacy-admin", resource_type=RM_ATTACHMENT)]
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
    ok = Fixture(RAM_POLICY, "ok", document(allow("ram:PassRole", "acs:ram::123:role/pai-mlops-prod-dlc")))
    assert check_stack(ram.ram_pass_role_own_roles, [dlc, ok]) == []
    wide = Fixture(
        RAM_POLICY,
        "wide",
        document(allow(["ram:PassRole"], ["acs:ram::123:role/pai-mlops-prod-dlc", "acs:ram::123:role/admin"])),
    )
    assert check_stack(ram.ram_pass_role_own_roles, [dlc, wide]) == [
        (
            "wide",
            "RAM policy 'p1' allows ram:PassRole on acs:ram::123:role/admin: a workload could hand itself a role this "
            "stack does not define. Name each role of this stack by ARN (acs:ram::<account>:role/<roleName>).",
        )
    ]
    unknown = Fixture(RAM_POLICY, "later", {"policyName": "later", "policyDocument": UNKNOWN})
    assert check_stack(ram.ram_pass_role_own_roles, [dlc, unknown]) == []
