"""EasAutoscaler through ``python -m pulumi.dynamic`` against the emulator: scale to zero on every ``up``, drift
made visible by refresh and put back by ``up``, objects deleted by hand, lost answers, and a typed ``check``."""

# pyright: basic, reportOptionalMemberAccess=false, reportArgumentType=false, reportReturnType=false

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from alibabacloud_eas20210701 import models as eas

from providers.autoscaler import DEFAULTS, EasAutoscalerProvider
from providers.clients import ClientFactory
from tests.emulator import Control
from tests.support.provider_host import ProviderHost

REGION = "cn-hangzhou"
SERVICE = "fraud_scorer_v7"
ID = f"{REGION}/{SERVICE}"
DEV: dict[str, Any] = {
    "service_name": SERVICE,
    "min_instances": 0,
    "max_instances": 2,
    "qps_per_instance": 20,
    "cpu_percent": None,
    "scale_in_cooldown_seconds": 300,
    "scale_up_window_seconds": 0,
    "zero_grace_seconds": 600,
    "activation_replicas": 1,
    "cron": [],
    "exclude_dates": [],
}
PROD: dict[str, Any] = {
    **DEV,
    "min_instances": 2,
    "max_instances": 10,
    "cpu_percent": 70,
    "cron": [{"name": "morning", "schedule": "0 0 8 * * 1-5", "target_size": 6}],
}


def scaler(base: dict[str, Any] = DEV, **changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(base), **changes}


@pytest.fixture
def service(cloud: Control, clients: ClientFactory) -> ClientFactory:
    config = {"metadata": {"name": SERVICE, "group": "fraud_scorer", "instance": 2}, "processor": "pmml"}
    clients.eas().create_service(eas.CreateServiceRequest(body=json.dumps(config)))
    cloud.clock(advance=120)
    return clients


def scaler_actions(cloud: Control) -> list[str]:
    return [
        c["action"]
        for c in cloud.calls(api="eas")
        if "Scaler" in c["action"] and not c["action"].startswith("Describe")
    ]


def described(clients: ClientFactory) -> tuple[int, int, list[tuple[str, float]], dict[str, Any]]:
    body = clients.eas().describe_service_auto_scaler(REGION, SERVICE).body
    return (
        body.min_replica,
        body.max_replica,
        [(s.metric_name, s.threshold) for s in body.scale_strategies],
        body.behavior,
    )


# -- scale to zero on the second and every later up --------------------------------------------------------------


def test_scale_to_zero_survives_every_later_up_by_recreating_never_updating_to_min_0(
    host: ProviderHost, cloud: Control, service: ClientFactory
) -> None:
    id_, outs = host.create(EasAutoscalerProvider(), scaler())
    assert scaler_actions(cloud) == ["CreateServiceAutoScaler"]

    # Second up: a new threshold, still min 0. UpdateServiceAutoScaler documents min > 0 (the emulator refuses it).
    outs = host.update(EasAutoscalerProvider(), id_, outs, scaler(qps_per_instance=30))
    assert scaler_actions(cloud) == ["CreateServiceAutoScaler", "DeleteServiceAutoScaler", "CreateServiceAutoScaler"]
    assert described(service)[:3] == (0, 2, [("QPS", 30)])
    assert "min 0 cannot go through Update; recreating the autoscaler" in host.stderr

    # Third up: another change, same path; the answer the provider keeps shows what is there.
    outs = host.update(EasAutoscalerProvider(), id_, outs, scaler(qps_per_instance=30, zero_grace_seconds=900))
    assert scaler_actions(cloud)[-2:] == ["DeleteServiceAutoScaler", "CreateServiceAutoScaler"]
    assert described(service)[3]["onZero"] == {"scaleDownGracePeriodSeconds": 900, "scaleUpActivationReplicas": 1}
    assert outs["observed"]["zero_grace_seconds"] == 900 and outs["observed"]["min_instances"] == 0
    assert [c for c in cloud.calls(api="eas", action="UpdateServiceAutoScaler")] == []

    # An up with nothing to change calls nothing.
    host.update(EasAutoscalerProvider(), id_, outs, scaler(qps_per_instance=30, zero_grace_seconds=900))
    assert len(scaler_actions(cloud)) == 5


def test_leaving_and_returning_to_zero(host: ProviderHost, cloud: Control, service: ClientFactory) -> None:
    id_, outs = host.create(EasAutoscalerProvider(), scaler())
    outs = host.update(EasAutoscalerProvider(), id_, outs, scaler(min_instances=1))
    [update] = cloud.calls(api="eas", action="UpdateServiceAutoScaler")
    assert update["body"]["min"] == 1 and update["status"] == 200
    host.update(EasAutoscalerProvider(), id_, outs, scaler())
    assert scaler_actions(cloud)[-2:] == ["DeleteServiceAutoScaler", "CreateServiceAutoScaler"]
    assert described(service)[0] == 0


