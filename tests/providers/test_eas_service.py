"""EasService through ``python -m pulumi.dynamic`` against the emulator, whose DescribeService adds server keys.

What is proven: a config change leaves the instance count the autoscaler set; previews stay quiet although the API
returns keys the program never sent (and after a refresh); no token reaches the resource's plain outputs; an
existing service of the same name is adopted, not created twice; the wait for Running has its own budget, shows
progress and fails naming the service, its last status and EAS's reason.
"""

# pyright: basic, reportOptionalMemberAccess=false, reportArgumentType=false, reportOperatorIssue=false

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from alibabacloud_eas20210701 import models as eas

from providers.clients import ClientFactory
from providers.eas_service import EasServiceProvider, check_failures
from tests.emulator import Control
from tests.support.provider_host import ProviderFailed, ProviderHost, wait_until

REGION = "cn-hangzhou"
NAME = "fraud_scorer_v7"
CONFIG: dict[str, Any] = {
    "metadata": {"name": NAME, "group": "fraud_scorer", "instance": 1},
    "cloud": {"computing": {"instance_type": "ecs.c7.large"}},
    "processor": "pmml",
    "model_path": "oss://acme/models/fraud_scorer/v7/",
}


def props(config: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    return {
        "service_name": NAME,
        "service_config": json.dumps(config or CONFIG, sort_keys=True),
        "workspace_id": "ws-1",
        "role_arn": None,
        "ready_timeout_seconds": 600,
        "poll_seconds": 0.02,
        **changes,
    }


def bigger(instance_type: str = "ecs.c7.xlarge") -> dict[str, Any]:
    config = json.loads(json.dumps(CONFIG))
    config["cloud"]["computing"]["instance_type"] = instance_type
    return config


def described(clients: ClientFactory) -> dict[str, Any]:
    return json.loads(clients.eas().describe_service(REGION, NAME).body.service_config)


def scale_by_hand(clients: ClientFactory, cloud: Control, instances: int) -> None:
    """What the autoscaler does: an UpdateService of metadata.instance only (manual scaling, per the SDK)."""
    body = {"metadata": {"instance": instances}}
    clients.eas().update_service(REGION, NAME, eas.UpdateServiceRequest(body=body))
    cloud.clock(advance=60)


def test_a_config_change_keeps_the_autoscalers_instance_count(
    host: ProviderHost, cloud: Control, clients: ClientFactory
) -> None:
    id_, outs = host.create(EasServiceProvider(), props())
    assert (id_, outs["status"]) == (NAME, "Running")
    scale_by_hand(clients, cloud, 5)
    news = props(bigger())
    assert host.diff(EasServiceProvider(), id_, outs, news).changes == "DIFF_SOME"
    updated = host.update(EasServiceProvider(), id_, outs, news)
    assert updated["status"] == "Running"
    live = described(clients)
    assert (live["metadata"]["instance"], live["cloud"]["computing"]["instance_type"]) == (5, "ecs.c7.xlarge")
    update = cloud.calls(api="eas", action="UpdateService")[-1]
    assert update["query"].get("UpdateType") == "merge"
    assert "instance" not in update["body"]["metadata"]


def test_server_added_keys_and_a_refresh_leave_the_preview_quiet(
    host: ProviderHost, cloud: Control, clients: ClientFactory
) -> None:
    id_, outs = host.create(EasServiceProvider(), props())
    scale_by_hand(clients, cloud, 3)
    api_copy = described(clients)
    assert {"labels", "token"} <= api_copy.keys() and api_copy["metadata"]["workspace_id"] == "ws-1"
    _, refreshed = host.read(EasServiceProvider(), id_, outs)
    assert json.loads(refreshed["service_config"]) == CONFIG  # server keys dropped, the program's count kept
    assert host.diff(EasServiceProvider(), id_, refreshed, props()).changes == "DIFF_NONE"
    assert host.diff(EasServiceProvider(), id_, outs, props()).changes == "DIFF_NONE"


def test_a_hand_edit_of_a_managed_key_shows_as_drift(
    host: ProviderHost, cloud: Control, clients: ClientFactory
) -> None:
    id_, outs = host.create(EasServiceProvider(), props())
    hand = {"cloud": {"computing": {"instance_type": "ecs.c7.4xlarge"}}}
    clients.eas().update_service(REGION, NAME, eas.UpdateServiceRequest(body=hand))
    cloud.clock(advance=60)
    _, refreshed = host.read(EasServiceProvider(), id_, outs)
    assert json.loads(refreshed["service_config"])["cloud"]["computing"]["instance_type"] == "ecs.c7.4xlarge"
    assert host.diff(EasServiceProvider(), id_, refreshed, props()).changes == "DIFF_SOME"


def test_no_token_in_plain_outputs_only_the_secret_one(host: ProviderHost, clients: ClientFactory) -> None:
    _id, outs = host.create(EasServiceProvider(), props())
    token = clients.eas().describe_service(REGION, NAME).body.access_token
    assert outs["access_token"] == token  # the one output the resource lists in additional_secret_outputs
    plain = {key: value for key, value in outs.items() if key != "access_token"}
    assert token not in json.dumps(plain)


def test_an_existing_service_of_the_same_name_is_adopted(
    host: ProviderHost, cloud: Control, clients: ClientFactory
) -> None:
    """A stack moving off pai.Service (or a retried up) finds its service: merged into, never created twice."""
    legacy = {**CONFIG, "metadata": {**CONFIG["metadata"], "instance": 4}}
    clients.eas().create_service(eas.CreateServiceRequest(body=json.dumps(legacy)))
    cloud.clock(advance=120)
    id_, outs = host.create(EasServiceProvider(), props(bigger()))
    assert (id_, outs["status"]) == (NAME, "Running")
    assert len(cloud.calls(api="eas", action="CreateService")) == 1
    live = described(clients)
    assert (live["metadata"]["instance"], live["cloud"]["computing"]["instance_type"]) == (4, "ecs.c7.xlarge")
    assert "adopting it" in host.stderr


def test_a_lost_create_answer_is_adopted(host: ProviderHost, cloud: Control) -> None:
    cloud.fault("CreateService", "lost_response", api="eas")
    id_, outs = host.create(EasServiceProvider(), props())
    assert (id_, outs["status"]) == (NAME, "Running")
    assert "found after an unclear create" in host.stderr


def test_the_wait_reports_progress_and_fails_naming_status_and_reason(host: ProviderHost, cloud: Control) -> None:
    cloud.timing(eas={"create": 10_000_000})  # never Running within the budget
    with pytest.raises(ProviderFailed) as caught:
        host.create(EasServiceProvider(), props(ready_timeout_seconds=1, poll_seconds=0.2))
    assert f"EAS service {NAME} is not Running after 1s: last status Creating" in caught.value.details
    assert "readyTimeoutMinutes" in caught.value.details
    assert f"[pai-mlops] EAS service {NAME}: Creating" in host.stderr


def test_a_failed_service_names_its_reason(host: ProviderHost, cloud: Control) -> None:
    cloud.timing(eas={"create": 10_000_000})
    with ThreadPoolExecutor(max_workers=1) as pool:
        creating = pool.submit(host.create, EasServiceProvider(), props(ready_timeout_seconds=3600))
        wait_until(lambda: bool(cloud.calls(api="eas", action="CreateService")))
        cloud.fail_service(NAME, reason="ImagePullFailed", message="pull access denied")
        with pytest.raises(ProviderFailed) as caught:
            creating.result(timeout=60)
    assert f"EAS service {NAME} ended Failed (ImagePullFailed pull access denied) 0/1 running instead of Running" in (
        caught.value.details
    )


def test_the_role_goes_on_the_wire_not_into_the_config_input(host: ProviderHost, cloud: Control) -> None:
    role = "acs:ram::1234567890123456:role/mlops-dev-eas"
    host.create(EasServiceProvider(), props(role_arn=role))
    sent = cloud.calls(api="eas", action="CreateService")[-1]["body"]
    assert (sent["role_arn"], sent["options"]) == (role, {"enable_ram_role": True})


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        (
            {"service_name": "Bad-Name"},
            "service_name",
            "EasService [service_name]: must be a lower-case EAS service name; got 'Bad-Name'. Name the service with "
            "lower-case letters, digits and _, at most 64 characters.",
        ),
        (
            {"service_config": "{"},
            "service_config",
            "must be a JSON object; Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
        (
            {"service_config": json.dumps({**CONFIG, "token": "x" * 20})},
            "service_config",
            "must not carry the access token (state would show it): set it on ServiceEndpoint.token",
        ),
        (
            {"service_config": json.dumps({"metadata": {"name": NAME}})},
            "service_config",
            "metadata.instance must be the starting instance count, at least 1; got None",
        ),
        (
            {"service_name": "other_v7"},
            "service_config",
            f"metadata.name must equal service_name 'other_v7'; got {NAME!r}",
        ),
        (
            {"ready_timeout_seconds": 0},
            "ready_timeout_seconds",
            "EasService [ready_timeout_seconds]: must be at least 1; got 0. Give whole seconds to wait for Running "
            "(serving.services[].readyTimeoutMinutes).",
        ),
        (
            {"role_arn": "arn:aws:iam::1:role/x"},
            "role_arn",
            "EasService [role_arn]: must be a RAM role ARN; got 'arn:aws:iam::1:role/x'. Give the RAM role ARN EAS "
            "runs the service with, acs:ram::<uid>:role/<name>.",
        ),
        (
            {"docker_auth": "ab"},
            "docker_auth",
            "EasService [docker_auth]: must have at least 4 characters; got a value not shown here. Give base64 of "
            "user:password (a secret).",
        ),
    ],
)
def test_check_names_the_input(change: dict[str, Any], where: str, message: str) -> None:
    assert check_failures(props(**change)) == [(where, message)]


