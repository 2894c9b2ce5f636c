"""The retraining trigger: FC function, timer and OSS triggers and their two roles, from typed config (mocks)."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from typing import Any

import pytest

from components.pipeline import RetrainingPipeline
from components.retraining_trigger import (
    CPU,
    HANDLER_SOURCE,
    MEMORY_MB,
    function_archive,
    log_project_name,
    oss_config,
    timer_config,
    within_cpu_ratio,
)
from stack_config import PipelineTriggerConfig
from tests.components.test_pipeline import RETRAINING, pipeline_args, raw_with
from tests.stack_config.test_stack import problems_of
from tools.mock_engine import RecordingMocks, run_under_mocks

FUNCTION = "pai-mlops-prod-fraud-retraining-start"


def register(mocks: RecordingMocks, trigger: dict[str, Any]) -> None:
    args = pipeline_args(trigger=trigger)
    run_under_mocks(lambda: RetrainingPipeline("pipeline-fraud_retraining", args))


def test_a_schedule_and_a_data_marker_make_one_function_with_two_triggers(mocks: RecordingMocks) -> None:
    register(
        mocks,
        {"schedule": "0 0 3 * * 1", "timezone": "Asia/Shanghai", "dataMarker": "data/transactions/_SUCCESS"},
    )
    function = mocks.one("alicloud:fc/v3Function:V3Function", "pipeline-fraud_retraining-trigger-function").inputs
    assert {k: v for k, v in function.items() if k != "code"} == {
        "functionName": FUNCTION,
        "description": "pai-mlops: starts runs of the retraining pipeline fraud_retraining",
        "runtime": "python3.12",
        "handler": "index.handler",
        "role": f"acs:ram::123456789012:role/{FUNCTION}",
        "memorySize": 128,
        "cpu": 0.05,  # explicit: FC documents no default, and 128 MB allows only 0.05 or 0.1 vCPU
        "timeout": 60,
        "logConfig": {  # without one FC keeps none of the handler's lines
            "project": "pai-mlops-prod-fraud-retraining-start-1234567890",
            "logstore": "function-log",
            "enableRequestMetrics": True,
        },
        "environmentVariables": {
            "PIPELINE_ID": "pipeline-fraud_retraining-flow-id",
            "PIPELINE_NAME": "fraud_retraining",
            "WORKSPACE_ID": "ws-1",
            "PAIFLOW_ENDPOINT": "paiflow.cn-hangzhou.aliyuncs.com",
        },
    }
    assert function["code"] == {"zipFile": function_archive()}
    project = mocks.one("alicloud:log/project:Project", "pipeline-fraud_retraining-trigger-logs").inputs
    assert project == {
        "projectName": "pai-mlops-prod-fraud-retraining-start-1234567890",
        "description": f"pai-mlops: logs of the retraining trigger {FUNCTION}",
    }
    store = mocks.one("alicloud:log/store:Store", "pipeline-fraud_retraining-trigger-logstore").inputs
    assert store == {
        "projectName": "pai-mlops-prod-fraud-retraining-start-1234567890",
        "logstoreName": "function-log",
        "retentionPeriod": 30,
        "shardCount": 1,
    }

    schedule = mocks.one("alicloud:fc/v3Trigger:V3Trigger", "pipeline-fraud_retraining-trigger-schedule").inputs
    assert schedule == {
        "functionName": FUNCTION,
        "qualifier": "LATEST",
        "triggerName": "schedule",
        "triggerType": "timer",
        "triggerConfig": json.dumps(
            {"cronExpression": "CRON_TZ=Asia/Shanghai 0 0 3 * * 1", "enable": True, "payload": ""}
        ),
        "description": "starts fraud_retraining on '0 0 3 * * 1' (Asia/Shanghai)",
    }
    data = mocks.one("alicloud:fc/v3Trigger:V3Trigger", "pipeline-fraud_retraining-trigger-data").inputs
    assert data == {
        "functionName": FUNCTION,
        "qualifier": "LATEST",
        "triggerName": "data",
        "triggerType": "oss",
        "triggerConfig": json.dumps(
            {
                "events": [
                    "oss:ObjectCreated:PutObject",
                    "oss:ObjectCreated:PostObject",
                    "oss:ObjectCreated:CompleteMultipartUpload",
                    "oss:ObjectCreated:CopyObject",
                ],
                "filter": {"key": {"prefix": "data/transactions/", "suffix": "_SUCCESS"}},
            }
        ),
        "sourceArn": "acs:oss:cn-hangzhou:1234567890:acme-pai-prod",
        "invocationRole": f"acs:ram::123456789012:role/{FUNCTION}-oss",
        "description": "starts fraud_retraining when data/transactions/_SUCCESS is written",
    }


def test_the_function_may_only_start_and_list_runs_and_oss_may_only_invoke_it(mocks: RecordingMocks) -> None:
    register(mocks, {"schedule": "@every 24h", "dataMarker": "data/transactions/_SUCCESS"})
    roles = {r.inputs["roleName"]: r.inputs for r in mocks.registrations if r.type == "alicloud:ram/role:Role"}
    assert {name: json.loads(role["assumeRolePolicyDocument"]) for name, role in roles.items()} == {
        FUNCTION: {
            "Version": "1",
            "Statement": [
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": ["fc.aliyuncs.com"]}}
            ],
        },
        f"{FUNCTION}-oss": {
            "Version": "1",
            "Statement": [
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": ["oss.aliyuncs.com"]}}
            ],
        },
    }
    policies = {r.inputs["policyName"]: r.inputs for r in mocks.registrations if r.type == "alicloud:ram/policy:Policy"}
    assert {name: json.loads(policy["policyDocument"])["Statement"] for name, policy in policies.items()} == {
        FUNCTION: [
            {
                "Effect": "Allow",
                "Action": ["paiflow:CreatePipelineRun", "paiflow:ListPipelineRuns"],
                "Resource": ["*"],
            },
            {
                "Effect": "Allow",
                "Action": ["log:PostLogStoreLogs"],
                "Resource": [
                    "acs:log:cn-hangzhou:1234567890:project/pai-mlops-prod-fraud-retraining-start-1234567890"
                    "/logstore/function-log"
                ],
            },
        ],
        f"{FUNCTION}-oss": [
            {
                "Effect": "Allow",
                "Action": ["fc:InvokeFunction"],
                "Resource": [f"acs:fc:cn-hangzhou:1234567890:functions/{FUNCTION}"],
            }
        ],
    }
    attachments = [
        r.inputs for r in mocks.registrations if r.type == "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment"
    ]
    assert sorted((a["roleName"], a["policyName"], a["policyType"]) for a in attachments) == [
        (FUNCTION, FUNCTION, "Custom"),
        (f"{FUNCTION}-oss", f"{FUNCTION}-oss", "Custom"),
    ]


def test_a_schedule_alone_needs_no_invocation_role(mocks: RecordingMocks) -> None:
    register(mocks, {"schedule": "0 30 2 * * *"})
    assert [r.name for r in mocks.registrations if r.type == "alicloud:fc/v3Trigger:V3Trigger"] == [
        "pipeline-fraud_retraining-trigger-schedule"
    ]
    assert [r.inputs["roleName"] for r in mocks.registrations if r.type == "alicloud:ram/role:Role"] == [FUNCTION]


@pytest.mark.parametrize(
    ("trigger", "expression"),
    [
        ({"schedule": "0 0 3 * * *"}, "0 0 3 * * *"),
        ({"schedule": "0 0 3 * * *", "timezone": "Europe/Berlin"}, "CRON_TZ=Europe/Berlin 0 0 3 * * *"),
        ({"schedule": "@every 90m"}, "@every 90m"),
    ],
)
def test_timer_config(trigger: dict[str, str], expression: str) -> None:
    config = PipelineTriggerConfig(**trigger)  # pyright: ignore[reportArgumentType]
    assert timer_config(config) == {"cronExpression": expression, "enable": True, "payload": ""}


@pytest.mark.parametrize(
    ("marker", "key_filter"),
    [
        ("data/transactions/_SUCCESS", {"prefix": "data/transactions/", "suffix": "_SUCCESS"}),
        ("data/READY", {"prefix": "data/", "suffix": "READY"}),
        ("data/a/b/batch.done", {"prefix": "data/a/b/", "suffix": "batch.done"}),
    ],
)
def test_oss_config_filters_on_the_marker_alone(marker: str, key_filter: dict[str, str]) -> None:
    assert oss_config(marker)["filter"] == {"key": key_filter}


def test_the_archive_is_the_handler_as_index_py_and_the_same_bytes_every_time() -> None:
    encoded = function_archive()
    assert encoded == function_archive()
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(encoded))) as archive:
        assert archive.namelist() == ["index.py"]
        assert archive.read("index.py") == HANDLER_SOURCE.read_bytes()


@pytest.mark.parametrize(
    ("trigger", "name", "expected"),
    [
        (
            {"timezone": "Asia/Shanghai"},
            "fraud_retraining",
            [
                "pai-mlops:pipeline.retraining[0].trigger [schedule]: a trigger needs a schedule or a dataMarker; got "
                "nothing. Give schedule (e.g. '0 0 3 * * *') and/or dataMarker (e.g. 'data/transactions/_SUCCESS')."
            ],
        ),
        (
            {"schedule": "0 0 3 * * *", "timezone": "Mars/Olympus"},
            "fraud_retraining",
            [
                "pai-mlops:pipeline.retraining[0].trigger [timezone]: is not an IANA time zone; got 'Mars/Olympus'. "
                "Write e.g. 'Asia/Shanghai' or 'UTC'."
            ],
        ),
        (
            {"schedule": "@every 1h", "timezone": "Asia/Shanghai"},
            "fraud_retraining",
            [
                "pai-mlops:pipeline.retraining[0].trigger [timezone]: has no meaning for an '@every' schedule; got "
                "'Asia/Shanghai'. Leave timezone out, or give 6 cron fields."
            ],
        ),
        (
            {"schedule": "0 3 * * *"},
            "fraud_retraining",
            [
                "pai-mlops:pipeline.retraining[0].trigger [schedule]: must be 6 cron fields (second minute hour day "
                "month weekday) or '@every <n>m|h'; got '0 3 * * *'. Give 6 cron fields: second minute hour day "
                "month weekday, e.g. '0 0 3 * * *' (03:00 daily), or '@every 24h'."
            ],
        ),
        (
            {"dataMarker": "models/x/_SUCCESS"},
            "fraud_retraining",
            [
                "pai-mlops:pipeline.retraining[0].trigger [dataMarker]: must be an object key under data/, e.g. "
                "'data/transactions/_SUCCESS'; got 'models/x/_SUCCESS'. Give the object under data/ whose writing "
                "starts a run, e.g. 'data/transactions/_SUCCESS'."
            ],
        ),
        (
            {"dataMarker": "data/x/_SUCCESS"},
            "fraud_retraining_with_a_really_long_descriptive_name",
            [
                "pai-mlops:pipeline.retraining[0] [name]: makes the trigger's RAM role name pai-mlops-prod-fraud-"
                "retraining-with-a-really-long-descriptive-name-start-oss longer than 64 characters; got "
                "'fraud_retraining_with_a_really_long_descriptive_name'. Use a shorter pipeline name."
            ],
        ),
    ],
)
def test_trigger_config_problems(trigger: dict[str, Any], name: str, expected: list[str]) -> None:
    raw = raw_with({"provider": "1234567890", "retraining": [{**RETRAINING, "name": name, "trigger": trigger}]})
    assert problems_of(raw) == expected


@pytest.mark.parametrize(
    ("cpu", "memory_mb", "fits"),
    [
        (0.05, 128, True),  # 1 : 2.5
        (0.1, 128, True),  # 1 : 1.25
        (0.15, 128, False),  # more vCPU than GB
        (0.03, 128, False),  # not a multiple of 0.05
        (0.35, 512, True),
        (0.1, 512, False),  # 1 : 5
        (0.05, 100, False),  # memory is a multiple of 64 MB, at least 128
    ],
)
def test_the_documented_cpu_to_memory_ratio(cpu: float, memory_mb: int, fits: bool) -> None:
    assert within_cpu_ratio(cpu, memory_mb) is fits


def test_the_function_size_is_within_the_ratio() -> None:
    assert within_cpu_ratio(CPU, MEMORY_MB)


@pytest.mark.parametrize(
    ("function", "project"),
    [
        ("pai-mlops-dev-fraud-start", "pai-mlops-dev-fraud-start-1234567890123456"),
        (
            "pai-mlops-prod-a-very-long-retraining-pipeline-name-start",
            "pai-mlops-prod-a-very-long-retraining-7c7c8e4b-1234567890123456",  # 63 characters
        ),
    ],
)
def test_log_project_names_fit_the_sls_rule(function: str, project: str) -> None:
    name = log_project_name(function, "1234567890123456")
    assert name == project
    assert len(name) <= 63