def test_the_emulator_refuses_min_0_on_update_as_documented(service: ClientFactory) -> None:
    from alibabacloud_tea_openapi.exceptions import ClientException

    client = service.eas()
    strategies = [eas.CreateServiceAutoScalerRequestScaleStrategies(metric_name="qps", threshold=20)]
    client.create_service_auto_scaler(
        REGION, SERVICE, eas.CreateServiceAutoScalerRequest(min=0, max=2, scale_strategies=strategies)
    )
    update = eas.UpdateServiceAutoScalerRequest(
        min=0,
        max=3,
        scale_strategies=[eas.UpdateServiceAutoScalerRequestScaleStrategies(metric_name="qps", threshold=5)],
    )
    with pytest.raises(ClientException) as refused:
        client.update_service_auto_scaler(REGION, SERVICE, update)
    assert (refused.value.code, refused.value.status_code) == ("InvalidParameter", 400)
    assert "min must be greater than 0 on UpdateServiceAutoScaler; got min=0" in refused.value.message


# -- refresh keeps drift visible; up restores the declared values -------------------------------------------------


def test_refresh_records_hand_made_changes_preview_shows_them_and_up_restores_the_stack(
    host: ProviderHost, cloud: Control, service: ClientFactory
) -> None:
    id_, outs = host.create(EasAutoscalerProvider(), scaler(PROD))
    assert host.diff(EasAutoscalerProvider(), id_, outs, scaler(PROD)).changes == "DIFF_NONE"
    client = service.eas()
    # Someone raises the CPU threshold, drops the QPS strategy and deletes the cron scaler in the console.
    by_hand = eas.UpdateServiceAutoScalerRequest(
        min=2,
        max=10,
        scale_strategies=[eas.UpdateServiceAutoScalerRequestScaleStrategies(metric_name="cpu", threshold=90)],
        behavior=eas.UpdateServiceAutoScalerRequestBehavior(
            scale_down=eas.UpdateServiceAutoScalerRequestBehaviorScaleDown(stabilization_window_seconds=60)
        ),
    )
    client.update_service_auto_scaler(REGION, SERVICE, by_hand)
    client.delete_service_cron_scaler(REGION, SERVICE)

    read_id, refreshed = host.read(EasAutoscalerProvider(), id_, outs)
    assert read_id == id_
    declared = {k: v for k, v in refreshed.items() if k not in ("observed", "region")}
    assert declared == scaler(PROD)  # what the stack declared is kept
    assert refreshed["observed"] == {
        "min_instances": 2,
        "max_instances": 10,
        "cpu_percent": 90,  # no qps strategy any more (a None does not cross gRPC)
        "scale_in_cooldown_seconds": 60,
        "cron": [],
        "exclude_dates": [],
    }
    # preview after refresh: the engine diffs the stored (refreshed) outputs with the program's inputs.
    assert host.diff(EasAutoscalerProvider(), id_, refreshed, scaler(PROD)).changes == "DIFF_SOME"

    restored = host.update(EasAutoscalerProvider(), id_, refreshed, scaler(PROD))
    assert described(service)[2:] == (
        [("QPS", 20), ("CPU", 70)],
        {"scaleUp": {"stabilizationWindowSeconds": 0}, "scaleDown": {"stabilizationWindowSeconds": 300}},
    )
    jobs = client.describe_service_cron_scaler(REGION, SERVICE).body.scale_jobs
    assert [(j.name, j.schedule, j.target_size) for j in jobs] == [("morning", "0 0 8 * * 1-5", 6)]
    assert scaler_actions(cloud)[-2:] == ["UpdateServiceAutoScaler", "CreateServiceCronScaler"]
    assert host.diff(EasAutoscalerProvider(), id_, restored, scaler(PROD)).changes == "DIFF_NONE"
    _, again = host.read(EasAutoscalerProvider(), id_, restored)
    assert host.diff(EasAutoscalerProvider(), id_, again, scaler(PROD)).changes == "DIFF_NONE"


