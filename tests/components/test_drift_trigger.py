"""What drift adds to the retraining trigger: the check's code beside the handler, its layer, size, settings and
OSS access (components/drift_trigger.py, wired by components/retraining_trigger.py; recording mocks)."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import zipfile
from collections.abc import Mapping
from typing import Any

from components.drift_trigger import CPU, DRIFT_PACKAGE, MEMORY_MB, drift_files, drift_policy, profile_key
from components.pipeline import RetrainingPipeline
from components.retraining_trigger import HANDLER_SOURCE, function_archive, within_cpu_ratio
from tests.components.test_pipeline import pipeline_args
from tools.mock_engine import RecordingMocks, run_under_mocks

FUNCTION = "pai-mlops-prod-fraud-retraining-start"
LAYER = "acs:fc:cn-hangzhou:1234567890:layers/drift-check/versions/1"
DRIFT = {"enabled": True, "layer": LAYER}
TRIGGER = {"schedule": "0 0 3 * * 1", "dataMarker": "data/transactions/_SUCCESS", "drift": DRIFT}
KEY = "acs:kms:cn-hangzhou:1234567890:key/key-1"


def register_trigger(mocks: RecordingMocks, trigger: dict[str, Any], kms_key_arn: str | None = None) -> None:
    args = dataclasses.replace(pipeline_args(trigger=trigger), kms_key_arn=kms_key_arn)
    run_under_mocks(lambda: RetrainingPipeline("pipeline-fraud_retraining", args))


def function_inputs(mocks: RecordingMocks) -> Mapping[str, Any]:
    return mocks.one("alicloud:fc/v3Function:V3Function", "pipeline-fraud_retraining-trigger-function").inputs


def test_with_drift_the_function_carries_the_check_its_layer_settings_and_size(mocks: RecordingMocks) -> None:
    register_trigger(mocks, TRIGGER)

    function = function_inputs(mocks)
    assert (function["memorySize"], function["cpu"], function["timeout"], function["layers"]) == (
        1024,
        0.5,
        300,
        [LAYER],
    )
    assert within_cpu_ratio(CPU, MEMORY_MB)
    assert function["environmentVariables"] == {
        "PIPELINE_ID": "pipeline-fraud_retraining-flow-id",
        "PIPELINE_NAME": "fraud_retraining",
        "WORKSPACE_ID": "ws-1",
        "PAIFLOW_ENDPOINT": "paiflow.cn-hangzhou.aliyuncs.com",
        "DRIFT_METHOD": "psi",
        "DRIFT_THRESHOLD": "0.25",
        "DRIFT_PROFILE": "models/fraud_scorer/v7/drift-profile.json",  # the live version's
        "DRIFT_REPORTS": "data/drift-reports/fraud_retraining/",
        "BUCKET": "acme-pai-prod",
        "OSS_ENDPOINT": "https://oss-cn-hangzhou-internal.aliyuncs.com",
    }
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(function["code"]["zipFile"]))) as archive:
        assert archive.namelist() == [
            "index.py",
            *(f"drift_check/{p.name}" for p in sorted(DRIFT_PACKAGE.glob("*.py"))),
        ]
        assert archive.read("index.py") == HANDLER_SOURCE.read_bytes()
        assert archive.read("drift_check/stats.py") == (DRIFT_PACKAGE / "stats.py").read_bytes()
    assert "drift_check/run.py" in drift_files()


def test_without_drift_or_with_it_switched_off_the_function_is_unchanged(mocks: RecordingMocks) -> None:
    register_trigger(mocks, {**TRIGGER, "drift": {"enabled": False}})

    function = function_inputs(mocks)
    assert (function["memorySize"], function["cpu"], function["timeout"]) == (128, 0.05, 60)
    assert "layers" not in function
    assert function["code"] == {"zipFile": function_archive()}
    assert not [r for r in mocks.registrations if r.name.endswith("-start-drift")]


def test_the_drift_policy_reads_the_profile_and_the_batch_and_writes_only_reports(mocks: RecordingMocks) -> None:
    register_trigger(mocks, TRIGGER, kms_key_arn=KEY)

    policies = {
        r.name: r.inputs
        for r in mocks.registrations
        if r.type == "alicloud:ram/policy:Policy" and "-start-drift" in r.name
    }
    attached = {
        r.inputs["policyName"]
        for r in mocks.registrations
        if r.type == "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment" and r.inputs["roleName"] == FUNCTION
    }
    oss = policies["pipeline-fraud_retraining-trigger-start-drift"]
    kms = policies["pipeline-fraud_retraining-trigger-start-drift-kms"]
    assert (oss["policyName"], kms["policyName"]) == (f"{FUNCTION}-drift", f"{FUNCTION}-drift-kms")
    assert {f"{FUNCTION}-drift", f"{FUNCTION}-drift-kms"} <= attached
    assert json.loads(kms["policyDocument"])["Statement"] == [
        {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": [KEY]}
    ]
    assert json.loads(oss["policyDocument"]) == {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["oss:GetObject"],
                "Resource": [
                    "acs:oss:*:*:acme-pai-prod/models/fraud_scorer/v7/drift-profile.json",  # that one object
                    "acs:oss:*:*:acme-pai-prod/data/transactions/*",
                ],
            },
            {
                "Effect": "Allow",
                "Action": ["oss:ListObjects"],
                "Resource": ["acs:oss:*:*:acme-pai-prod"],
                "Condition": {"StringLike": {"oss:Prefix": ["data/transactions/*"]}},
            },
            {
                "Effect": "Allow",
                "Action": ["oss:PutObject"],
                "Resource": ["acs:oss:*:*:acme-pai-prod/data/drift-reports/fraud_retraining/*"],
            },
        ],
    }


def test_without_a_kms_key_there_is_no_kms_policy(mocks: RecordingMocks) -> None:
    register_trigger(mocks, TRIGGER)

    assert [r.name for r in mocks.registrations if r.type == "alicloud:ram/policy:Policy" and "drift" in r.name] == [
        "pipeline-fraud_retraining-trigger-start-drift"
    ]


def test_a_configured_profile_wins_over_the_live_versions() -> None:
    args = pipeline_args(trigger={**TRIGGER, "drift": {**DRIFT, "profile": "data/profiles/fraud.json"}})
    trigger = args.pipeline.trigger
    assert trigger is not None and trigger.drift is not None

    assert profile_key(trigger.drift, args.service) == "data/profiles/fraud.json"
    document = drift_policy(
        trigger.drift,
        service=args.service,
        pipeline="fraud_retraining",
        marker="data/transactions/_SUCCESS",
        bucket="b",
    )
    assert document["Statement"][0]["Resource"] == [
        "acs:oss:*:*:b/data/profiles/fraud.json",
        "acs:oss:*:*:b/data/transactions/*",
    ]
