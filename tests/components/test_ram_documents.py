"""Pure RAM document builders: exact documents, no wildcard action anywhere."""

from __future__ import annotations

from components.identity import ROLE_ACCESS, deployed_prefixes, training_access
from components.ram_documents import PrefixAccess, deny_overwrite, oss_prefix_policy, trust_policy


def test_dlc_writes_only_its_own_runs_and_deletes_only_their_checkpoints() -> None:
    assert oss_prefix_policy("b1", training_access([("fraud", "r2"), ("fraud", "r1")])) == {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["oss:GetObject"],
                "Resource": [
                    "acs:oss:*:*:b1/checkpoints/fraud/r1/*",
                    "acs:oss:*:*:b1/checkpoints/fraud/r2/*",
                    "acs:oss:*:*:b1/data/*",
                    "acs:oss:*:*:b1/models/fraud/r1/*",
                    "acs:oss:*:*:b1/models/fraud/r2/*",
                ],
            },
            {
                "Effect": "Allow",
                "Action": ["oss:ListObjects"],
                "Resource": ["acs:oss:*:*:b1"],
                "Condition": {
                    "StringLike": {
                        "oss:Prefix": [
                            "checkpoints/fraud/r1/*",
                            "checkpoints/fraud/r2/*",
                            "data/*",
                            "models/fraud/r1/*",
                            "models/fraud/r2/*",
                        ]
                    }
                },
            },
            {
                "Effect": "Allow",
                "Action": ["oss:PutObject", "oss:AbortMultipartUpload", "oss:ListParts"],
                "Resource": [
                    "acs:oss:*:*:b1/models/fraud/r1/*",
                    "acs:oss:*:*:b1/models/fraud/r2/*",
                    "acs:oss:*:*:b1/checkpoints/fraud/r1/*",
                    "acs:oss:*:*:b1/checkpoints/fraud/r2/*",
                ],
            },
            {
                "Effect": "Allow",
                "Action": ["oss:DeleteObject"],
                "Resource": ["acs:oss:*:*:b1/checkpoints/fraud/r1/*", "acs:oss:*:*:b1/checkpoints/fraud/r2/*"],
            },
        ],
    }


def test_without_runs_dlc_only_reads_data() -> None:
    assert oss_prefix_policy("b1", training_access([])) == oss_prefix_policy("b1", ROLE_ACCESS["dsw"])
    assert ROLE_ACCESS["dlc"] == PrefixAccess(read=("data/",))


def test_deployed_versions_are_denied_to_writers() -> None:
    assert deny_overwrite("b1", deployed_prefixes([("fraud", "v7"), ("fraud", "v6"), ("fraud", "v7")])) == {
        "Effect": "Deny",
        "Action": ["oss:PutObject", "oss:DeleteObject"],
        "Resource": ["acs:oss:*:*:b1/models/fraud/v6/*", "acs:oss:*:*:b1/models/fraud/v7/*"],
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


def test_a_model_a_pipeline_retrains_may_be_written_under_any_run_id() -> None:
    """Pipeline runs get their id when they start; served versions stay protected by the explicit Deny."""
    access = training_access([("fraud", "r1"), ("tagger", "r2")], pipeline_models=["fraud"])
    assert access == PrefixAccess(
        read=("data/",),
        write=("models/tagger/r2/", "models/fraud/", "checkpoints/tagger/r2/", "checkpoints/fraud/"),
        delete=("checkpoints/tagger/r2/", "checkpoints/fraud/"),
    )