def test_check_through_the_host(host: ProviderHost) -> None:
    _inputs, failures = host.check(EasServiceProvider(), {}, props(ready_timeout_seconds="20m"))
    assert failures == [
        (
            "ready_timeout_seconds",
            "EasService [ready_timeout_seconds]: must be a whole number; got '20m'. Give whole seconds to wait for "
            "Running (serving.services[].readyTimeoutMinutes).",
        )
    ]


def test_check_waits_for_values_unknown_at_preview(host: ProviderHost) -> None:
    """The first preview of a new stack: the workspace and the -eas role do not exist yet."""
    from pulumi.runtime import rpc

    _inputs, failures = host.check(
        EasServiceProvider(), {}, props(workspace_id=rpc.UNKNOWN, role_arn=rpc.UNKNOWN, docker_auth=rpc.UNKNOWN)
    )
    assert failures == []
    _inputs, failures = host.check(EasServiceProvider(), {}, props(workspace_id=rpc.UNKNOWN, service_name="Bad"))
    assert [prop for prop, _ in failures] == ["service_name"]


def test_tags_become_service_labels(host: ProviderHost, cloud: Control, clients: ClientFactory) -> None:
    id_, outs = host.create(EasServiceProvider(), props(tags={"environment": "dev"}))
    labels = clients.eas().describe_service(REGION, NAME).body.labels
    assert [(label.label_key, label.label_value) for label in labels] == [("environment", "dev")]
    host.update(EasServiceProvider(), id_, outs, props(tags={"environment": "dev", "owner": "ml"}))
    labels = clients.eas().describe_service(REGION, NAME).body.labels
    assert [(label.label_key, label.label_value) for label in labels] == [("environment", "dev"), ("owner", "ml")]
    assert cloud.calls(api="eas", action="UpdateService") == []  # labels alone never touch the config


