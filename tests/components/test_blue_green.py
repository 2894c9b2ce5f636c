"""components/blue_green.py: the blue-green service, its children and the order that makes a release safe."""

from __future__ import annotations

from typing import Any

import pulumi

from components import BlueGreenService, BlueGreenServiceArgs
from components.blue_green import autoscaler_args, shift_args
from providers.autoscaler import CronJob
from stack_config import MetricsConfig
from tests.support.components import children, served
from tools.mock_engine import RecordingMocks, run_under_mocks


def blue_green(mocks: RecordingMocks, token: str | None = None, **changes: Any) -> None:
    svc = served(contracts={"v6": "v1.4", "v7": "v1.5"}, **changes)
    args = BlueGreenServiceArgs(
        service=svc,
        bucket_name="acme-pai-prod",
        workspace_id="ws-1",
        metrics=MetricsConfig(),
        token=pulumi.Output.secret(token) if token else None,
    )
    run_under_mocks(lambda: BlueGreenService("fraud_scorer", args))


def test_blue_green_service_children_and_the_order_that_makes_a_release_safe(mocks: RecordingMocks) -> None:
    blue_green(mocks, minInstances=0)
    assert children(mocks, "pai-mlops:serving:BlueGreenService", "fraud_scorer") == [
        ("pai-mlops:serving:ModelService", "fraud_scorer"),
        ("pulumi-python:dynamic/pai:EasAutoscaler", "fraud_scorer-v6-autoscaler"),
        ("pulumi-python:dynamic/pai:EasAutoscaler", "fraud_scorer-v7-autoscaler"),
        ("pulumi-python:dynamic/pai:ServiceEndpoint", "fraud_scorer-endpoint"),
        ("pulumi-python:dynamic/pai:TrafficShift", "fraud_scorer-traffic"),
    ]
    urn = {r.name: r.urn for r in mocks.registrations}
    v6, v7 = urn["fraud_scorer-v6"], urn["fraud_scorer-v7"]
    autoscaler = mocks.one("pulumi-python:dynamic/pai:EasAutoscaler", "fraud_scorer-v7-autoscaler")
    assert autoscaler.dependencies == (v7,)
    endpoint = mocks.one("pulumi-python:dynamic/pai:ServiceEndpoint", "fraud_scorer-endpoint")
    assert sorted(endpoint.dependencies) == sorted((v6, v7))
    shift = mocks.one("pulumi-python:dynamic/pai:TrafficShift", "fraud_scorer-traffic")
    assert sorted(shift.dependencies) == sorted(
        (v6, v7, urn["fraud_scorer-v6-autoscaler"], urn["fraud_scorer-v7-autoscaler"])
    )


def test_blue_green_autoscaler_and_shift_inputs_come_from_the_config(mocks: RecordingMocks) -> None:
    blue_green(mocks, minInstances=0)
    autoscaler = mocks.one("pulumi-python:dynamic/pai:EasAutoscaler", "fraud_scorer-v7-autoscaler").inputs
    assert {k: v for k, v in autoscaler.items() if k != "__provider"} == {
        "service_name": "fraud_scorer_v7",
        "min_instances": 0,
        "max_instances": 4,
        "qps_per_instance": 20.0,
        "scale_in_cooldown_seconds": 300,
        "scale_up_window_seconds": 0,
        "zero_grace_seconds": 600,
        "activation_replicas": 1,
        "cron": [],
        "exclude_dates": [],
    }
    shift = mocks.one("pulumi-python:dynamic/pai:TrafficShift", "fraud_scorer-traffic").inputs
    assert {k: v for k, v in shift.items() if k != "__provider"} == {
        "group": "fraud_scorer",
        "services": {"v6": "fraud_scorer_v6", "v7": "fraud_scorer_v7"},
        "live": "v7",
        "steps": [10, 50, 100],
        "bake_seconds": 300,
        "check_interval_seconds": 30,
        "max_p95_latency_ms": 150.0,
        "max_error_rate": 0.01,
        "min_requests": 50,
        "no_data": "fail",
        "max_bake_extensions": 2,
        "rollback_without_bake": True,
        "shadow_percent": 0,
        "shadow_seconds": 0,
        "contracts": {"v6": "v1.4", "v7": "v1.5"},
        "allow_breaking_change": False,
        "ready_timeout_seconds": 900,
        "metrics": {
            "source": "cloudmonitor",
            "namespace": "acs_learn",
            "dimension": "serviceName",
            "latency_metric": "rt",
            "latency_statistic": "Average",
            "latency_unit": "microseconds",
            "error_metric": "rps_status_5xx_ratio",
            "error_unit": "percent",
            "qps_metric": "qps_total",
        },
    }


def test_blue_green_tokens_are_secret_outputs_and_a_rotation_token_a_secret_input(mocks: RecordingMocks) -> None:
    blue_green(mocks, token="rotated-token-0123456789")
    endpoint = mocks.one("pulumi-python:dynamic/pai:ServiceEndpoint", "fraud_scorer-endpoint")
    assert endpoint.additional_secret_outputs == ("access_token", "group_access_token", "token")
    assert endpoint.properties["token"] == {
        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
        "value": "rotated-token-0123456789",
    }


def test_every_rollout_knob_reaches_the_shift_and_every_scaling_knob_the_autoscaler() -> None:
    rollout = {
        "steps": [5, 25, 100],
        "bakeSeconds": 120,
        "maxP95LatencyMs": 250.0,
        "maxErrorRate": 0.02,
        "checkIntervalSeconds": 15,
        "minRequests": 500,
        "noData": "proceed",
        "maxBakeExtensions": 4,
        "rollbackWithoutBake": False,
        "shadowPercent": 10,
        "shadowSeconds": 300,
        "allowBreakingChange": True,
    }
    cron = [{"name": "weekday-morning", "schedule": "0 0 8 * * 1-5", "targetSize": 3}]
    svc = served(rollout=rollout, cron=cron, cpuPercent=70, zeroGraceSeconds=900, minInstances=0)
    shift = shift_args(svc, {"v6": "fraud_scorer_v6", "v7": "fraud_scorer_v7"}, MetricsConfig())
    assert (shift.steps, shift.bake_seconds, shift.max_p95_latency_ms, shift.max_error_rate) == (
        [5, 25, 100],
        120,
        250,
        0.02,
    )
    assert (shift.check_interval_seconds, shift.min_requests, shift.no_data, shift.max_bake_extensions) == (
        15,
        500,
        "proceed",
        4,
    )
    assert (shift.rollback_without_bake, shift.shadow_percent, shift.shadow_seconds, shift.allow_breaking_change) == (
        False,
        10,
        300,
        True,
    )
    assert (shift.group, shift.live, shift.ready_timeout_seconds, shift.deadline_seconds) == (
        "fraud_scorer",
        "v7",
        900,
        None,
    )
    scaler = autoscaler_args(svc, "fraud_scorer_v7")
    assert (scaler.service_name, scaler.min_instances, scaler.cpu_percent, scaler.zero_grace_seconds) == (
        "fraud_scorer_v7",
        0,
        70,
        900,
    )
    assert scaler.cron == [CronJob(name="weekday-morning", schedule="0 0 8 * * 1-5", target_size=3)]
