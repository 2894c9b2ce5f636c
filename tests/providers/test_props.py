"""providers/props.py: the props of a dynamic resource come from its Args, field by field."""

from __future__ import annotations

import dataclasses

import pulumi

from providers.autoscaler import CronJob, EasAutoscalerArgs
from providers.notebook import DswInstanceArgs
from providers.props import plain, props_of


def test_props_are_the_args_fields_with_nested_dataclasses_as_dicts_and_sequences_as_lists() -> None:
    args = EasAutoscalerArgs(
        service_name="fraud_scorer_v7",
        min_instances=0,
        max_instances=4,
        cron=(CronJob(name="morning", schedule="0 0 8 * * 1-5", target_size=2),),
        exclude_dates=("0 0 0 1 1 *",),
    )
    assert props_of(args) == {
        "service_name": "fraud_scorer_v7",
        "min_instances": 0,
        "max_instances": 4,
        "qps_per_instance": None,
        "cpu_percent": None,
        "scale_in_cooldown_seconds": 300,
        "scale_up_window_seconds": 0,
        "zero_grace_seconds": 600,
        "activation_replicas": 1,
        "cron": [{"name": "morning", "schedule": "0 0 8 * * 1-5", "target_size": 2}],
        "exclude_dates": ["0 0 0 1 1 *"],
    }
    assert list(props_of(args)) == [field.name for field in dataclasses.fields(EasAutoscalerArgs)]


def test_an_output_is_passed_as_it_is_never_copied() -> None:
    workspace = pulumi.Output.from_input("ws-1")
    args = DswInstanceArgs(
        instance_name="alice", workspace_id=workspace, instance_type="ecs.c7.large", image_url="img:1", role_arn="r"
    )
    assert props_of(args)["workspace_id"] is workspace


def test_plain_restores_whole_numbers() -> None:
    assert plain({"a": 2.0, "b": [1.5, 3.0], "c": True}) == {"a": 2, "b": [1.5, 3], "c": True}
