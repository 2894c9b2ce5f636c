"""DswInstance through ``python -m pulumi.dynamic`` against the emulator: lifecycle, updates, failures, deadlines."""

# pyright: basic, reportOptionalMemberAccess=false, reportArgumentType=false

from __future__ import annotations

import copy
from typing import Any

import pytest
from alibabacloud_pai_dsw20220101 import models as dsw

from providers.clients import ClientFactory
from providers.notebook import DswInstanceProvider, machine_body
from tests.emulator import Control
from tests.support.provider_host import ProviderFailed, ProviderHost

NOTEBOOK: dict[str, Any] = {
    "instance_name": "mlops_dev_alice",
    "workspace_id": "ws-1234",
    "instance_type": "ecs.g6.xlarge",
    "resource_group": None,
    "resources": None,
    "image_url": "dsw-registry.cn-hangzhou.cr.aliyuncs.com/pai/modelscope:1.9.5-pytorch2.1.2-cpu-py310",
    "image_id": None,
    "datasets": [{"dataset_id": "d-data123", "mount_path": "/mnt/data"}],
    "role_arn": "acs:ram::123456789012:role/pai-mlops-dev-dsw",
    "vpc": None,
    "idle_shutdown_minutes": 60,
    "env": {"PAI_MLOPS_BUCKET": "mlops-dev"},
    "labels": {"team": "fraud"},
    "tags": {"environment": "dev"},
    "start_command": "git clone https://github.com/acme/fraud-models.git /mnt/workspace/fraud-models || true",
    "wait_timeout_seconds": 30,
    "poll_seconds": 0.05,
}


def notebook(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(NOTEBOOK), **changes}


def actions(cloud: Control) -> list[str]:
    return [call["action"] for call in cloud.calls(api="dsw") if call["action"] not in ("GetInstance", "ListInstances")]


def test_create_waits_for_running_with_data_mounted_role_and_idle_culler(host: ProviderHost, cloud: Control) -> None:
    id_, outs = host.create(DswInstanceProvider(), notebook())

    assert id_.startswith("dsw-") and outs["instance_id"] == id_ and outs["status"] == "Running"
    assert outs["jupyterlab_url"].endswith("/lab")
    [create] = cloud.calls(api="dsw", action="CreateInstance")
    assert create["body"] == {
        "InstanceName": "mlops_dev_alice",
        "WorkspaceId": "ws-1234",
        "EcsSpec": "ecs.g6.xlarge",
        "ImageUrl": NOTEBOOK["image_url"],
        "Datasets": [{"DatasetId": "d-data123", "MountPath": "/mnt/data", "MountAccess": "RO"}],
        "EnvironmentVariables": {"PAI_MLOPS_BUCKET": "mlops-dev"},
        "CredentialConfig": {
            "Enable": True,
            "Configs": [
                {
                    "Key": "default",
                    "Type": "Role",
                    "Roles": [
                        {
                            "RoleArn": "acs:ram::123456789012:role/pai-mlops-dev-dsw",
                            "RoleType": "service",  # a role PAI assumes (trusted by pai.aliyuncs.com)
                            "AssumeRoleFor": "123456789012",
                        }
                    ],
                }
            ],
        },
        "UserCommand": {"OnStart": {"Content": NOTEBOOK["start_command"]}},
        "Labels": [{"Key": "team", "Value": "fraud"}],
        "Tag": [{"Key": "environment", "Value": "dev"}],
        "CloudDisks": [],
    }
    [culler] = cloud.calls(api="dsw", action="CreateIdleInstanceCuller")
    assert culler["body"] == {"MaxIdleTimeInMinutes": 60}
    assert f"notebook mlops_dev_alice ({id_}) to be Running: Running" in host.stderr


