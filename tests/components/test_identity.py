"""components/identity.py: the service roles and their least-privilege documents under the mock engine."""

from __future__ import annotations

import json

from components import ServiceRoles, ServiceRolesArgs
from tests.support.components import children
from tools.mock_engine import RecordingMocks, Registration, run_under_mocks


def role_inputs(mocks: RecordingMocks) -> dict[str, Registration]:
    return {r.name: r for r in mocks.registrations if r.type.startswith("alicloud:ram/")}


def test_service_roles_children_and_least_privilege_documents(mocks: RecordingMocks) -> None:
    args = ServiceRolesArgs(bucket_name="acme-pai-dev", name_prefix="pai-mlops-dev")
    run_under_mocks(lambda: ServiceRoles("roles", args))
    assert children(mocks, "pai-mlops:identity:ServiceRoles", "roles") == sorted(
        [
            (f"alicloud:ram/{kind}", f"roles-{role}{suffix}")
            for role in ("dsw", "dlc", "eas")
            for kind, suffix in (
                ("role:Role", ""),
                ("policy:Policy", "-oss"),
                ("rolePolicyAttachment:RolePolicyAttachment", "-oss"),
            )
        ]
    )
    ram = role_inputs(mocks)
    assert json.loads(ram["roles-dlc"].inputs["assumeRolePolicyDocument"]) == {
        "Version": "1",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": ["pai.aliyuncs.com"]}}],
    }
    assert ram["roles-dlc"].inputs["roleName"] == "pai-mlops-dev-dlc"
    assert ram["roles-dlc"].inputs["maxSessionDuration"] == 3600
    dsw = json.loads(
        next(r for r in mocks.by_type("alicloud:ram/policy:Policy") if r.name == "roles-dsw-oss").inputs[
            "policyDocument"
        ]
    )
    assert dsw == {
        "Version": "1",
        "Statement": [
            {"Effect": "Allow", "Action": ["oss:GetObject"], "Resource": ["acs:oss:*:*:acme-pai-dev/data/*"]},
            {
                "Effect": "Allow",
                "Action": ["oss:ListObjects"],
                "Resource": ["acs:oss:*:*:acme-pai-dev"],
                "Condition": {"StringLike": {"oss:Prefix": ["data/*"]}},
            },
        ],
    }
    attachment = next(
        r for r in mocks.by_type("alicloud:ram/rolePolicyAttachment:RolePolicyAttachment") if r.name == "roles-eas-oss"
    )
    assert attachment.inputs == {
        "policyName": "pai-mlops-dev-eas-oss",
        "policyType": "Custom",
        "roleName": "pai-mlops-dev-eas",
    }


def test_the_dlc_role_writes_only_its_runs_and_never_a_deployed_version(mocks: RecordingMocks) -> None:
    args = ServiceRolesArgs(
        bucket_name="b1",
        name_prefix="pai-mlops-dev",
        training_runs=(("fraud", "v7"),),  # a run named like a served version: the Deny still wins
        deployed_versions=(("fraud", "v6"), ("fraud", "v7")),
    )
    run_under_mocks(lambda: ServiceRoles("roles", args))
    documents = {r.name: json.loads(r.inputs["policyDocument"]) for r in mocks.by_type("alicloud:ram/policy:Policy")}
    dlc = documents["roles-dlc-oss"]["Statement"]
    assert dlc[2]["Resource"] == ["acs:oss:*:*:b1/models/fraud/v7/*", "acs:oss:*:*:b1/checkpoints/fraud/v7/*"]
    assert dlc[-1] == {
        "Effect": "Deny",
        "Action": ["oss:PutObject", "oss:DeleteObject"],
        "Resource": ["acs:oss:*:*:b1/models/fraud/v6/*", "acs:oss:*:*:b1/models/fraud/v7/*"],
    }
    # Readers get no Deny statement: they cannot write anyway.
    assert all(s["Effect"] == "Allow" for s in documents["roles-eas-oss"]["Statement"])


def test_service_roles_with_kms_key_get_key_policies(mocks: RecordingMocks) -> None:
    arn = "acs:kms:cn-hangzhou:123456789012:key/key-1"
    args = ServiceRolesArgs(
        bucket_name="acme-pai-dev", name_prefix="pai-mlops-dev", kms_key_arn=arn, training_runs=(("m", "r1"),)
    )
    run_under_mocks(lambda: ServiceRoles("roles", args))
    documents = {r.name: json.loads(r.inputs["policyDocument"]) for r in mocks.by_type("alicloud:ram/policy:Policy")}
    assert documents["roles-dlc-kms"]["Statement"] == [
        {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": [arn]}
    ]
    assert documents["roles-eas-kms"]["Statement"] == [
        {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [arn]}
    ]
    actions = [a for doc in documents.values() for s in doc["Statement"] for a in s["Action"]]
    assert "*" not in "".join(actions)
