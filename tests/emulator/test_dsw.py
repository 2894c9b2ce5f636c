"""DSW 2022-01-01 through the real SDK client against the emulator."""

# The SDK models annotate optional fields as plain `str`/`int` (default None), so strict mode would flag every
# read of a response field; these tests assert the exact values, so a None fails them anyway.
# pyright: basic, reportOptionalMemberAccess=false, reportArgumentType=false, reportReturnType=false

from __future__ import annotations

from typing import Any

import pytest
from alibabacloud_pai_dsw20220101 import models as dsw
from alibabacloud_pai_dsw20220101.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException

from providers.clients import ClientFactory
from tests.emulator import Control


@pytest.fixture
def client(clients: ClientFactory, cloud: Control) -> Client:
    cloud.clock(speed=1)  # time moves only when a test advances it
    return clients.dsw()


def create(client: Client, name: str = "fraud_nb", **changes: object) -> str:
    fields: dict[str, Any] = {
        "instance_name": name,
        "ecs_spec": "ecs.g6.xlarge",
        "image_id": "image-pytorch",
        "workspace_id": "ws-1",
        "labels": [dsw.CreateInstanceRequestLabels(key="team", value="risk")],
        "tag": [dsw.CreateInstanceRequestTag(key="environment", value="dev")],
        "datasets": [dsw.CreateInstanceRequestDatasets(dataset_id="d-1", mount_path="/mnt/data")],
        **changes,
    }
    return client.create_instance(dsw.CreateInstanceRequest(**fields)).body.instance_id


def requested(memory: str = "32", gputype: str = "A10") -> dsw.CreateInstanceRequestRequestedResource:
    return dsw.CreateInstanceRequestRequestedResource(cpu="8", memory=memory, gpu="1", gputype=gputype)


def credentials(role_type: str) -> dsw.CredentialConfig:
    role = dsw.CredentialConfigConfigsRoles(
        role_arn="acs:ram::123456789012:role/pai-mlops-dev-dsw", role_type=role_type, assume_role_for="123456789012"
    )
    return dsw.CredentialConfig(
        enable=True, configs=[dsw.CredentialConfigConfigs(key="default", type="Role", roles=[role])]
    )


def test_the_documented_resource_and_role_forms_are_accepted(client: Client) -> None:
    instance_id = create(
        client,
        ecs_spec=None,
        resource_id="rg-1",
        requested_resource=requested(),
        credential_config=credentials("service"),
    )
    assert instance_id.startswith("dsw-")


def status(client: Client, instance_id: str) -> str:
    return client.get_instance(instance_id, dsw.GetInstanceRequest()).body.status


def test_create_walks_to_running(client: Client, cloud: Control) -> None:
    instance_id = create(client)
    seen = []
    for _ in range(5):
        seen.append(status(client, instance_id))
        cloud.clock(advance=30)
    assert seen == ["Creating", "ResourceAllocating", "EnvPreparing", "Starting", "Running"]
    instance = client.get_instance(instance_id, dsw.GetInstanceRequest()).body
    assert (instance.instance_name, instance.ecs_spec, instance.accelerator_type) == (
        "fraud_nb",
        "ecs.g6.xlarge",
        "CPU",
    )
    assert [(t.tag_key, t.tag_value) for t in instance.tags] == [("environment", "dev")]
    assert [(d.dataset_id, d.mount_path) for d in instance.datasets] == [("d-1", "/mnt/data")]
    assert instance.jupyterlab_url.endswith("/lab")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"instance_name": "has-dash"}, "InstanceName may hold letters, digits and '_'"),
        ({"image_id": None}, "ImageId or ImageUrl is mandatory"),
        ({"ecs_spec": None}, "EcsSpec is mandatory on public resources"),
        (
            {"datasets": [dsw.CreateInstanceRequestDatasets(mount_path="/mnt")]},
            "needs exactly one of DatasetId and Uri",
        ),
        (
            {"ecs_spec": None, "resource_id": "rg-1", "requested_resource": requested(memory="32Gi")},
            "RequestedResource.Memory is a number of GB such as '32'; got '32Gi'",
        ),
        (
            {"ecs_spec": None, "resource_id": "rg-1", "requested_resource": requested(gputype="NVIDIA A10")},
            "RequestedResource.GPUType must be one of V100, A100, T4, A10, P100; got 'NVIDIA A10'",
        ),
        (
            {"credential_config": credentials("user")},
            "CredentialConfig.Configs[0].Roles[0].RoleType must be 'service' for a role assumed by a PAI service; "
            "got 'user'",
        ),
    ],
)
def test_create_validates(client: Client, changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ClientException) as caught:
        create(client, **changes)
    assert caught.value.status_code == 400
    assert message in caught.value.message


