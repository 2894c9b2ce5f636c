"""tests/emulator/eas_burst.py through the real SDK: the elastic-pool settings EAS is documented to need, refused
when missing (the less forgiving reading; code UNCONFIRMED)."""

# The SDK models annotate optional fields as plain `str`/`int` (default None); these tests assert exact values.
# pyright: basic, reportOptionalMemberAccess=false, reportArgumentType=false

from __future__ import annotations

import json
from typing import Any

import pytest
from alibabacloud_eas20210701 import models as eas
from alibabacloud_eas20210701.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException

from components.eas_config import service_config_json
from providers.clients import ClientFactory
from tests.emulator import Control
from tests.support.components import served

REGION = "cn-hangzhou"
NETWORKING = {"vpc_id": "vpc-bp1abc", "vswitch_id": "vsw-bp1def", "security_group_id": "sg-bp1ghi"}


def bursting(**changes: Any) -> dict[str, Any]:
    """A valid bursting service config; ``changes`` replace top-level or ``metadata.*`` keys (None removes)."""
    config: dict[str, Any] = {
        "metadata": {
            "name": "tagger_v3",
            "instance": 1,
            "resource": "eas-r-gpu01",
            "cpu": 8,
            "memory": 30000,
            "gpu": 1,
            "resource_burstable": True,
        },
        "cloud": {"computing": {"instance_type": "ecs.gn6i-c4g1.xlarge"}, "networking": dict(NETWORKING)},
        "containers": [{"image": "reg/tagger:1.4.2", "port": 8000}],
    }
    for name, value in changes.items():
        target = config["metadata"] if name.startswith("metadata.") else config
        leaf = name.removeprefix("metadata.")
        if value is None:
            target.pop(leaf, None)
        else:
            target[leaf] = value
    return config


@pytest.fixture
def client(clients: ClientFactory, cloud: Control) -> Client:
    cloud.clock(speed=1)
    return clients.eas()


def refused(client: Client, config: dict[str, Any]) -> tuple[int, str, str]:
    with pytest.raises(ClientException) as caught:
        client.create_service(eas.CreateServiceRequest(body=json.dumps(config)))
    error = caught.value
    return error.status_code, error.code, error.message.split(", ", 1)[1].split(" request id:", 1)[0]


def test_a_bursting_service_on_a_dedicated_group_with_its_vpc_is_created(client: Client, cloud: Control) -> None:
    client.create_service(eas.CreateServiceRequest(body=json.dumps(bursting())))
    cloud.clock(advance=120)
    described = client.describe_service(REGION, "tagger_v3").body
    config = json.loads(described.service_config)
    assert (described.status, described.resource) == ("Running", "eas-r-gpu01")
    assert config["metadata"]["resource_burstable"] is True
    assert config["cloud"] == {"computing": {"instance_type": "ecs.gn6i-c4g1.xlarge"}, "networking": NETWORKING}


def test_instances_with_a_type_name_the_public_instance_type_too(client: Client) -> None:
    config = bursting(cloud={"computing": {"instances": [{"type": "ecs.gn6i-c4g1.xlarge"}]}, "networking": NETWORKING})
    assert client.create_service(eas.CreateServiceRequest(body=json.dumps(config))).body.status == "Creating"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"metadata.resource": None},
            "metadata.resource_burstable needs the service on a dedicated resource group (metadata.resource "
            "eas-r-...); got None",
        ),
        (
            {"cloud": {"networking": NETWORKING}},
            "metadata.resource_burstable needs the public instance type in cloud.computing.instance_type",
        ),
        (
            {"cloud": {"computing": {"instance_type": "ecs.gn6i-c4g1.xlarge"}}},
            "metadata.resource_burstable needs the VPC of the public instances in cloud.networking; missing vpc_id, "
            "vswitch_id, security_group_id",
        ),
        (
            {"cloud": {"computing": {"instance_type": "ecs.gn6i-c4g1.xlarge"}, "networking": {"vpc_id": "vpc-1"}}},
            "metadata.resource_burstable needs the VPC of the public instances in cloud.networking; missing "
            "vswitch_id, security_group_id",
        ),
        ({"metadata.resource_burstable": "true"}, "metadata.resource_burstable must be a boolean; got 'true'"),
    ],
    ids=["shared-group", "no-public-type", "no-vpc", "half-a-vpc", "string-flag"],
)
def test_a_bursting_service_missing_what_the_pool_needs_is_refused(
    client: Client, changes: dict[str, Any], message: str
) -> None:
    assert refused(client, bursting(**changes)) == (400, "InvalidParameter", message)


def test_an_update_that_drops_the_vpc_of_a_bursting_service_is_refused(client: Client, cloud: Control) -> None:
    client.create_service(eas.CreateServiceRequest(body=json.dumps(bursting())))
    cloud.clock(advance=120)
    with pytest.raises(ClientException) as caught:
        client.update_service(
            REGION, "tagger_v3", eas.UpdateServiceRequest(body=json.dumps({"cloud": {"networking": None}}))
        )
    assert (caught.value.status_code, caught.value.code) == (400, "InvalidParameter")
    assert json.loads(client.describe_service(REGION, "tagger_v3").body.service_config)["cloud"]["networking"] == (
        NETWORKING
    )


def test_burst_turned_off_needs_nothing_more(client: Client) -> None:
    config = bursting(**{"metadata.resource_burstable": False, "cloud": None})
    assert client.create_service(eas.CreateServiceRequest(body=json.dumps(config))).body.status == "Creating"


def test_the_config_the_builder_writes_for_a_bursting_service_is_accepted(client: Client, cloud: Control) -> None:
    svc = served(
        processor=None,
        instanceType=None,
        container={"image": "reg/tagger:1.4.2", "port": 8000, "command": "serve"},
        resourceGroup="eas-r-gpu01",
        cpu=8,
        memoryMb=30000,
        gpu=1,
        burst={"instanceType": "ecs.gn6i-c4g1.xlarge"},
        vpc={"vpcId": "vpc-bp1abc", "vswitchId": "vsw-bp1def", "securityGroupId": "sg-bp1ghi"},
    )
    client.create_service(eas.CreateServiceRequest(body=service_config_json(svc, "v3", "acme-pai-prod")))
    cloud.clock(advance=120)
    assert client.describe_service(REGION, "fraud_scorer_v3").body.status == "Running"
