"""stack_config/serving_burst.py: burst and vpc parse to exact values; every wrong combination names key and fix."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from config_problems import StackConfigError
from stack_config import BurstConfig, VpcConfig, parse_stack_config
from tests.conftest import VALID_RAW

S0 = "pai-mlops:serving.services[0]"
VPC = {"vpcId": "vpc-bp1abc", "vswitchId": "vsw-bp1def", "securityGroupId": "sg-bp1ghi"}
GPU_TYPE = "ecs.gn6i-c4g1.xlarge"


def service(**changes: Any) -> dict[str, Any]:
    """The valid prod config with services[0] moved to a dedicated GPU group, then ``changes`` (None removes)."""
    raw = copy.deepcopy(VALID_RAW)
    svc = raw["serving"]["services"][0]
    svc.pop("instanceType", None)
    svc.update({"resourceGroup": "eas-r-gpu01", "cpu": 8, "memoryMb": 30000, "gpu": 1})
    for name, value in changes.items():
        if value is None:
            svc.pop(name, None)
        else:
            svc[name] = value
    return raw


def problems_of(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(StackConfigError) as caught:
        parse_stack_config(raw, "prod")
    return [str(problem) for problem in caught.value.problems]


def test_burst_on_a_dedicated_group_with_a_vpc_parses_to_exact_values() -> None:
    parsed = parse_stack_config(service(burst={"instanceType": GPU_TYPE}, vpc=VPC), "prod").serving.services[0]
    assert parsed.burst == BurstConfig(instance_type=GPU_TYPE)
    assert parsed.vpc == VpcConfig(vpc_id="vpc-bp1abc", vswitch_id="vsw-bp1def", security_group_id="sg-bp1ghi")
    assert parsed.dedicated


def test_no_burst_and_no_vpc_by_default() -> None:
    parsed = parse_stack_config(service(), "prod").serving.services[0]
    assert (parsed.burst, parsed.vpc) == (None, None)


def test_a_vpc_on_the_shared_group_without_burst_is_accepted() -> None:
    raw = copy.deepcopy(VALID_RAW)
    raw["serving"]["services"][0]["vpc"] = VPC
    assert parse_stack_config(raw, "prod").serving.services[0].vpc == VpcConfig(
        vpc_id="vpc-bp1abc", vswitch_id="vsw-bp1def", security_group_id="sg-bp1ghi"
    )


def test_burst_on_the_shared_group_is_refused() -> None:
    raw = copy.deepcopy(VALID_RAW)
    raw["serving"]["services"][0].update(burst={"instanceType": GPU_TYPE}, vpc=VPC)
    assert problems_of(raw) == [
        f"{S0} [burst]: applies to a dedicated resource group only (EAS bursts a dedicated group's service into "
        f"public instances); got {{'instanceType': '{GPU_TYPE}'}}. Set resourceGroup to a dedicated group "
        "('eas-r-...'), or remove burst: a service on 'shared' already scales on pay-as-you-go instances."
    ]


def test_burst_without_a_vpc_is_refused() -> None:
    assert problems_of(service(burst={"instanceType": GPU_TYPE})) == [
        f"{S0} [vpc]: is required with burst: the dedicated group's VPC does not follow an instance into the public "
        "pool; got nothing. Give vpc {vpcId, vswitchId, securityGroupId}, the VPC the dedicated group's instances "
        "reach."
    ]


def test_a_vpc_on_a_dedicated_group_without_burst_is_refused() -> None:
    assert problems_of(service(vpc=VPC)) == [
        f"{S0} [vpc]: applies on a dedicated resource group only with burst: the group's own VPC settings serve its "
        f"instances; got {VPC!r}. Remove vpc and configure the VPC on the dedicated group, or add burst "
        "{instanceType}."
    ]


@pytest.mark.parametrize(
    ("burst", "expected"),
    [
        (
            {"instanceType": "gn6i-c4g1.xlarge"},
            f"{S0}.burst [instanceType]: must be an ECS instance type such as 'ecs.gn6i-c4g1.xlarge'; got "
            "'gn6i-c4g1.xlarge'. Give the ECS instance type of the public instances a burst adds, e.g. "
            "'ecs.gn6i-c4g1.xlarge' for a GPU service.",
        ),
        (
            {"instanceType": 7},
            f"{S0}.burst [instanceType]: must be a string; got 7. Give the ECS instance type of the public instances "
            "a burst adds, e.g. 'ecs.gn6i-c4g1.xlarge' for a GPU service.",
        ),
        (
            {},
            f"{S0}.burst [instanceType]: is required; got nothing. Give the ECS instance type of the public "
            "instances a burst adds, e.g. 'ecs.gn6i-c4g1.xlarge' for a GPU service.",
        ),
        (
            {"instanceType": GPU_TYPE, "maxInstances": 4},
            f"{S0}.burst [maxInstances]: is not a known key; got a value not shown here. Known keys here: "
            "instanceType.",
        ),
    ],
    ids=["no-ecs-prefix", "not-a-string", "missing", "unknown-key"],
)
def test_a_bad_burst_block_names_the_key_and_the_fix(burst: dict[str, Any], expected: str) -> None:
    assert problems_of(service(burst=burst, vpc=VPC)) == [expected]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("vpcId", "v-1", "must be a VPC id 'vpc-...'; got 'v-1'. Give the VPC id, e.g. 'vpc-bp1abc'."),
        (
            "vswitchId",
            "vpc-bp1abc",
            "must be a vSwitch id 'vsw-...'; got 'vpc-bp1abc'. Give the vSwitch id in that VPC, e.g. 'vsw-bp1abc'.",
        ),
        (
            "securityGroupId",
            None,
            "is required; got nothing. Give the security group id in that VPC, e.g. 'sg-bp1abc'.",
        ),
    ],
)
def test_a_bad_vpc_names_the_id_that_is_wrong(field: str, value: Any, expected: str) -> None:
    vpc = {k: v for k, v in {**VPC, field: value}.items() if v is not None}
    assert problems_of(service(burst={"instanceType": GPU_TYPE}, vpc=vpc)) == [f"{S0}.vpc [{field}]: {expected}"]