def test_machine_changes_need_a_stop(client: Client, cloud: Control) -> None:
    instance_id = create(client)
    cloud.clock(advance=120)
    with pytest.raises(ClientException) as caught:
        client.update_instance(instance_id, dsw.UpdateInstanceRequest(ecs_spec="ecs.gn6i-c4g1.xlarge"))
    assert caught.value.code == "InvalidInstanceStatus"
    assert "Changing EcsSpec needs the instance Stopped; it is Running." in caught.value.message
    client.update_instance(instance_id, dsw.UpdateInstanceRequest(instance_name="renamed"))  # fine while running
    cloud.clock(advance=10)
    client.stop_instance(instance_id, dsw.StopInstanceRequest())
    cloud.clock(advance=15)
    assert status(client, instance_id) == "Stopped"
    client.update_instance(instance_id, dsw.UpdateInstanceRequest(ecs_spec="ecs.gn6i-c4g1.xlarge", start_instance=True))
    assert status(client, instance_id) == "Updating"
    cloud.clock(advance=10)
    assert status(client, instance_id) == "Starting"
    cloud.clock(advance=40)
    instance = client.get_instance(instance_id, dsw.GetInstanceRequest()).body
    assert (instance.status, instance.ecs_spec, instance.instance_name, instance.accelerator_type) == (
        "Running",
        "ecs.gn6i-c4g1.xlarge",
        "renamed",
        "GPU",
    )


def test_list_filters(client: Client, cloud: Control) -> None:
    first = create(client, "fraud_nb")
    second = create(client, "churn_nb", labels=[dsw.CreateInstanceRequestLabels(key="team", value="growth")])
    cloud.clock(advance=120)
    client.stop_instance(second, dsw.StopInstanceRequest())

    def ids(request: dsw.ListInstancesRequest) -> list[str]:
        return [instance.instance_id for instance in client.list_instances(request).body.instances]

    assert ids(dsw.ListInstancesRequest()) == [first, second]
    assert ids(dsw.ListInstancesRequest(instance_name="FRAUD")) == [first]
    assert ids(dsw.ListInstancesRequest(status="Stopping")) == [second]
    assert ids(dsw.ListInstancesRequest(labels={"team": "growth"})) == [second]


def test_idle_culler_stops_an_idle_notebook(client: Client, cloud: Control) -> None:
    instance_id = create(client)
    cloud.clock(advance=120)
    client.create_idle_instance_culler(instance_id, dsw.CreateIdleInstanceCullerRequest(max_idle_time_in_minutes=60))
    cloud.clock(advance=50 * 60)
    cloud.touch_instance(instance_id)  # someone ran a cell: the idle time starts again
    cloud.clock(advance=50 * 60)
    culler = client.get_idle_instance_culler(instance_id).body
    assert (culler.max_idle_time_in_minutes, culler.idle_time_in_minutes) == (60, 50)
    assert status(client, instance_id) == "Running"
    cloud.clock(advance=11 * 60)
    instance = client.get_instance(instance_id, dsw.GetInstanceRequest()).body
    assert (instance.status, instance.reason_code) == ("Stopped", "IdleInstanceCulled")
    client.delete_idle_instance_culler(instance_id)
    with pytest.raises(ClientException) as caught:
        client.get_idle_instance_culler(instance_id)
    assert (caught.value.code, caught.value.status_code) == ("IdleInstanceCullerNotFound", 404)


def test_failure_start_stop_and_delete(client: Client, cloud: Control) -> None:
    instance_id = create(client)
    cloud.fail_instance(instance_id, reason_code="ImagePullFailed", reason_message="image-pytorch not found")
    instance = client.get_instance(instance_id, dsw.GetInstanceRequest()).body
    assert (instance.status, instance.reason_code, instance.reason_message) == (
        "Failed",
        "ImagePullFailed",
        "image-pytorch not found",
    )
    client.start_instance(instance_id)
    cloud.clock(advance=40)
    assert status(client, instance_id) == "Running"
    client.delete_instance(instance_id)
    assert status(client, instance_id) == "Deleting"
    cloud.clock(advance=10)
    with pytest.raises(ClientException) as caught:
        status(client, instance_id)
    assert (caught.value.code, caught.value.status_code) == ("InstanceNotFound", 404)
