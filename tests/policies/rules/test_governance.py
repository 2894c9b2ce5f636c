"""Governance policies on fixtures (policies/rules/governance.py): required tags, secrets never in plain text,
and dynamic resources only from the reviewed providers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pulumi_policy import EnforcementLevel
from pulumi_policy.proxy import UnknownValueError

from components.tagging import TAGGABLE_TYPES
from policies.rules import governance
from policies.rules.common import CODE_SOURCE, EAS_SERVICE, FC_FUNCTION, SERVICE_ENDPOINT, TRAINING_JOB
from tests.support.policy_harness import STANDARD_TAGS, UNKNOWN, check, secret


def test_policy_metadata() -> None:
    assert [(p.name, p.enforcement_level) for p in governance.POLICIES] == [
        ("required-tags", EnforcementLevel.MANDATORY),
        ("secrets-not-plaintext", EnforcementLevel.MANDATORY),
        ("dynamic-resource-types", EnforcementLevel.MANDATORY),
    ]


# --- required-tags


def test_required_tags_fire_naming_the_missing_tags() -> None:
    props = {"bucket": "b", "tags": {"environment": "prod", "owner": ""}}
    assert check(governance.required_tags, "alicloud:oss/bucket:Bucket", props, name="artifacts-bucket") == [
        "Bucket 'artifacts-bucket' lacks the tag(s) owner, cost-center, so its cost and owner cannot be attributed. "
        "pai-mlops sets environment, owner, cost-center on every taggable resource from pai-mlops:environment, "
        "pai-mlops:owner and pai-mlops:costCenter through the stack's tag transform; add the type to that transform "
        "or set the tags on the resource."
    ]


def test_required_tags_check_taggable_types_without_tags_and_any_resource_with_tags() -> None:
    assert len(check(governance.required_tags, TRAINING_JOB, {"spot": False})) == 1
    assert len(check(governance.required_tags, "alicloud:ecs/instance:Instance", {"tags": {"owner": "x"}})) == 1


def test_required_tags_are_quiet_when_complete_or_when_the_type_takes_no_tags() -> None:
    assert check(governance.required_tags, EAS_SERVICE, {"tags": STANDARD_TAGS}) == []
    assert check(governance.required_tags, "alicloud:oss/bucketAcl:BucketAcl", {"acl": "private"}) == []


def test_required_tags_cover_every_type_the_stack_transform_tags() -> None:
    taggable = set(governance.TAGS.properties["taggableTypes"]["default"])
    assert taggable >= TAGGABLE_TYPES
    assert taggable == TAGGABLE_TYPES  # the transform tags every type the policy requires tags on


def test_required_tags_unknown_tags_are_deferred_to_up() -> None:
    with pytest.raises(UnknownValueError):
        check(governance.required_tags, EAS_SERVICE, {"tags": UNKNOWN})


# --- secrets-not-plaintext


def test_secrets_fire_when_a_token_property_is_not_masked() -> None:
    props = {"codeRepo": "https://codeup.aliyun.com/acme/ml.git", "codeRepoAccessToken": secret("t0k3n")}
    assert check(governance.secrets_not_plaintext, CODE_SOURCE, props, name="repo") == [
        "WorkspaceCodeSource 'repo' does not list 'codeRepoAccessToken' in additional_secret_outputs, so the engine "
        "stores that token in plain text in the stack state. Pass it as a secret (pulumi config set --secret, "
        "pulumi.Output.secret) and add 'codeRepoAccessToken' to the resource's additional_secret_outputs."
    ]


def test_secrets_cover_every_token_output_of_the_endpoint_resource() -> None:
    found = check(governance.secrets_not_plaintext, SERVICE_ENDPOINT, {}, secret_outputs=["access_token"])
    assert [message.split("'")[3] for message in found] == ["group_access_token", "token"]
    masked = ["access_token", "group_access_token", "token"]
    assert check(governance.secrets_not_plaintext, SERVICE_ENDPOINT, {}, secret_outputs=masked) == []


def test_secrets_are_quiet_when_masked() -> None:
    props = {"codeRepoAccessToken": secret("t0k3n")}
    masked = ["codeRepoAccessToken"]
    assert check(governance.secrets_not_plaintext, CODE_SOURCE, props, secret_outputs=masked) == []


def test_a_credential_input_given_a_plain_value_fires_even_when_masked() -> None:
    props = {"codeRepoAccessToken": "t0k3n", "secretName": "db", "kmsKeyId": "k", "password": None}
    assert check(
        governance.secrets_not_plaintext, CODE_SOURCE, props, name="repo", secret_outputs=["codeRepoAccessToken"]
    ) == [
        "WorkspaceCodeSource 'repo' sets codeRepoAccessToken to a plain value, not a secret: it is stored in clear in "
        "the stack state's inputs and shown in previews (additional_secret_outputs masks outputs only). Read it from "
        "secret config (pulumi config set --secret <key>; pulumi.Config().require_secret('<key>')) or wrap it in "
        "pulumi.Output.secret(...)."
    ]
    # A secret that is unknown at preview is neither plain nor a reason to defer the whole rule.
    unknown = {"codeRepoAccessToken": secret(UNKNOWN)}
    assert check(governance.secrets_not_plaintext, CODE_SOURCE, unknown, secret_outputs=["codeRepoAccessToken"]) == []


def test_secrets_in_fc_environment_variables_fire_by_name_or_value_masked_or_not() -> None:
    env = {"PIPELINE_ID": UNKNOWN, "GH_PAT": "x", "CONFIG": "github_pat_" + "a" * 30, "REGION": "cn-hangzhou"}
    found = check(
        governance.secrets_not_plaintext,
        FC_FUNCTION,
        {"functionName": "start", "environmentVariables": env},
        secret_outputs=["environmentVariables"],
    )
    assert found == [
        "FC function 'start' puts CONFIG, GH_PAT in environmentVariables, which Function Compute shows in clear to "
        "anyone allowed to read the function (masking the output does not change that). Read the value at run time "
        "from KMS Secrets Manager with the function's role, or use the role's STS credentials "
        "(context.credentials) instead of a key."
    ]
    quiet = {"functionName": "start", "environmentVariables": {"PIPELINE_ID": UNKNOWN, "WORKSPACE_ID": "ws-1"}}
    assert check(governance.secrets_not_plaintext, FC_FUNCTION, quiet) == []


@pytest.mark.parametrize(
    ("resource_type", "allowed"),
    [
        ("pulumi-python:dynamic/pai:TrainingJob", True),
        ("pulumi-python:dynamic/pai:EasService", True),
        ("pulumi-python:dynamic/pai:ApiProbe", True),
        ("pulumi-python:dynamic/pai:Shell", False),
        ("pulumi-nodejs:dynamic:Resource", False),
        ("alicloud:oss/bucket:Bucket", True),
    ],
)
def test_dynamic_resources_come_from_the_allow_list(resource_type: str, allowed: bool) -> None:
    found = check(governance.dynamic_resource_types, resource_type, {}, name="r")
    assert found == (
        []
        if allowed
        else [
            f"dynamic resource 'r' has type {resource_type}, which is not one of the reviewed providers (ApiProbe, "
            "DswInstance, EasAutoscaler, EasService, MetricMetaCheck, ModelPromotion, ServiceEndpoint, TrafficShift, "
            "TrainingJob); a "
            "dynamic provider runs its own code with the deployment's credentials. Use a reviewed provider, or add "
            "the new one to providers/ and to this policy's allowedTypes in a reviewed change."
        ]
    )


def eas(config: dict[str, Any]) -> dict[str, Any]:
    return {"serviceConfig": json.dumps({"metadata": {"name": "svc_v1", "instance": 1}, **config})}


def test_secrets_fire_on_an_eas_token_or_secret_env_in_service_config() -> None:
    assert check(governance.secrets_not_plaintext, EAS_SERVICE, eas({"token": "abc"})) == [
        "EAS service 'svc_v1' sets its access token in serviceConfig, which the stack state and previews show in "
        "plain text. Leave token out (EAS generates one; the ServiceEndpoint resource exports it as a secret), or "
        "list 'serviceConfig' in additional_secret_outputs."
    ]
    env = [{"name": "MODEL_DIR", "value": "/models"}, {"name": "HF_TOKEN", "value": "hf_x"}, {"name": "API_KEY"}]
    assert check(governance.secrets_not_plaintext, EAS_SERVICE, eas({"containers": [{"env": env}]})) == [
        "EAS service 'svc_v1' puts HF_TOKEN in a container env in plain text. Read them at run time from a secret "
        "store (e.g. KMS Secrets Manager), or list 'serviceConfig' in additional_secret_outputs."
    ]


def test_secrets_are_quiet_on_eas_config_without_tokens_or_when_masked() -> None:
    assert check(governance.secrets_not_plaintext, EAS_SERVICE, eas({"processor": "pmml"})) == []
    masked = ["serviceConfig"]
    assert check(governance.secrets_not_plaintext, EAS_SERVICE, eas({"token": "abc"}), secret_outputs=masked) == []


def test_secrets_fire_on_secret_named_env_of_training_jobs() -> None:
    env = {"WANDB_API_KEY": "k", "DB_PASSWORD": "p", "EPOCHS": "3"}
    assert check(governance.secrets_not_plaintext, TRAINING_JOB, {"env": env}, name="nightly") == [
        "TrainingJob 'nightly' sets DB_PASSWORD, WANDB_API_KEY in env in plain text. Pass it as a secret (pulumi "
        "config set --secret, pulumi.Output.secret) and list 'env' in additional_secret_outputs, or read the value "
        "at run time from a secret store."
    ]
    assert check(governance.secrets_not_plaintext, TRAINING_JOB, {"env": env}, secret_outputs=["env"]) == []