def test_registry_credentials_go_on_the_wire_as_docker_auth(host: ProviderHost, cloud: Control) -> None:
    id_, outs = host.create(EasServiceProvider(), props(docker_auth="dXNlcjpwYXNz"))
    assert cloud.calls(api="eas", action="CreateService")[-1]["body"]["dockerAuth"] == "dXNlcjpwYXNz"
    host.update(EasServiceProvider(), id_, outs, props(docker_auth="dXNlcjpuZXc="))
    assert cloud.calls(api="eas", action="UpdateService")[-1]["body"]["dockerAuth"] == "dXNlcjpuZXc="


def test_a_config_change_keeps_a_rotated_token(host: ProviderHost, cloud: Control, clients: ClientFactory) -> None:
    """ServiceEndpoint rotates tokens with a merge of {"token"}; a later config update must not undo it."""
    id_, outs = host.create(EasServiceProvider(), props())
    rotated = "r" * 32
    clients.eas().update_service(REGION, NAME, eas.UpdateServiceRequest(body={"token": rotated}))
    cloud.clock(advance=60)
    updated = host.update(EasServiceProvider(), id_, outs, props(bigger()))
    assert clients.eas().describe_service(REGION, NAME).body.access_token == rotated
    assert updated["access_token"] == rotated  # only in the secret output
    assert rotated not in updated["service_config"]


def test_burst_turned_off_is_sent_as_false_since_a_merge_keeps_what_a_body_leaves_out(
    host: ProviderHost, cloud: Control, clients: ClientFactory
) -> None:
    dedicated = {
        "metadata": {
            "name": NAME,
            "group": "fraud_scorer",
            "instance": 1,
            "resource": "eas-r-gpu01",
            "cpu": 8,
            "memory": 30000,
        },
        "processor": "pmml",
        "model_path": "oss://acme/models/fraud_scorer/v7/",
    }
    bursting = json.loads(json.dumps(dedicated))
    bursting["metadata"]["resource_burstable"] = True
    bursting["cloud"] = {
        "computing": {"instance_type": "ecs.gn6i-c8g1.2xlarge"},
        "networking": {"vpc_id": "vpc-1", "vswitch_id": "vsw-1", "security_group_id": "sg-1"},
    }
    id_, outs = host.create(EasServiceProvider(), props(bursting))
    host.update(EasServiceProvider(), id_, outs, props(dedicated))
    update = cloud.calls(api="eas", action="UpdateService")[-1]
    assert update["body"]["metadata"]["resource_burstable"] is False
    assert described(clients)["metadata"]["resource_burstable"] is False
