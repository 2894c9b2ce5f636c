"""Promotions under mocks: the copy role, what is attached to it, and the copy that waits for it (prod promotes
fraud_scorer v7 from staging)."""

from __future__ import annotations

import json
from pathlib import Path

from components.copy_role import copy_role_name, kms_document, trust_document
from tools.mock_engine import MOCK_ACCOUNT_ID, run_program

ROLE = "pai-mlops-prod-promote-copy"


def test_the_copy_runs_as_the_role_after_its_policies_are_attached() -> None:
    mocks = run_program("prod")
    [copy] = mocks.by_type("pulumi-python:dynamic/pai:ModelPromotion")
    assert copy.inputs["copy_role_arn"] == f"acs:ram::{MOCK_ACCOUNT_ID}:role/{ROLE}"
    assert sorted(d.rsplit("::", 1)[-1] for d in copy.dependencies) == [
        "promotions-copy",  # through its ARN
        "promotions-copy-kms-attachment",
        "promotions-fraud_scorer-v7-read-attachment",
        "promotions-fraud_scorer-v7-write-attachment",
        "promotions-staging",  # the source's outputs
    ]
    attached = {
        r.name: (r.inputs["policyName"], r.inputs["roleName"], r.inputs["policyType"])
        for r in mocks.by_type("alicloud:ram/rolePolicyAttachment:RolePolicyAttachment")
        if r.inputs["roleName"] == ROLE
    }
    assert attached == {
        "promotions-copy-kms-attachment": (f"{ROLE}-kms", ROLE, "Custom"),
        "promotions-fraud_scorer-v7-read-attachment": ("pai-mlops-prod-promote-fraud-scorer-v7", ROLE, "Custom"),
        "promotions-fraud_scorer-v7-write-attachment": ("pai-mlops-prod-promote-fraud-scorer-v7-write", ROLE, "Custom"),
    }


def test_the_role_trusts_only_the_deployer_and_uses_both_buckets_keys(tmp_path: Path) -> None:
    staging = tmp_path / "staging.json"
    staging_key = "acs:kms:cn-hangzhou:123456789012:key/staging-key"
    staging.write_text(json.dumps({**planned_outputs_of("staging"), "bucketKmsKeyArn": staging_key}))
    mocks = run_program("prod", recorded_outputs={"staging": staging})
    [role] = [r for r in mocks.by_type("alicloud:ram/role:Role") if r.inputs["roleName"] == ROLE]
    assert role.inputs["assumeRolePolicyDocument"] == trust_document(
        "", "acs:ram::1234567890123456:role/pai-mlops-deploy"
    )
    assert role.inputs["maxSessionDuration"] == 3600
    [kms] = [r for r in mocks.by_type("alicloud:ram/policy:Policy") if r.inputs["policyName"] == f"{ROLE}-kms"]
    assert json.loads(kms.inputs["policyDocument"])["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": [f"acs:kms:cn-hangzhou:{MOCK_ACCOUNT_ID}:key/artifacts-key-id"],
        },
        {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [staging_key]},  # what the copy reads
    ]


def planned_outputs_of(stack: str) -> dict[str, object]:
    from tools.mock_engine import ROOT
    from tools.stack_outputs import reference_outputs

    return reference_outputs(stack, ROOT, {})


def test_without_a_deployer_the_account_is_trusted_and_names_fit_ram() -> None:
    assert json.loads(trust_document("1234", None))["Statement"][0]["Principal"] == {"RAM": ["acs:ram::1234:root"]}
    assert len(copy_role_name("p" * 24)) <= 64  # RAM RoleName: 1-64 characters; namePrefix is at most 24
    assert json.loads(kms_document(None, ["", "k"]))["Statement"] == [
        {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": ["k"]}
    ]