def test_a_machine_change_stops_updates_and_starts_again(
    host: ProviderHost, cloud: Control, clients: ClientFactory
) -> None:
    id_, olds = host.create(DswInstanceProvider(), notebook())
    news = notebook(instance_type="ecs.gn6i-c4g1.xlarge")
    assert host.diff(DswInstanceProvider(), id_, olds, news).replaces == []

    outs = host.update(DswInstanceProvider(), id_, olds, news)

    assert outs["status"] == "Running"
    assert actions(cloud)[2:] == ["StopInstance", "UpdateInstance"]
    [update] = cloud.calls(api="dsw", action="UpdateInstance")
    assert update["body"]["EcsSpec"] == "ecs.gn6i-c4g1.xlarge" and update["body"]["StartInstance"] is True
    assert update["body"]["Datasets"] == [{"DatasetId": "d-data123", "MountPath": "/mnt/data", "MountAccess": "RO"}]
    assert clients.dsw().get_instance(id_, dsw.GetInstanceRequest()).body.ecs_spec == "ecs.gn6i-c4g1.xlarge"


def test_env_labels_and_the_culler_change_in_place(host: ProviderHost, cloud: Control) -> None:
    id_, olds = host.create(DswInstanceProvider(), notebook())
    news = notebook(
        env={"PAI_MLOPS_BUCKET": "mlops-dev", "EPOCHS": "3"}, labels={"team": "risk"}, idle_shutdown_minutes=30
    )

    host.update(DswInstanceProvider(), id_, olds, news)

    assert actions(cloud)[2:] == [
        "UpdateInstance",
        "UpdateInstanceLabels",
        "DeleteIdleInstanceCuller",
        "CreateIdleInstanceCuller",
    ]
    [update] = cloud.calls(api="dsw", action="UpdateInstance")
    assert "StartInstance" not in update["body"] and "EcsSpec" not in update["body"]
    assert cloud.calls(api="dsw", action="CreateIdleInstanceCuller")[-1]["body"] == {"MaxIdleTimeInMinutes": 30}


@pytest.mark.parametrize(
    ("change", "replaces"),
    [
        ({"instance_name": "mlops_dev_bob"}, ["instance_name"]),
        ({"tags": {"environment": "dev", "owner": "x"}}, ["tags"]),
        (
            {"resource_group": "quota1", "instance_type": None, "resources": {"cpu": 4, "memory_gb": 16}},
            ["resource_group"],
        ),
        ({"image_url": "registry/custom:2"}, []),
        ({"env": {}}, []),
    ],
)
def test_diff_replaces_only_what_dsw_cannot_change(
    host: ProviderHost, change: dict[str, Any], replaces: list[str]
) -> None:
    diff = host.diff(DswInstanceProvider(), "dsw-1", notebook(), notebook(**change))
    assert (diff.changes, diff.replaces, diff.delete_before_replace) == ("DIFF_SOME", replaces, True)


def test_a_failed_notebook_fails_the_create_with_its_reason(host: ProviderHost, cloud: Control) -> None:
    cloud.clock(speed=1)
    cloud.timing(dsw={"create": 3600})

    def fail_when_created() -> None:
        from tests.support.provider_host import wait_until

        wait_until(lambda: bool(cloud.calls(api="dsw", action="CreateInstance")), timeout=20)
        instance_id = cloud.calls(api="dsw", action="GetInstance")[0]["path"].rsplit("/", 1)[-1]
        cloud.fail_instance(instance_id, reason_code="ImagePullFailed", reason_message="image not found")

    import threading

    failer = threading.Thread(target=fail_when_created)
    failer.start()
    with pytest.raises(ProviderFailed) as failure:
        host.create(DswInstanceProvider(), notebook())
    failer.join()
    assert "is Failed (ImagePullFailed: image not found)" in failure.value.details


def test_a_notebook_that_never_starts_fails_at_its_deadline(host: ProviderHost, cloud: Control) -> None:
    cloud.clock(speed=1)
    cloud.timing(dsw={"create": 3600})
    with pytest.raises(ProviderFailed) as failure:
        host.create(DswInstanceProvider(), notebook(wait_timeout_seconds=1))
    assert "to be Running: still Creating after 1s, past its deadline of 1s." in failure.value.details


def test_throttling_while_waiting_is_retried(host: ProviderHost, cloud: Control) -> None:
    cloud.clock(speed=100)  # the retries' back-off must not outlast the 60 idle minutes on the virtual clock
    cloud.fault("GetInstance", "throttle", times=2, api="dsw")
    _, outs = host.create(DswInstanceProvider(), notebook())
    assert outs["status"] == "Running"
    assert [c["fault"] for c in cloud.calls(api="dsw", action="GetInstance") if c["fault"]] == ["throttle", "throttle"]