def test_a_cron_scaler_added_by_hand_is_drift_too(host: ProviderHost, cloud: Control, service: ClientFactory) -> None:
    id_, outs = host.create(EasAutoscalerProvider(), scaler(PROD, cron=[]))
    job = eas.CreateServiceCronScalerRequestScaleJobs(name="night", schedule="0 0 2 * * *", target_size=0)
    service.eas().create_service_cron_scaler(REGION, SERVICE, eas.CreateServiceCronScalerRequest(scale_jobs=[job]))
    _, refreshed = host.read(EasAutoscalerProvider(), id_, outs)
    assert refreshed["observed"]["cron"] == [{"name": "night", "schedule": "0 0 2 * * *", "target_size": 0}]
    assert host.diff(EasAutoscalerProvider(), id_, refreshed, scaler(PROD, cron=[])).changes == "DIFF_SOME"
    host.update(EasAutoscalerProvider(), id_, refreshed, scaler(PROD, cron=[]))
    assert scaler_actions(cloud)[-1] == "DeleteServiceCronScaler"


# -- deleted in the console ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("what", ["autoscaler", "service"])
def test_refresh_after_deletion_in_the_console_reports_it_gone(
    host: ProviderHost, cloud: Control, service: ClientFactory, what: str
) -> None:
    id_, outs = host.create(EasAutoscalerProvider(), scaler(PROD))
    if what == "autoscaler":
        service.eas().delete_service_auto_scaler(REGION, SERVICE)
    else:
        service.eas().delete_service(REGION, SERVICE)
        cloud.clock(advance=60)
    assert host.read(EasAutoscalerProvider(), id_, outs) == ("", {})


# -- lost answers -------------------------------------------------------------------------------------------------


def test_a_lost_answer_on_the_recreate_of_a_min_0_scaler_is_confirmed_by_reading(
    host: ProviderHost, cloud: Control, service: ClientFactory
) -> None:
    id_, outs = host.create(EasAutoscalerProvider(), scaler())
    cloud.fault("CreateServiceAutoScaler", "lost_response", api="eas")
    host.update(EasAutoscalerProvider(), id_, outs, scaler(qps_per_instance=30))
    creates = cloud.calls(api="eas", action="CreateServiceAutoScaler")
    assert [c["fault"] for c in creates] == [None, "lost_response"]  # asked once, confirmed by reading
    assert described(service)[:3] == (0, 2, [("QPS", 30)])
    assert "the change took effect" in host.stderr


def test_a_lost_answer_on_a_scaler_update_is_read_back_not_sent_again(
    host: ProviderHost, cloud: Control, service: ClientFactory
) -> None:
    id_, outs = host.create(EasAutoscalerProvider(), scaler(PROD))
    cloud.fault("UpdateServiceAutoScaler", "lost_response", api="eas")
    host.update(EasAutoscalerProvider(), id_, outs, scaler(PROD, cpu_percent=80))
    [update] = cloud.calls(api="eas", action="UpdateServiceAutoScaler")
    assert update["fault"] == "lost_response"
    following = [c["action"] for c in cloud.calls(api="eas") if c["seq"] > update["seq"]]
    assert following[0] == "DescribeServiceAutoScaler" and "UpdateServiceAutoScaler" not in following
    assert described(service)[2] == [("QPS", 20), ("CPU", 80)]


# -- check --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "failure"),
    [
        (
            {"min_instances": "1"},
            (
                "min_instances",
                "EasAutoscaler [min_instances]: must be a whole number; got '1'. "
                "Set the fewest instances, 0 to scale to zero, e.g. 1.",
            ),
        ),
        (
            {"max_instances": True},
            (
                "max_instances",
                "EasAutoscaler [max_instances]: must be a whole number; got True. "
                "Set the most instances, greater than min_instances, e.g. 4.",
            ),
        ),
        (
            {"min_instances": -1},
            (
                "min_instances",
                "EasAutoscaler [min_instances]: must be at least 0; got -1. "
                "Set the fewest instances, 0 to scale to zero, e.g. 1.",
            ),
        ),
        (
            {"qps_per_instance": "20"},
            (
                "qps_per_instance",
                "EasAutoscaler [qps_per_instance]: must be a number; got '20'. "
                "Give the target requests per second per instance, e.g. 20.",
            ),
        ),
        (
            {"cron": "0 0 8 * * *"},
            (
                "cron",
                "EasAutoscaler [cron]: must be a list; got '0 0 8 * * *'. "
                "List scheduled sizes as {name, schedule, target_size}.",
            ),
        ),
        (
            {"cron": [{"name": "a", "schedule": "0 0 8 * * *", "target_size": "3"}]},
            (
                "cron[0].target_size",
                "EasAutoscaler [cron[0].target_size]: must be a whole number; got '3'. "
                "Set the instances to run from then on, 0 or more.",
            ),
        ),
        (
            {"service_name": ""},
            (
                "service_name",
                "EasAutoscaler [service_name]: must not be empty; got ''. Give the EAS service the autoscaler sizes.",
            ),
        ),
        (
            {"scale_in_cooldown_seconds": 1.5},
            (
                "scale_in_cooldown_seconds",
                "EasAutoscaler [scale_in_cooldown_seconds]: must be a whole number; got 1.5. "
                "Give the scale-in cooldown in whole seconds.",
            ),
        ),
        (
            {"min_instance": 1},
            (
                "min_instance",
                "EasAutoscaler [min_instance]: is not a known key; got a value not shown here. Did you mean "
                "'min_instances'? Known keys here: activation_replicas, cpu_percent, cron, exclude_dates, "
                "max_instances, min_instances, qps_per_instance, scale_in_cooldown_seconds, "
                "scale_up_window_seconds, service_name, zero_grace_seconds.",
            ),
        ),
    ],
)
def test_check_refuses_each_bad_input_naming_it_and_the_fix(
    host: ProviderHost, changes: dict[str, Any], failure: tuple[str, str]
) -> None:
    _, failures = host.check(EasAutoscalerProvider(), {}, scaler(**changes))
    assert failures == [failure]


