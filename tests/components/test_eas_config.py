"""components/eas_config.py: the EAS service config built from the serving config."""

from __future__ import annotations

import pytest

from components.eas_config import service_config, service_config_json
from tests.support.components import served


def test_service_config_for_custom_container_on_dedicated_group() -> None:
    container = {"image": "r.example.com/acme/tagger:1.4.2", "port": 8000, "command": "python -m tagger"}
    svc = served(
        processor=None,
        instanceType=None,
        container=container,
        resourceGroup="eas-r-gpu01",
        cpu=8,
        memoryMb=30000,
        gpu=1,
        minInstances=3,
    )
    assert service_config(svc, "v6", "acme-pai-prod") == {
        "metadata": {
            "name": "fraud_scorer_v6",
            "group": "fraud_scorer",
            "instance": 3,
            "resource": "eas-r-gpu01",
            "cpu": 8,
            "memory": 30000,
            "gpu": 1,
        },
        "containers": [
            {
                "image": "r.example.com/acme/tagger:1.4.2",
                "port": 8000,
                "command": "python -m tagger",
                "env": [{"name": "MODEL_DIR", "value": "/models"}],
            }
        ],
        "storage": [
            {"mount_path": "/models", "oss": {"path": "oss://acme-pai-prod/models/fraud_scorer/v6/", "readOnly": True}}
        ],
    }


@pytest.mark.parametrize(("minimum", "initial"), [(0, 1), (1, 1), (4, 4)])
def test_initial_instance_count_is_never_zero(minimum: int, initial: int) -> None:
    assert service_config(served(minInstances=minimum, maxInstances=5), "v7", "b")["metadata"]["instance"] == initial


VPC = {"vpcId": "vpc-bp1abc", "vswitchId": "vsw-bp1def", "securityGroupId": "sg-bp1ghi"}
NETWORKING = {"vpc_id": "vpc-bp1abc", "vswitch_id": "vsw-bp1def", "security_group_id": "sg-bp1ghi"}


def test_a_bursting_dedicated_service_sends_the_elastic_pool_keys() -> None:
    svc = served(
        instanceType=None,
        resourceGroup="eas-r-gpu01",
        cpu=8,
        memoryMb=30000,
        gpu=1,
        minInstances=2,
        burst={"instanceType": "ecs.gn6i-c4g1.xlarge"},
        vpc=VPC,
    )
    assert service_config_json(svc, "v6", "acme-pai-prod") == (
        '{"cloud":{"computing":{"instance_type":"ecs.gn6i-c4g1.xlarge"},'
        '"networking":{"security_group_id":"sg-bp1ghi","vpc_id":"vpc-bp1abc","vswitch_id":"vsw-bp1def"}},'
        '"metadata":{"cpu":8,"gpu":1,"group":"fraud_scorer","instance":2,"memory":30000,"name":"fraud_scorer_v6",'
        '"resource":"eas-r-gpu01","resource_burstable":true},'
        '"model_path":"oss://acme-pai-prod/models/fraud_scorer/v6/","processor":"pmml"}'
    )


def test_a_dedicated_service_without_burst_sends_no_cloud_block_and_no_burst_flag() -> None:
    svc = served(instanceType=None, resourceGroup="eas-r-gpu01", cpu=8, memoryMb=30000)
    config = service_config(svc, "v6", "b")
    assert "cloud" not in config
    assert "resource_burstable" not in config["metadata"]


def test_a_shared_service_with_a_vpc_sends_its_networking_beside_its_instance_type() -> None:
    config = service_config(served(vpc=VPC), "v6", "b")
    assert config["cloud"] == {"computing": {"instance_type": "ecs.c7.large"}, "networking": NETWORKING}
    assert "resource_burstable" not in config["metadata"]