def test_a_retried_create_adopts_the_notebook_of_the_same_name(host: ProviderHost, cloud: Control) -> None:
    first, _ = host.create(DswInstanceProvider(), notebook())
    again, _ = host.create(DswInstanceProvider(), notebook())
    assert again == first
    assert len(cloud.calls(api="dsw", action="CreateInstance")) == 1


def test_delete_removes_it_and_refresh_then_drops_it(host: ProviderHost, cloud: Control) -> None:
    id_, outs = host.create(DswInstanceProvider(), notebook())
    host.delete(DswInstanceProvider(), id_, outs)
    assert "DeleteInstance" in actions(cloud)
    assert host.read(DswInstanceProvider(), id_, outs) == ("", {})
    host.delete(DswInstanceProvider(), id_, outs)  # already gone: nothing to do


def test_a_retried_create_starts_the_adopted_notebook_if_it_stopped(
    host: ProviderHost, cloud: Control, clients: ClientFactory
) -> None:
    cloud.clock(speed=1)
    instance_id = (
        clients.dsw()
        .create_instance(
            dsw.CreateInstanceRequest(
                instance_name="mlops_dev_alice", ecs_spec="ecs.g6.xlarge", image_url="r/x:1", workspace_id="ws-1234"
            )
        )
        .body.instance_id
    )
    cloud.clock(advance=200)
    clients.dsw().stop_instance(instance_id, dsw.StopInstanceRequest())
    cloud.clock(advance=60, speed=2000)

    id_, outs = host.create(DswInstanceProvider(), notebook())  # adopts it, and starts it again

    assert (id_, outs["status"]) == (instance_id, "Running")
    assert actions(cloud)[-2:] == ["StartInstance", "CreateIdleInstanceCuller"]


def test_check_names_bad_inputs(host: ProviderHost) -> None:
    _, failures = host.check(DswInstanceProvider(), {}, notebook(instance_name="has-hyphen", image_id="img-1"))
    assert failures == [
        ("instance_name", "must be 1-27 letters, digits or underscores; got 'has-hyphen'"),
        ("image_url", "give exactly one of image_url (a custom image) and image_id (a built-in one)"),
    ]


def test_a_dedicated_group_sizes_the_notebook_in_dsws_units() -> None:
    body = machine_body(
        {
            "resource_group": "rg-1",
            "resources": {"cpu": 8, "memory_gb": 32, "gpu": 1, "gpu_type": "A10"},
            "image_id": "img",
        }
    )
    # DSW's RequestedResource: memory a number of GB (no 'Gi'), GPUType from the SDK's enum.
    assert body == {"RequestedResource": {"CPU": "8", "Memory": "32", "GPU": "1", "GPUType": "A10"}, "ImageId": "img"}


# -- lost answers, busy notebooks, deletion in the console, typed check ---------------------------------------------


def test_a_lost_answer_on_the_machine_change_is_read_back_not_sent_again(
    host: ProviderHost, cloud: Control, clients: ClientFactory
) -> None:
    id_, olds = host.create(DswInstanceProvider(), notebook())
    cloud.timing(dsw={"update": 2000})  # the update DSW applied is still in progress when a retry would come
    cloud.fault("UpdateInstance", "lost_response", api="dsw")

    outs = host.update(DswInstanceProvider(), id_, olds, notebook(instance_type="ecs.gn6i-c4g1.xlarge"))

    assert outs["status"] == "Running"
    assert [c["fault"] for c in cloud.calls(api="dsw", action="UpdateInstance")] == ["lost_response"]
    assert clients.dsw().get_instance(id_, dsw.GetInstanceRequest()).body.ecs_spec == "ecs.gn6i-c4g1.xlarge"
    assert "notebook mlops_dev_alice: update: the change took effect" in host.stderr


def test_a_lost_answer_on_the_stop_is_read_back(host: ProviderHost, cloud: Control) -> None:
    id_, olds = host.create(DswInstanceProvider(), notebook())
    cloud.timing(dsw={"stop": 2000})
    cloud.fault("StopInstance", "lost_response", api="dsw")
    outs = host.update(DswInstanceProvider(), id_, olds, notebook(image_url="r/custom:2"))
    assert outs["status"] == "Running"
    assert [c["fault"] for c in cloud.calls(api="dsw", action="StopInstance")] == ["lost_response"]