def test_check_fills_the_defaults_from_the_input_model_and_waits_for_unknown_values(host: ProviderHost) -> None:
    from pulumi.runtime import rpc

    minimal = {"service_name": SERVICE, "min_instances": 1, "max_instances": 3, "cpu_percent": 70}
    inputs, failures = host.check(EasAutoscalerProvider(), {}, minimal)
    defaults = {k: v for k, v in DEFAULTS.items() if v is not None}  # None values do not cross gRPC
    assert failures == [] and inputs == {**defaults, **minimal}
    _, failures = host.check(EasAutoscalerProvider(), {}, scaler(service_name=rpc.UNKNOWN))
    assert failures == []
    _, failures = host.check(EasAutoscalerProvider(), {}, scaler(min_instances=2, max_instances=2))
    assert failures == [("max_instances", "must be greater than min_instances (2), as EAS requires; got 2")]


def test_autoscaler_scales_to_zero_in_dev_and_updates_and_deletes(
    host: ProviderHost, cloud: Control, service: ClientFactory
) -> None:
    id_, outs = host.create(EasAutoscalerProvider(), DEV)
    assert (id_, outs["region"]) == ("cn-hangzhou/fraud_scorer_v7", REGION)
    [created] = cloud.calls(api="eas", action="CreateServiceAutoScaler")
    assert created["body"] == {
        "min": 0,
        "max": 2,
        "scaleStrategies": [{"metricName": "qps", "threshold": 20}],
        "behavior": {
            "scaleUp": {"stabilizationWindowSeconds": 0},
            "scaleDown": {"stabilizationWindowSeconds": 300},
            "onZero": {"scaleDownGracePeriodSeconds": 600, "scaleUpActivationReplicas": 1},
        },
    }
    prod = {
        **DEV,
        "min_instances": 2,
        "max_instances": 10,
        "cpu_percent": 70,
        "cron": [{"name": "morning", "schedule": "0 0 8 * * 1-5", "target_size": 6}],
    }
    host.update(EasAutoscalerProvider(), id_, outs, prod)
    [updated] = cloud.calls(api="eas", action="UpdateServiceAutoScaler")
    assert updated["body"]["min"] == 2 and "onZero" not in updated["body"]["behavior"]
    assert updated["body"]["scaleStrategies"] == [
        {"metricName": "qps", "threshold": 20},
        {"metricName": "cpu", "threshold": 70},
    ]
    [cron] = cloud.calls(api="eas", action="CreateServiceCronScaler")
    assert cron["body"] == {
        "ScaleJobs": [{"Name": "morning", "Schedule": "0 0 8 * * 1-5", "TargetSize": 6}],
        "ExcludeDates": [],
    }
    _, read = host.read(EasAutoscalerProvider(), id_, prod)
    assert (read["min_instances"], read["max_instances"], read["scale_in_cooldown_seconds"]) == (2, 10, 300)

    host.delete(EasAutoscalerProvider(), id_, prod)
    assert [c["action"] for c in cloud.calls(api="eas") if c["action"].startswith("Delete")] == [
        "DeleteServiceAutoScaler",
        "DeleteServiceCronScaler",
    ]
    assert host.read(EasAutoscalerProvider(), id_, prod) == ("", {})


def test_autoscaler_check_requires_max_above_min(host: ProviderHost) -> None:
    _, failures = host.check(EasAutoscalerProvider(), {}, {**DEV, "min_instances": 2, "max_instances": 2})
    assert failures == [("max_instances", "must be greater than min_instances (2), as EAS requires; got 2")]
