"""Production alarms: exact CloudMonitor rules from the rollout thresholds and the alarm config (mock engine)."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

import pytest

from components.monitoring import DATA_LOADING_ADVICE, ProductionAlarms, ProductionAlarmsArgs, threshold_text, uses_gpu
from stack_config import parse_stack_config
from tests.conftest import VALID_RAW, VALID_SERVICE
from tests.stack_config.test_stack import SPOT_JOB, problems_of
from tools.mock_engine import RecordingMocks, run_under_mocks

CPU_JOB = {**SPOT_JOB, "name": "tabular", "instanceType": "ecs.g6.xlarge", "spot": False}


def register(
    mocks: RecordingMocks, alarms: dict[str, Any], jobs: list[dict[str, Any]], metrics: dict[str, Any] | None = None
) -> ProductionAlarms:
    raw = copy.deepcopy(VALID_RAW)
    if metrics is not None:
        raw["serving"]["metrics"] = metrics
    raw["serving"]["services"][0]["versions"] = ["v6", "v7"]
    raw["alarms"] = alarms
    raw["training"] = {"jobs": jobs}
    config = parse_stack_config(raw, "prod")
    args = ProductionAlarmsArgs(
        services=config.serving.services,
        metrics=config.serving.metrics,
        alarms=config.alarms,
        training_jobs=config.training.jobs,
        workspace_id="ws-1",
        name_prefix="pai-mlops-prod",
        account_id="1234567890123456",
        region="cn-hangzhou",
    )
    built: list[ProductionAlarms] = []
    run_under_mocks(lambda: built.append(ProductionAlarms("alarms", args)))
    return built[0]


def alarm(mocks: RecordingMocks, name: str) -> Mapping[str, Any]:
    return mocks.one("alicloud:cms/alarm:Alarm", f"alarms-{name}").inputs


def test_each_served_version_gets_latency_and_error_rules_at_the_gate_thresholds(mocks: RecordingMocks) -> None:
    register(mocks, {"contactGroup": "ml-oncall", "contacts": ["alice", "bob"]}, [])

    assert mocks.one("alicloud:cms/alarmContactGroup:AlarmContactGroup", "alarms-contacts").inputs == {
        "alarmContactGroupName": "ml-oncall",
        "contacts": ["alice", "bob"],
        "describe": "pai-mlops-prod: production serving and training alarms",
    }
    assert sorted(r.name for r in mocks.registrations if r.type == "alicloud:cms/alarm:Alarm") == [
        "alarms-fraud_scorer_v6-error-ratio",
        "alarms-fraud_scorer_v6-p95-latency",
        "alarms-fraud_scorer_v7-error-ratio",
        "alarms-fraud_scorer_v7-p95-latency",
    ]
    assert alarm(mocks, "fraud_scorer_v7-p95-latency") == {
        "name": "pai-mlops-prod-fraud_scorer_v7-p95-latency",
        "project": "acs_learn",
        "metric": "rt",
        "metricDimensions": json.dumps([{"serviceName": "fraud_scorer_v7"}]),
        "period": 60,
        # CloudMonitor compares in the metric's unit: rt is in microseconds, so 150 ms is 150000.
        "escalationsCritical": {"statistics": "Average", "comparisonOperator": ">", "threshold": "150000", "times": 3},
        "contactGroups": ["ml-oncall"],
        "silenceTime": 3600,
        "enabled": True,
    }
    assert alarm(mocks, "fraud_scorer_v6-error-ratio")["metric"] == "rps_status_5xx_ratio"
    assert alarm(mocks, "fraud_scorer_v6-error-ratio")["escalationsCritical"] == {
        "statistics": "Average",
        "comparisonOperator": ">",
        "threshold": "1",  # maxErrorRate 0.01 as rps_status_5xx_ratio's percent
        "times": 3,
    }


def test_the_latency_rule_uses_the_configured_statistic_and_each_threshold_the_configured_unit(
    mocks: RecordingMocks,
) -> None:
    """PutResourceMetricRule checks Statistics against the metric's list (since 2024-08-15): the latency rule
    evaluates latencyStatistic; thresholds are written in the unit the config says the metric is in."""
    metrics = {"latencyMetric": "tp95_rt", "latencyStatistic": "Maximum", "latencyUnit": "milliseconds"}
    register(mocks, {"contactGroup": "ml-oncall", "contacts": ["alice"]}, [], {**metrics, "errorUnit": "ratio"})
    latency = alarm(mocks, "fraud_scorer_v7-p95-latency")
    assert (latency["metric"], latency["escalationsCritical"]["statistics"]) == ("tp95_rt", "Maximum")
    assert latency["escalationsCritical"]["threshold"] == "150"
    errors = alarm(mocks, "fraud_scorer_v7-error-ratio")["escalationsCritical"]
    assert (errors["statistics"], errors["threshold"]) == ("Average", "0.01")


def test_gpu_training_gets_one_sustained_low_utilisation_rule_for_the_workspace(mocks: RecordingMocks) -> None:
    alarms = {"contactGroup": "ml-oncall", "contacts": ["alice"], "periodSeconds": 300, "gpuSustainedMinutes": 20}
    gpu_run = {**SPOT_JOB, "name": "fraud_big", "run": "r2"}
    register(mocks, alarms, [SPOT_JOB, gpu_run, CPU_JOB])

    gpu = [r.inputs for r in mocks.registrations if r.name.endswith("gpu-underused")]
    assert gpu == [
        {
            "name": "pai-mlops-prod-training-gpu-underused",
            "project": "acs_pai_dlc",
            # DLC's metrics are upper-snake and job-level (fidelity-audit D10): every job dimension but jobId.
            "metric": "JOB_GPU_ACCELERATOR_DUTTY_UTIL",
            "metricDimensions": json.dumps(
                [{"userId": "1234567890123456", "regionId": "cn-hangzhou", "workspaceId": "ws-1"}]
            ),
            "period": 300,
            # below 60% for 20 minutes: 4 periods of 5 minutes in a row
            "escalationsCritical": {"statistics": "Average", "comparisonOperator": "<", "threshold": "60", "times": 4},
            "contactGroups": ["ml-oncall"],
            "silenceTime": 3600,
            "enabled": True,
        }
    ]


def test_cpu_only_training_gets_no_gpu_rule(mocks: RecordingMocks) -> None:
    register(mocks, {"contactGroup": "ml-oncall", "contacts": ["alice"]}, [CPU_JOB])
    assert not [r for r in mocks.registrations if r.name.endswith("gpu-underused")]


def test_the_rules_output_tells_the_person_paged_what_to_do(mocks: RecordingMocks) -> None:
    component = register(mocks, {"contactGroup": "ml-oncall", "contacts": ["alice"]}, [SPOT_JOB])
    assert component.rules == {
        "pai-mlops-prod-fraud_scorer_v6-p95-latency": "Average latency (rt) of fraud_scorer_v6 is above 150 ms (the "
        "release gate). Check its instances and autoscaler; roll back by setting live to the previous version.",
        "pai-mlops-prod-fraud_scorer_v6-error-ratio": "The 5xx ratio of fraud_scorer_v6 is above 0.01 (the release "
        "gate). Read its logs; roll back by setting live to the previous version.",
        "pai-mlops-prod-fraud_scorer_v7-p95-latency": "Average latency (rt) of fraud_scorer_v7 is above 150 ms (the "
        "release gate). Check its instances and autoscaler; roll back by setting live to the previous version.",
        "pai-mlops-prod-fraud_scorer_v7-error-ratio": "The 5xx ratio of fraud_scorer_v7 is above 0.01 (the release "
        "gate). Read its logs; roll back by setting live to the previous version.",
        "pai-mlops-prod-training-gpu-underused": DATA_LOADING_ADVICE,
    }
    assert DATA_LOADING_ADVICE == (
        "GPU utilisation stayed low: the input pipeline is the likely bottleneck. Raise the DataLoader's num_workers "
        "and prefetch_factor, or read from a faster mount, before adding GPUs."
    )


@pytest.mark.parametrize(
    ("job", "expected"),
    [
        ({"instanceType": "ecs.gn6i-c4g1.xlarge"}, True),
        ({"instanceType": "ecs.ebmgn7ex.32xlarge"}, True),
        ({"instanceType": "ecs.g6.xlarge"}, False),
        ({"resourceGroup": "quota-1", "instanceType": None, "resources": {"cpu": 8, "memoryGb": 32, "gpu": 1}}, True),
        ({"resourceGroup": "quota-1", "instanceType": None, "resources": {"cpu": 8, "memoryGb": 32}}, False),
    ],
)
def test_uses_gpu(job: dict[str, Any], expected: bool) -> None:
    raw = {**SPOT_JOB, "spot": False, **job}
    raw = {k: v for k, v in raw.items() if v is not None}
    config = parse_stack_config({**copy.deepcopy(VALID_RAW), "training": {"jobs": [raw]}}, "prod")
    assert uses_gpu(config.training.jobs[0]) is expected


@pytest.mark.parametrize(
    ("alarms", "expected"),
    [
        (
            None,
            "pai-mlops:alarms [contactGroup]: is required in prod: serving alarms must notify someone; got nothing. "
            "Give contactGroup (e.g. 'ml-oncall') and contacts (CloudMonitor contact names).",
        ),
        (
            {"contactGroup": "ml-oncall"},
            "pai-mlops:alarms [contacts]: is required in prod: serving alarms must notify someone; got nothing. "
            "Give contactGroup (e.g. 'ml-oncall') and contacts (CloudMonitor contact names).",
        ),
    ],
)
def test_prod_alarms_must_reach_someone(alarms: dict[str, Any] | None, expected: str) -> None:
    raw = copy.deepcopy(VALID_RAW)
    raw.pop("alarms")
    if alarms is not None:
        raw["alarms"] = alarms
    assert problems_of(raw) == [expected]
    dev = parse_stack_config({**raw, "environment": "dev", "serving": {"services": [VALID_SERVICE]}}, "dev")
    assert dev.alarms.contact_group == (alarms or {}).get("contactGroup")  # dev creates no alarms: none required


@pytest.mark.parametrize(
    ("value", "text"),
    [(1e6, "1000000"), (2.5e6, "2500000"), (150000.0, "150000"), (1.0, "1"), (0.5, "0.5"), (1e-7, "0.0000001")],
)
def test_thresholds_are_written_as_plain_decimals_never_an_exponent(value: float, text: str) -> None:
    """1 000 ms in rt's microseconds was written "1e+06" by ``:g``; CloudMonitor documents no exponent form."""
    assert threshold_text(value) == text
