"""drift-check-scope: the drift check's OSS policy writes only its pipeline's reports, reads its batch and profile."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.drift_trigger import drift_policy
from policies.rules import drift
from tests.components.test_drift_trigger import TRIGGER
from tests.components.test_pipeline import pipeline_args
from tests.support.policy_harness import UNKNOWN, check

NAME = "pai-mlops-prod-fraud-retraining-start-drift"
BUCKET = "acs:oss:*:*:acme-pai-mlops-prod"
OBJECTS = f"{BUCKET}/"


def program_document() -> dict[str, Any]:
    """The document components/drift_trigger.py builds for the prod-like pipeline of tests/components."""
    args = pipeline_args(trigger=TRIGGER)
    trigger = args.pipeline.trigger
    assert trigger is not None and trigger.drift is not None and args.service is not None
    return drift_policy(
        trigger.drift,
        service=args.service,
        pipeline="fraud_retraining",
        marker="data/transactions/_SUCCESS",
        bucket="acme-pai-mlops-prod",
    )


def props(document: dict[str, Any], name: str = NAME) -> dict[str, Any]:
    return {"policyName": name, "policyDocument": json.dumps(document)}


def changed(index: int, **statement: Any) -> dict[str, Any]:
    document = program_document()
    document["Statement"][index] |= statement
    return document


def refusal(problem: str, name: str = NAME) -> str:
    return (
        f"RAM policy '{name}' of the drift check reaches beyond what it needs: {problem}. The drift check writes only "
        "data/drift-reports/<pipeline>/, reads the marker's folder and one profile, and lists that folder "
        "(components/drift_trigger.py drift_policy): restore it."
    )


def test_the_programs_drift_policy_passes_and_others_are_not_judged() -> None:
    assert check(drift.drift_check_scope, "alicloud:ram/policy:Policy", props(program_document())) == []
    assert drift.drift_scope_problems(props(program_document())) == []
    assert not drift.is_drift_policy({"policyName": "pai-mlops-prod-fraud-retraining-start-drift-kms"})
    assert (
        check(drift.drift_check_scope, "alicloud:ram/policy:Policy", {"policyName": NAME, "policyDocument": UNKNOWN})
        == []
    )


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        pytest.param(
            changed(2, Resource=[f"{OBJECTS}models/*"]),
            f"oss:PutObject reaches {OBJECTS}models/*",
            id="reports-over-the-models",
        ),
        pytest.param(
            changed(2, Resource=[f"{OBJECTS}data/drift-reports/other_pipeline/*"]),
            f"oss:PutObject reaches {OBJECTS}data/drift-reports/other_pipeline/*",
            id="another-pipelines-reports",
        ),
        pytest.param(
            changed(0, Resource=[f"{OBJECTS}models/fraud_scorer/v7/drift-profile.json", f"{OBJECTS}*"]),
            f"oss:GetObject reaches {OBJECTS}*",
            id="read-the-whole-bucket",
        ),
        pytest.param(
            changed(
                0, Resource=[f"{OBJECTS}models/a.json", f"{OBJECTS}models/b.json", f"{OBJECTS}data/transactions/*"]
            ),
            f"oss:GetObject reaches {OBJECTS}models/b.json",
            id="two-profiles",
        ),
        pytest.param(
            changed(1, Condition=None),
            "oss:ListObjects is not limited to oss:Prefix <marker folder>* of one folder under data/ "
            f"(['(no oss:Prefix condition)']); oss:GetObject reaches {OBJECTS}data/transactions/*",
            id="list-without-a-prefix",
        ),
        pytest.param(
            changed(1, Condition={"StringLike": {"oss:Prefix": ["models/*"]}}),
            "oss:ListObjects is not limited to oss:Prefix <marker folder>* of one folder under data/ (['models/*']); "
            f"oss:GetObject reaches {OBJECTS}data/transactions/*",
            id="list-another-folder",
        ),
        pytest.param(
            changed(2, Action=["oss:PutObject", "oss:DeleteObject"]),
            "it grants oss:DeleteObject, which the drift check never needs",
            id="a-delete",
        ),
        pytest.param(
            changed(1, Resource=[f"{BUCKET}-other"]),
            "it reaches more than one bucket (acme-pai-mlops-prod, acme-pai-mlops-prod-other)",
            id="another-bucket",
        ),
        pytest.param(changed(2, NotResource=["x"]), "a statement uses NotAction or NotResource", id="not-resource"),
    ],
)
def test_a_drift_policy_wider_than_its_check_is_refused(document: dict[str, Any], problem: str) -> None:
    assert check(drift.drift_check_scope, "alicloud:ram/policy:Policy", props(document)) == [refusal(problem)]


def test_a_drift_policy_of_a_differently_named_pipeline_may_not_write_this_ones_reports() -> None:
    name = "pai-mlops-prod-churn-start-drift"
    assert check(drift.drift_check_scope, "alicloud:ram/policy:Policy", props(program_document(), name)) == [
        refusal(f"oss:PutObject reaches {OBJECTS}data/drift-reports/fraud_retraining/*", name)
    ]
