"""Burst capacity of a served model: ``serving.services[].burst`` (EAS's elastic resource pool) and
``serving.services[].vpc`` (the service's own VPC), with the rules across them and the service's placement.

EAS's elastic resource pool (https://www.alibabacloud.com/help/en/pai/elastic-resource-pool, zh
https://help.aliyun.com/document_detail/469776.html): a service on a *dedicated* resource group that scales out
when the group has no room creates the new instances in the pay-as-you-go public resource group, with the public
instance type the service names, and scales those in first. The service config keys (docs/burst.md has each
source): ``metadata.resource_burstable`` (true), the public instance type in ``cloud.computing``, and, since a
dedicated group's VPC direct connection is configured on the group and does not follow an instance into the public
pool, the VPC in ``cloud.networking`` {``vpc_id``, ``vswitch_id``, ``security_group_id``}.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import StrictStr
from pydantic.dataclasses import dataclass

from config_problems import MISSING, Problem, key
from pai_facts import DEDICATED_GROUP, ECS_INSTANCE_TYPE_PATTERN, SHARED_RESOURCE_GROUP
from stack_config.fields import MODEL


@dataclass(frozen=True, kw_only=True, config=MODEL)
class VpcConfig:
    """The VPC a service's instances join (EAS ``cloud.networking``)."""

    # The id forms 'vpc-…', 'vsw-…', 'sg-…' are the ones every Alibaba Cloud API and example shows (e.g. the FC
    # VPCConfig struct, https://www.alibabacloud.com/help/en/fc/developer-reference/api-fc-open-2021-04-06-struct-vpcconfig).
    vpc_id: StrictStr = key("Give the VPC id, e.g. 'vpc-bp1abc'", rule="a VPC id 'vpc-...'", pattern=r"^vpc-[a-z0-9]+$")
    vswitch_id: StrictStr = key(
        "Give the vSwitch id in that VPC, e.g. 'vsw-bp1abc'", rule="a vSwitch id 'vsw-...'", pattern=r"^vsw-[a-z0-9]+$"
    )
    security_group_id: StrictStr = key(
        "Give the security group id in that VPC, e.g. 'sg-bp1abc'",
        rule="a security group id 'sg-...'",
        pattern=r"^sg-[a-z0-9]+$",
    )


@dataclass(frozen=True, kw_only=True, config=MODEL)
class BurstConfig:
    """Burst into pay-as-you-go public instances when the dedicated group is full (EAS elastic resource pool)."""

    instance_type: StrictStr = key(
        "Give the ECS instance type of the public instances a burst adds, e.g. 'ecs.gn6i-c4g1.xlarge' for a GPU "
        "service",
        rule="an ECS instance type such as 'ecs.gn6i-c4g1.xlarge'",
        pattern=ECS_INSTANCE_TYPE_PATTERN,
    )


VPC_FIX = "Give vpc {vpcId, vswitchId, securityGroupId}"


def burst_problems(svc: Mapping[str, Any], where: str) -> list[Problem]:
    """``burst`` only on a dedicated group and only with ``vpc``; ``vpc`` on a dedicated group only with ``burst``."""
    group, burst, vpc = svc.get("resourceGroup"), svc.get("burst"), svc.get("vpc")
    dedicated = isinstance(group, str) and DEDICATED_GROUP.fullmatch(group) is not None
    problems: list[Problem] = []
    if burst is not None and group == SHARED_RESOURCE_GROUP:
        problems.append(
            Problem(
                where,
                "burst",
                "applies to a dedicated resource group only (EAS bursts a dedicated group's service into public "
                "instances)",
                burst,
                "Set resourceGroup to a dedicated group ('eas-r-...'), or remove burst: a service on 'shared' "
                "already scales on pay-as-you-go instances",
            )
        )
    if burst is not None and dedicated and vpc is None:
        problems.append(
            Problem(
                where,
                "vpc",
                "is required with burst: the dedicated group's VPC does not follow an instance into the public pool",
                MISSING,
                f"{VPC_FIX}, the VPC the dedicated group's instances reach",
            )
        )
    if vpc is not None and dedicated and burst is None:
        problems.append(
            Problem(
                where,
                "vpc",
                "applies on a dedicated resource group only with burst: the group's own VPC settings serve its "
                "instances",
                vpc,
                "Remove vpc and configure the VPC on the dedicated group, or add burst {instanceType}",
            )
        )
    return problems
