"""EAS policies on fixtures: each fires with its exact message and stays quiet on a compliant resource."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pulumi_policy import EnforcementLevel
from pulumi_policy.proxy import UnknownValueError

from policies.rules import eas
from policies.rules.common import EAS_AUTOSCALER, EAS_DYNAMIC_SERVICE, EAS_SERVICE, TRAFFIC_SHIFT
from tests.support.policy_harness import UNKNOWN, Fixture, NotApplicable, check, check_stack

FIX_MIN = "Set minInstances to 1 or more for this service under pai-mlops:serving in the stack's config."


def service(instance: Any = 2, env: str = "prod", **extra: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "fraud_scorer_v7", "group": "fraud_scorer", "instance": instance, **extra}
    config: dict[str, Any] = {"metadata": metadata, "processor": "pmml"}
    return {"serviceConfig": json.dumps(config), "tags": {"environment": env}}


def autoscaler(**inputs: Any) -> dict[str, Any]:
    return {"service_name": "fraud_scorer_v7", "min_instances": 1, "max_instances": 4, **inputs}


def test_policy_metadata() -> None:
    assert [(p.name, p.enforcement_level, type(p).__name__) for p in eas.POLICIES] == [
        ("eas-prod-min-instances", EnforcementLevel.MANDATORY, "ResourceValidationPolicy"),
        ("eas-dev-scale-to-zero", EnforcementLevel.ADVISORY, "StackValidationPolicy"),
        ("eas-scale-in-cooldown", EnforcementLevel.ADVISORY, "ResourceValidationPolicy"),
        ("eas-prod-dedicated-resource-group", EnforcementLevel.ADVISORY, "ResourceValidationPolicy"),
        ("eas-prod-gated-rollout", EnforcementLevel.MANDATORY, "ResourceValidationPolicy"),
    ]


# --- eas-prod-min-instances


def test_min_instances_fires_on_a_prod_autoscaler_that_may_reach_zero() -> None:
    assert check(eas.eas_prod_min_instances, EAS_AUTOSCALER, autoscaler(min_instances=0)) == [
        f"EAS autoscaler of 'fraud_scorer_v7' may scale to 0 instances (min_instances); "
        f"a production endpoint keeps at least 1. {FIX_MIN}"
    ]


def test_min_instances_fires_on_a_prod_service_starting_empty() -> None:
    assert check(eas.eas_prod_min_instances, EAS_SERVICE, service(instance=0)) == [
        f"EAS service 'fraud_scorer_v7' starts with 0 instances (serviceConfig metadata.instance); "
        f"a production endpoint keeps at least 1. {FIX_MIN}"
    ]


def test_min_instances_fires_on_an_in_config_autoscaler_minimum_of_zero() -> None:
    props = service()
    config = json.loads(props["serviceConfig"])
    config["autoscaler"] = {"min": 0, "max": 4, "strategies": {"qps": 10}}
    props["serviceConfig"] = json.dumps(config)
    assert check(eas.eas_prod_min_instances, EAS_SERVICE, props) == [
        f"EAS service 'fraud_scorer_v7' may scale to 0 instances (serviceConfig autoscaler.min); "
        f"a production endpoint keeps at least 1. {FIX_MIN}"
    ]


def test_min_instances_reports_a_service_config_that_is_not_json() -> None:
    props = {"serviceConfig": "{not json", "tags": {"environment": "prod"}}
    assert check(eas.eas_prod_min_instances, EAS_SERVICE, props, name="svc") == [
        "EAS service 'svc': serviceConfig is not valid JSON (Expecting property name enclosed in double quotes "
        "at character 1), so its instance count cannot be checked. Fix the serviceConfig."
    ]


def test_min_instances_is_quiet_when_prod_keeps_instances() -> None:
    assert check(eas.eas_prod_min_instances, EAS_SERVICE, service(instance=1)) == []
    assert check(eas.eas_prod_min_instances, EAS_AUTOSCALER, autoscaler(min_instances=1)) == []


def test_min_instances_does_not_apply_to_dev_by_tag_or_by_stack() -> None:
    with pytest.raises(NotApplicable) as tagged:
        check(eas.eas_prod_min_instances, EAS_SERVICE, service(instance=0, env="dev"))
    assert tagged.value.reason == "environment 'dev' is not one of prod"
    with pytest.raises(NotApplicable) as by_stack:
        check(eas.eas_prod_min_instances, EAS_AUTOSCALER, autoscaler(min_instances=0), stack="dev")
    assert by_stack.value.reason == "environment 'dev' is not one of prod"


def test_min_instances_environment_tag_wins_over_the_stack_name() -> None:
    # A prod-tagged service in a stack named "staging" is still held to the prod rule.
    assert len(check(eas.eas_prod_min_instances, EAS_SERVICE, service(instance=0), stack="staging")) == 1


def test_min_instances_environments_are_configurable() -> None:
    config = {"environments": ["prod", "staging"]}
    found = check(
        eas.eas_prod_min_instances, EAS_AUTOSCALER, autoscaler(min_instances=0), stack="staging", config=config
    )
    assert len(found) == 1


def test_min_instances_reading_an_unknown_minimum_is_deferred_to_up() -> None:
    with pytest.raises(UnknownValueError) as caught:
        check(eas.eas_prod_min_instances, EAS_AUTOSCALER, autoscaler(min_instances=UNKNOWN))
    assert caught.value.message == "string value at .min_instances can't be known during preview"


# --- eas-dev-scale-to-zero


def dev_service(name: str = "svc-v1") -> Fixture:
    config = {"metadata": {"name": "svc_v1", "group": "svc", "instance": 1}}
    return Fixture(EAS_SERVICE, name, {"serviceConfig": json.dumps(config), "tags": {"environment": "dev"}}, "dev")


SCALE_FIX = "Give it minInstances: 0 under pai-mlops:serving, served by an EasAutoscaler with min_instances 0."


def test_scale_to_zero_fires_on_a_dev_service_without_autoscaler() -> None:
    assert check_stack(eas.eas_dev_scale_to_zero, [dev_service()]) == [
        (
            "svc-v1",
            f"dev EAS service 'svc_v1' has no EasAutoscaler, so it never scales to zero and is billed while idle. "
            f"{SCALE_FIX}",
        )
    ]


def test_scale_to_zero_fires_when_the_autoscaler_keeps_instances() -> None:
    scaler = Fixture(EAS_AUTOSCALER, "svc-v1-scaler", {"service_name": "svc_v1", "min_instances": 1}, "dev")
    assert check_stack(eas.eas_dev_scale_to_zero, [dev_service(), scaler]) == [
        (
            "svc-v1",
            f"dev EAS service 'svc_v1' keeps instances running when idle (autoscaler min_instances 1). {SCALE_FIX}",
        )
    ]


def test_scale_to_zero_is_quiet_with_a_zero_minimum_and_ignores_prod() -> None:
    scaler = Fixture(EAS_AUTOSCALER, "svc-v1-scaler", {"service_name": "svc_v1", "min_instances": 0}, "dev")
    assert check_stack(eas.eas_dev_scale_to_zero, [dev_service(), scaler]) == []
    prod = Fixture(EAS_SERVICE, "p", service(), "prod")
    assert check_stack(eas.eas_dev_scale_to_zero, [prod]) == []


# --- eas-scale-in-cooldown


def test_cooldown_fires_below_the_minimum() -> None:
    assert check(eas.eas_scale_in_cooldown, EAS_AUTOSCALER, autoscaler(scale_in_cooldown_seconds=120)) == [
        "EAS autoscaler of 'fraud_scorer_v7' scales in after 120 s of low load (scale_in_cooldown_seconds); "
        "under 300 s it removes instances between bursts and adds them back, paying cold starts each time. "
        "Set scaleInCooldownSeconds to 300 or more for this service under pai-mlops:serving."
    ]


def test_cooldown_is_quiet_at_the_minimum_or_when_left_to_the_default() -> None:
    assert check(eas.eas_scale_in_cooldown, EAS_AUTOSCALER, autoscaler(scale_in_cooldown_seconds=300)) == []
    assert check(eas.eas_scale_in_cooldown, EAS_AUTOSCALER, autoscaler()) == []


def test_cooldown_minimum_is_configurable() -> None:
    props = autoscaler(scale_in_cooldown_seconds=300)
    assert len(check(eas.eas_scale_in_cooldown, EAS_AUTOSCALER, props, config={"minSeconds": 600})) == 1


# --- eas-prod-dedicated-resource-group

DEDICATED_FIX = (
    "Set resourceGroup to a dedicated EAS resource group (eas-r-…) for it under pai-mlops:serving, "
    "or list 'fraud_scorer_v7' in this policy's exemptServices."
)


def test_dedicated_fires_on_the_shared_group_in_prod() -> None:
    assert check(eas.eas_prod_dedicated_resource_group, EAS_SERVICE, service()) == [
        "production EAS service 'fraud_scorer_v7' runs on the shared public resource group, without reserved "
        f"capacity or isolation. {DEDICATED_FIX}"
    ]


def test_dedicated_fires_on_a_group_id_that_does_not_match() -> None:
    assert check(eas.eas_prod_dedicated_resource_group, EAS_SERVICE, service(resource="my-group")) == [
        f"production EAS service 'fraud_scorer_v7' names resource group 'my-group', which does not match "
        f"^eas-r-[a-z0-9]+$. {DEDICATED_FIX}"
    ]


def test_dedicated_is_quiet_on_a_dedicated_group_and_for_exempt_services() -> None:
    assert check(eas.eas_prod_dedicated_resource_group, EAS_SERVICE, service(resource="eas-r-acmegpu01")) == []
    with pytest.raises(NotApplicable) as exempt:
        check(
            eas.eas_prod_dedicated_resource_group,
            EAS_SERVICE,
            service(),
            config={"exemptServices": ["fraud_scorer_v7"]},
        )
    assert exempt.value.reason == "EAS service 'fraud_scorer_v7' is exempt (exemptServices)"


# --- eas-prod-gated-rollout

ROLLOUT_FIX = (
    "Set rollout under pai-mlops:serving to steps that ascend from 10% or less to 100%, a bakeSeconds above 0, "
    "maxP95LatencyMs and maxErrorRate."
)
GATED: dict[str, Any] = {
    "group": "fraud_scorer",
    "steps": [10, 50, 100],
    "bake_seconds": 300,
    "max_p95_latency_ms": 150,
    "max_error_rate": 0.01,
}


def rollout(**changes: Any) -> dict[str, Any]:
    return {key: value for key, value in {**GATED, **changes}.items() if value is not None}


@pytest.mark.parametrize(
    ("changes", "problems"),
    [
        (
            {"steps": [50, 10, 100]},
            ["has steps [50, 10, 100], which do not ascend", "starts at 50% of traffic, more than 10%"],
        ),
        ({"steps": [25, 100]}, ["starts at 25% of traffic, more than 10%"]),
        ({"steps": [10, 50, 90]}, ["ends at 90% of traffic instead of 100%"]),
        ({"steps": [0, 100]}, ["has steps [0, 100]; each step is a percentage above 0 and at most 100"]),
        ({"steps": "10,100"}, ["has steps '10,100', not a list of percentages"]),
        ({"bake_seconds": 0}, ["bakes 0 seconds per step; each step must bake for some time"]),
        ({"bake_seconds": None}, ["has no bake time (bake_seconds not set)"]),
        ({"max_p95_latency_ms": None}, ["has no latency gate (max_p95_latency_ms)"]),
        ({"max_error_rate": None}, ["has no error-rate gate (max_error_rate, a ratio between 0 and 1)"]),
        ({"max_error_rate": 5}, ["has no error-rate gate (max_error_rate, a ratio between 0 and 1)"]),
    ],
)
def test_gated_rollout_fires_on_each_missing_guard(changes: dict[str, Any], problems: list[str]) -> None:
    found = check(eas.eas_prod_gated_rollout, TRAFFIC_SHIFT, rollout(**changes))
    assert found == [f"traffic shift of EAS group 'fraud_scorer' {problem}. {ROLLOUT_FIX}" for problem in problems]


def test_gated_rollout_is_quiet_when_gated_and_with_the_default_steps() -> None:
    assert check(eas.eas_prod_gated_rollout, TRAFFIC_SHIFT, rollout()) == []
    assert check(eas.eas_prod_gated_rollout, TRAFFIC_SHIFT, rollout(steps=None)) == []


def test_gated_rollout_applies_only_to_prod() -> None:
    with pytest.raises(NotApplicable):
        check(eas.eas_prod_gated_rollout, TRAFFIC_SHIFT, rollout(steps=[50, 100]), stack="dev")


def test_gated_rollout_first_step_limit_is_configurable() -> None:
    assert check(eas.eas_prod_gated_rollout, TRAFFIC_SHIFT, rollout(steps=[5, 100]), config={"maxFirstStep": 5}) == []


# --- the same rules on the EasService dynamic resource (providers/eas_service.py, input service_config)


def eas_service(instance: Any = 2, **extra: Any) -> dict[str, Any]:
    props = service(instance, **extra)
    return {"service_name": "fraud_scorer_v7", "service_config": props.pop("serviceConfig"), **props}


def test_service_rules_read_an_eas_service_like_a_pai_service() -> None:
    assert check(eas.eas_prod_min_instances, EAS_DYNAMIC_SERVICE, eas_service(instance=0)) == [
        f"EAS service 'fraud_scorer_v7' starts with 0 instances (serviceConfig metadata.instance); "
        f"a production endpoint keeps at least 1. {FIX_MIN}"
    ]
    assert check(eas.eas_prod_dedicated_resource_group, EAS_DYNAMIC_SERVICE, eas_service()) == [
        "production EAS service 'fraud_scorer_v7' runs on the shared public resource group, without reserved "
        f"capacity or isolation. {DEDICATED_FIX}"
    ]
    assert check(eas.eas_prod_min_instances, EAS_DYNAMIC_SERVICE, eas_service()) == []