def test_a_notebook_busy_updating_is_waited_for_before_it_changes(
    host: ProviderHost, cloud: Control, clients: ClientFactory
) -> None:
    id_, olds = host.create(DswInstanceProvider(), notebook())
    cloud.timing(dsw={"update": 1000})  # half a real second
    # Someone changes the notebook in the console just before pulumi up.
    by_hand = dsw.UpdateInstanceRequest(environment_variables={"BY_HAND": "1"})
    clients.dsw().update_instance(id_, by_hand)
    outs = host.update(DswInstanceProvider(), id_, olds, notebook(env={"PAI_MLOPS_BUCKET": "mlops-dev", "EPOCHS": "3"}))
    assert outs["status"] == "Running"
    assert [c["status"] for c in cloud.calls(api="dsw", action="UpdateInstance")] == [200, 200]
    assert f"notebook mlops_dev_alice ({id_}) to settle before it changes: Updating" in host.stderr
    view = clients.dsw().get_instance(id_, dsw.GetInstanceRequest()).body
    assert view.environment_variables == {"PAI_MLOPS_BUCKET": "mlops-dev", "EPOCHS": "3"}


def test_refresh_after_deletion_in_the_console_drops_it(
    host: ProviderHost, cloud: Control, clients: ClientFactory
) -> None:
    id_, outs = host.create(DswInstanceProvider(), notebook())
    clients.dsw().delete_instance(id_)
    cloud.clock(advance=60)
    assert host.read(DswInstanceProvider(), id_, outs) == ("", {})


@pytest.mark.parametrize(
    ("changes", "failure"),
    [
        (
            {"idle_shutdown_minutes": "60"},
            (
                "idle_shutdown_minutes",
                "DswInstance [idle_shutdown_minutes]: must be a whole number; got '60'. "
                "Give whole minutes, 0 (never) or more.",
            ),
        ),
        (
            {"idle_shutdown_minutes": False},
            (
                "idle_shutdown_minutes",
                "DswInstance [idle_shutdown_minutes]: must be a whole number; got False. "
                "Give whole minutes, 0 (never) or more.",
            ),
        ),
        (
            {"idle_shutdown_minutes": -5},
            (
                "idle_shutdown_minutes",
                "DswInstance [idle_shutdown_minutes]: must be at least 0; got -5. "
                "Give whole minutes, 0 (never) or more.",
            ),
        ),
        (
            {"datasets": "d-data123"},
            (
                "datasets",
                "DswInstance [datasets]: must be a list; got 'd-data123'. List {dataset_id, mount_path} objects.",
            ),
        ),
        (
            {"datasets": [{"dataset_id": "d-1", "mount_path": "mnt/data"}]},
            (
                "datasets[0].mount_path",
                "DswInstance [datasets[0].mount_path]: must be an absolute path; got 'mnt/data'. "
                "Give an absolute path, e.g. /mnt/data.",
            ),
        ),
        (
            {"env": "EPOCHS=3"},
            (
                "env",
                "DswInstance [env]: must be an object (a YAML mapping); got 'EPOCHS=3'. Map variable names to strings.",
            ),
        ),
        (
            {"env": {"EPOCHS": 3}},
            ("env.EPOCHS", "DswInstance [env.EPOCHS]: must be a string; got 3. Map variable names to strings."),
        ),
        (
            {"instance_name": ""},
            (
                "instance_name",
                "DswInstance [instance_name]: must not be empty; got ''. "
                "Name the notebook with 1-27 letters, digits or underscores.",
            ),
        ),
        (
            {"poll_seconds": "10"},
            (
                "poll_seconds",
                "DswInstance [poll_seconds]: must be a number; got '10'. Give a positive number of seconds, e.g. 10.",
            ),
        ),
    ],
)
def test_check_refuses_each_wrongly_typed_input(
    host: ProviderHost, changes: dict[str, Any], failure: tuple[str, str]
) -> None:
    _, failures = host.check(DswInstanceProvider(), {}, notebook(**changes))
    assert failures == [failure]
