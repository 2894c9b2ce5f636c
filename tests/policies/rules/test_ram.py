"""RAM policy documents on fixtures (policies/rules/ram.py): wildcard actions and resources, NotAction and
escalation actions, on every type that holds a policy document (ram and resourcemanager alike)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pulumi_policy import EnforcementLevel

from components.ram_documents import PrefixAccess, kms_key_policy, oss_prefix_policy
from policies.rules import ram
from policies.rules.common import RAM_POLICY, RM_POLICY, RM_POLICY_VERSION
from tests.support.policy_harness import allow, check, ram_policy


def test_policy_metadata() -> None:
    assert [(p.name, p.enforcement_level, type(p).__name__) for p in ram.POLICIES] == [
        ("ram-no-wildcard-actions", EnforcementLevel.MANDATORY, "ResourceValidationPolicy"),
        ("ram-no-wildcard-resources", EnforcementLevel.MANDATORY, "ResourceValidationPolicy"),
        ("ram-no-not-action", EnforcementLevel.MANDATORY, "ResourceValidationPolicy"),
        ("ram-no-escalation-actions", EnforcementLevel.MANDATORY, "ResourceValidationPolicy"),
    ]


# --- ram-no-wildcard-actions


@pytest.mark.parametrize("action", ["*", "*:*", "oss:*", "oss:Delete*", "ram:*Role*", "OSS:Get?bject*"])
def test_any_star_in_an_action_is_a_wildcard(action: str) -> None:
    assert check(ram.ram_no_wildcard_actions, RAM_POLICY, ram_policy(allow([action, "oss:GetObject"]))) == [
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
    assert check(ram.ram_no_wildcard_resources, RAM_POLICY, ram_policy(allow("oss:GetObject", resource))) == [
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
    deny = ram_policy({"Effect": "Deny", "Action": "*", "Resource": "*", "NotAction": "x"})
    assert check(ram.ram_no_wildcard_actions, RAM_POLICY, deny) == []
    assert check(ram.ram_no_not_action, RAM_POLICY, deny) == []


def test_the_exemption_names_actions_not_a_whole_policy() -> None:
    config = {"exemptActions": {"p1": ["paiflow:CreatePipelineRun", "paiflow:ListPipelineRuns"]}}
    start = ram_policy(allow(["paiflow:CreatePipelineRun", "paiflow:ListPipelineRuns"], "*"))
    assert check(ram.ram_no_wildcard_resources, RAM_POLICY, start, config=config) == []
    # The same policy with one more action on '*': the statement is no longer operation-only.
    widened = ram_policy(allow(["paiflow:CreatePipelineRun", "oss:GetObject"], "*"))
    assert check(ram.ram_no_wildcard_resources, RAM_POLICY, widened, config=config) == [
        f"RAM policy 'p1' allows resources by wildcard (*). {RESOURCE_FIX}"
    ]
    # An exempt action still may not take a wildcard ARN, only the operation-level '*'.
    arn = ram_policy(allow(["paiflow:CreatePipelineRun"], "acs:oss:*:*:*"))
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
    assert check(ram.ram_no_not_action, RAM_POLICY, ram_policy(statement)) == [
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
    props = ram_policy(allow([action, "oss:GetObject"], "acs:oss:*:*:b/data/*"))
    assert check(ram.ram_no_escalation_actions, RAM_POLICY, props) == [
        f"RAM policy 'p1' allows {action}: with these a workload can widen its own permissions, hand itself another "
        "role, or make data public. Remove them; changes to RAM, ACLs, bucket and key policies are made by the "
        "deployment, not by the workloads' roles."
    ]


def test_read_only_ram_actions_pass() -> None:
    props = ram_policy(allow(["ram:GetRole", "ram:ListPolicies"], "acs:ram::1:role/r"))
    assert check(ram.ram_no_escalation_actions, RAM_POLICY, props) == []
