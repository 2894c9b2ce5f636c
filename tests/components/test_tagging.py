"""The tag transform: standard tags on every taggable resource type, nothing else touched."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pulumi
import pulumi_alicloud
import pytest

from components.tagging import TAGGABLE_TYPES, merged_tags, tag_transform
from providers.autoscaler import EasAutoscalerArgs
from providers.eas_service import EasServiceArgs
from providers.endpoint import ServiceEndpointArgs
from providers.metric_meta import MetricMetaCheckArgs
from providers.notebook import DswInstanceArgs
from providers.promotion import ModelPromotionArgs
from providers.traffic import TrafficShiftArgs
from providers.training import TrainingJobArgs
from tools.mock_engine import run_program

STANDARD = {"environment": "dev", "owner": "ml-platform", "cost-center": "cc-1"}


def apply(type_: str, props: dict[str, Any]) -> pulumi.ResourceTransformResult | None:
    args = pulumi.ResourceTransformArgs(True, type_, "r", props, pulumi.ResourceOptions())
    result = tag_transform(STANDARD)(args)
    assert result is None or isinstance(result, pulumi.ResourceTransformResult)
    return result


def test_taggable_resource_gets_standard_tags_over_its_own() -> None:
    result = apply("alicloud:oss/bucket:Bucket", {"bucket": "b", "tags": {"team": "x", "owner": "spoofed"}})
    assert result is not None
    assert result.props == {
        "bucket": "b",
        "tags": {"team": "x", "owner": "ml-platform", "environment": "dev", "cost-center": "cc-1"},
    }


def test_untaggable_resource_is_left_alone() -> None:
    assert apply("alicloud:oss/bucketAcl:BucketAcl", {"bucket": "b", "acl": "private"}) is None


def test_merged_tags_without_existing_tags() -> None:
    assert merged_tags(None, STANDARD) == STANDARD


# The program's dynamic resources, by type token, and the args dataclass each is built from.
DYNAMIC_ARGS: dict[str, type] = {
    "pulumi-python:dynamic/pai:TrainingJob": TrainingJobArgs,
    "pulumi-python:dynamic/pai:EasAutoscaler": EasAutoscalerArgs,
    "pulumi-python:dynamic/pai:ServiceEndpoint": ServiceEndpointArgs,
    "pulumi-python:dynamic/pai:TrafficShift": TrafficShiftArgs,
    "pulumi-python:dynamic/pai:DswInstance": DswInstanceArgs,
    "pulumi-python:dynamic/pai:MetricMetaCheck": MetricMetaCheckArgs,
    "pulumi-python:dynamic/pai:EasService": EasServiceArgs,
    "pulumi-python:dynamic/pai:ModelPromotion": ModelPromotionArgs,
}


def accepts_tags(token: str) -> bool:
    if token.startswith("pulumi-python:dynamic/"):
        return "tags" in {f.name for f in dataclasses.fields(DYNAMIC_ARGS[token])}
    module_path, name = token.split(":")[1].split("/")[0], token.split(":")[2]
    return "tags" in inspect.signature(getattr(getattr(pulumi_alicloud, module_path), name)._internal_init).parameters


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_taggable_resource_of_the_program_is_tagged(stack: str) -> None:
    mocks = run_program(stack)
    config_tags = {"environment": stack, "owner": "ml-platform", "cost-center": f"cc-4711-ml-{stack}"}
    # Provider resources (the provider lanes) are not cloud resources and take no tags.
    cloud = [r for r in mocks.registrations if r.custom and not r.type.startswith("pulumi:providers:")]
    for registration in cloud:
        taggable = accepts_tags(registration.type)
        assert (registration.type in TAGGABLE_TYPES) == taggable, registration.type
        if taggable:
            assert registration.inputs["tags"] == config_tags, registration.name
        else:
            assert "tags" not in registration.inputs, registration.name
