"""Pure RAM document builders: exact documents, no wildcard action anywhere."""

from __future__ import annotations

from components.identity import ROLE_ACCESS
from components.ram_documents import PrefixAccess, oss_prefix_policy, trust_policy


def test_dlc_reads_data_and_checkpoints_writes_models_and_checkpoints_deletes_only_checkpoints() -> None:
    assert oss_prefix_policy("b1", ROLE_ACCESS["dlc"]) == {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["oss:GetObject"],
                "Resource": ["acs:oss:*:*:b1/checkpoints/*", "acs:oss:*:*:b1/data/*", "acs:oss:*:*:b1/models/*"],
            },
            {
                "Effect": "Allow",
                "Action": ["oss:ListObjects"],
                "Resource": ["acs:oss:*:*:b1"],
                "Condition": {"StringLike": {"oss:Prefix": ["checkpoints/*", "data/*", "models/*"]}},
            },
            {
                "Effect": "Allow",
                "Action": ["oss:PutObject", "oss:AbortMultipartUpload", "oss:ListParts"],
                "Resource": ["acs:oss:*:*:b1/models/*", "acs:oss:*:*:b1/checkpoints/*"],
            },
            {"Effect": "Allow", "Action": ["oss:DeleteObject"], "Resource": ["acs:oss:*:*:b1/checkpoints/*"]},
        ],
    }


def test_eas_only_reads_models() -> None:
    statements = oss_prefix_policy("b1", ROLE_ACCESS["eas"])["Statement"]
    assert [(s["Action"], s["Resource"]) for s in statements] == [
        (["oss:GetObject"], ["acs:oss:*:*:b1/models/*"]),
        (["oss:ListObjects"], ["acs:oss:*:*:b1"]),
    ]


def test_no_role_gets_a_wildcard_action_or_a_bare_wildcard_resource() -> None:
    for access in ROLE_ACCESS.values():
        for statement in oss_prefix_policy("b1", access)["Statement"]:
            assert all("*" not in action for action in statement["Action"])
            assert all(resource not in ("*", "acs:oss:*:*:*") for resource in statement["Resource"])


def test_empty_access_grants_nothing() -> None:
    assert oss_prefix_policy("b1", PrefixAccess()) == {"Version": "1", "Statement": []}


def test_trust_policy_names_only_the_given_services_sorted() -> None:
    assert trust_policy(["pai.aliyuncs.com", "eas.aliyuncs.com"])["Statement"] == [
        {
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Principal": {"Service": ["eas.aliyuncs.com", "pai.aliyuncs.com"]},
        }
    ]
