"""The tag transform: standard tags on every taggable resource type, nothing else touched."""

from __future__ import annotations

import inspect
from typing import Any

import pulumi
import pulumi_alicloud
import pytest

from components.tagging import TAGGABLE_TYPES, merged_tags, tag_transform
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


def class_for(token: str) -> type:
    module_path, name = token.split(":")[1].split("/")[0], token.split(":")[2]
    return getattr(getattr(pulumi_alicloud, module_path), name)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_taggable_resource_of_the_program_is_tagged(stack: str) -> None:
    mocks = run_program(stack)
    config_tags = {"environment": stack, "owner": "ml-platform", "cost-center": f"cc-4711-ml-{stack}"}
    cloud = [r for r in mocks.registrations if r.custom]
    for registration in cloud:
        accepts_tags = "tags" in inspect.signature(class_for(registration.type)._internal_init).parameters
        assert (registration.type in TAGGABLE_TYPES) == accepts_tags, registration.type
        if accepts_tags:
            assert registration.inputs["tags"] == config_tags, registration.name
        else:
            assert "tags" not in registration.inputs, registration.name
