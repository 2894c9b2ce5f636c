"""EAS 2021-07-01 through the real SDK client against the emulator: every operation the providers use."""

# The SDK models annotate optional fields as plain `str`/`int` (default None), so strict mode would flag every
# read of a response field; these tests assert the exact values, so a None fails them anyway.
# pyright: basic, reportOptionalMemberAccess=false, reportArgumentType=false, reportReturnType=false

from __future__ import annotations

import json
from typing import Any

import pytest
from alibabacloud_eas20210701 import models as eas
from alibabacloud_eas20210701.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException

from providers.clients import ClientFactory
from providers.eas_group import update_traffic_mode
from tests.emulator import Control

REGION = "cn-hangzhou"


def config(name: str, group: str | None = "fraud", instances: int = 2, image: str = "reg/fraud:v1") -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "instance": instances}
    if group:
        metadata["group"] = group
    return {"metadata": metadata, "containers": [{"image": image, "port": 8000}]}


@pytest.fixture
def client(clients: ClientFactory, cloud: Control) -> Client:
    cloud.clock(speed=1)  # these tests watch intermediate states: time moves only when they advance it
    return clients.eas()


def settle(cloud: Control, seconds: float = 120) -> None:
    cloud.clock(advance=seconds)


def test_create_then_running_with_endpoints_token_and_labels(client: Client, cloud: Control) -> None:
    created = client.create_service(
        eas.CreateServiceRequest(body=json.dumps(config("fraud_v1")), labels={"team": "risk"}, workspace_id="ws-1")
    ).body
    assert (created.service_name, created.status, created.region) == ("fraud_v1", "Creating", REGION)
    assert client.describe_service(REGION, "fraud_v1").body.status == "Creating"
    settle(cloud)
    service = client.describe_service(REGION, "fraud_v1").body
    assert (service.status, service.running_instance, service.total_instance) == ("Running", 2, 2)
    assert (service.service_group, service.workspace_id) == ("fraud", "ws-1")
    assert [(label.label_key, label.label_value) for label in service.labels] == [("team", "risk")]
    assert json.loads(service.service_config)["containers"][0]["image"] == "reg/fraud:v1"
    assert service.internet_endpoint.endswith("/api/predict/fraud_v1")
    endpoints = client.describe_service_endpoints(REGION, "fraud_v1").body
    assert endpoints.access_token == service.access_token and len(endpoints.access_token) == 32
    assert endpoints.endpoints[0].internet_endpoints == [service.internet_endpoint]


def test_token_from_config_is_kept(client: Client) -> None:
    body = {**config("fraud_v1"), "token": "my-own-token"}
    client.create_service(eas.CreateServiceRequest(body=body))
    assert client.describe_service(REGION, "fraud_v1").body.access_token == "my-own-token"


def test_create_validates_like_the_api(client: Client) -> None:
    with pytest.raises(ClientException) as caught:
        client.create_service(eas.CreateServiceRequest(body={"metadata": {"name": "Bad-Name"}, "containers": []}))
    assert (caught.value.code, caught.value.status_code) == ("InvalidParameter", 400)
    client.create_service(eas.CreateServiceRequest(body=config("fraud_v1")))
    with pytest.raises(ClientException) as caught:
        client.create_service(eas.CreateServiceRequest(body=config("fraud_v1")))
    assert caught.value.code == "InvalidService.AlreadyExists"


def test_update_merge_and_replace(client: Client, cloud: Control) -> None:
    client.create_service(eas.CreateServiceRequest(body=config("fraud_v1")))
    settle(cloud)
    client.update_service(REGION, "fraud_v1", eas.UpdateServiceRequest(body={"metadata": {"instance": 3}}))
    service = client.describe_service(REGION, "fraud_v1").body
    assert service.status == "Updating"
    merged = json.loads(service.service_config)
    assert (merged["metadata"]["instance"], merged["containers"][0]["image"]) == (3, "reg/fraud:v1")
    settle(cloud)
    assert client.describe_service(REGION, "fraud_v1").body.status == "Running"
    replacement = {"metadata": {"group": "fraud", "instance": 1}, "processor": "pmml"}
    client.update_service(REGION, "fraud_v1", eas.UpdateServiceRequest(body=replacement, update_type="replace"))
    replaced = json.loads(client.describe_service(REGION, "fraud_v1").body.service_config)
    token = client.describe_service(REGION, "fraud_v1").body.access_token
    # What was sent plus what the server adds (workspace, region, labels) and the token (see the emulator README).
    assert replaced == {
        "metadata": {"group": "fraud", "instance": 1, "name": "fraud_v1", "region": REGION, "workspace_id": ""},
        "processor": "pmml",
        "labels": {},
        "token": token,
    }


def test_update_while_creating_is_refused(client: Client) -> None:
    client.create_service(eas.CreateServiceRequest(body=config("fraud_v1")))
    with pytest.raises(ClientException) as caught:
        client.update_service(REGION, "fraud_v1", eas.UpdateServiceRequest(body={"metadata": {"instance": 3}}))
    assert caught.value.code == "InvalidService.Status"
    assert "while Creating" in caught.value.message


def test_stop_start_fail_and_delete(client: Client, cloud: Control) -> None:
    client.create_service(eas.CreateServiceRequest(body=config("fraud_v1")))
    settle(cloud)
    client.stop_service(REGION, "fraud_v1")
    assert client.describe_service(REGION, "fraud_v1").body.status == "Stopping"
    settle(cloud)
    stopped = client.describe_service(REGION, "fraud_v1").body
    assert (stopped.status, stopped.running_instance) == ("Stopped", 0)
    client.start_service(REGION, "fraud_v1")
    assert client.describe_service(REGION, "fraud_v1").body.status == "Starting"
    settle(cloud)
    cloud.fail_service("fraud_v1", reason="OOMKilled", message="container ran out of memory")
    failed = client.describe_service(REGION, "fraud_v1").body
    assert (failed.status, failed.reason, failed.message) == ("Failed", "OOMKilled", "container ran out of memory")
    client.delete_service(REGION, "fraud_v1")
    assert client.describe_service(REGION, "fraud_v1").body.status == "Deleting"
    settle(cloud)
    with pytest.raises(ClientException) as caught:
        client.describe_service(REGION, "fraud_v1")
    assert (caught.value.code, caught.value.status_code) == ("InvalidService.NotFound", 404)


def test_list_services_filters_by_group_label_and_status(client: Client, cloud: Control) -> None:
    client.create_service(eas.CreateServiceRequest(body=config("fraud_v1"), labels={"env": "dev"}))
    client.create_service(eas.CreateServiceRequest(body=config("fraud_v2"), labels={"env": "prod"}))
    client.create_service(eas.CreateServiceRequest(body=config("churn_v1", group="churn")))
    settle(cloud)
    client.stop_service(REGION, "fraud_v2")

    def names(request: eas.ListServicesRequest) -> list[str]:
        return [service.service_name for service in client.list_services(request).body.services]

    assert names(eas.ListServicesRequest(group_name="fraud")) == ["fraud_v1", "fraud_v2"]
    assert names(eas.ListServicesRequest(label={"env": "prod"})) == ["fraud_v2"]
    assert names(eas.ListServicesRequest(service_status="Running")) == ["fraud_v1", "churn_v1"]
    page = client.list_services(eas.ListServicesRequest(page_size=2, page_number=2)).body
    assert ([s.service_name for s in page.services], page.total_count) == (["churn_v1"], 3)


def test_groups_and_release_service_weights(client: Client, cloud: Control) -> None:
    client.create_service(eas.CreateServiceRequest(body=config("fraud_v1")))
    client.create_service(eas.CreateServiceRequest(body=config("fraud_v2")))
    settle(cloud)

    def weights() -> list[tuple[str, int, str]]:
        services = client.list_services(eas.ListServicesRequest(group_name="fraud")).body.services
        return [(s.service_name, s.weight, s.traffic_state) for s in services]

    # The first member takes the group's traffic; later members join standalone, with no traffic.
    assert weights() == [("fraud_v1", 100, "grouping"), ("fraud_v2", 0, "standalone")]
    client.release_service(REGION, "fraud_v1", eas.ReleaseServiceRequest(weight=900))
    answer = client.release_service(
        REGION, "fraud_v2", eas.ReleaseServiceRequest(weight=100, traffic_state="grouping")
    ).body.message
    assert answer == "Releasing service [fraud_v2] in region [cn-hangzhou] with weight [100], service status: [Running]"
    assert weights() == [("fraud_v1", 900, "grouping"), ("fraud_v2", 100, "grouping")]
    with pytest.raises(ClientException) as caught:
        client.release_service(REGION, "fraud_v2", eas.ReleaseServiceRequest(weight=1001))
    assert caught.value.code == "InvalidParameter"
    assert "Weight must be an integer in [-1, 1000]; got 1001" in caught.value.message

    group = client.describe_group(REGION, "fraud").body  # the body is the Group itself
    assert (group.name, group.cluster_id, group.traffic_mode) == ("fraud", REGION, "auto")  # the less forgiving default
    update_traffic_mode(client, REGION, "fraud", "customized")
    assert client.describe_group(REGION, "fraud").body.traffic_mode == "customized"
    with pytest.raises(ClientException) as caught:
        update_traffic_mode(client, REGION, "fraud", "weighted")
    assert caught.value.code == "InvalidParameter"
    assert "TrafficMode must be auto or customized; got 'weighted'" in caught.value.message
    assert group.internet_endpoint.endswith("/api/predict/fraud") and len(group.access_token) == 32
    assert [g.name for g in client.list_groups(eas.ListGroupsRequest()).body.groups] == ["fraud"]


def test_group_disappears_with_its_last_member(client: Client, cloud: Control) -> None:
    client.create_service(eas.CreateServiceRequest(body=config("fraud_v1")))
    client.delete_service(REGION, "fraud_v1")
    settle(cloud)
    with pytest.raises(ClientException) as caught:
        client.describe_group(REGION, "fraud")
    assert (caught.value.code, caught.value.status_code) == ("InvalidGroup.NotFound", 404)


def test_release_outside_a_group_is_refused(client: Client) -> None:
    client.create_service(eas.CreateServiceRequest(body=config("solo_v1", group=None)))
    with pytest.raises(ClientException) as caught:
        client.release_service(REGION, "solo_v1", eas.ReleaseServiceRequest(weight=10))
    assert "is not in a service group" in caught.value.message


def test_autoscaler_lifecycle(client: Client) -> None:
    client.create_service(eas.CreateServiceRequest(body=config("fraud_v1")))
    strategies = [eas.CreateServiceAutoScalerRequestScaleStrategies(metric_name="qps", threshold=20)]
    behavior = eas.CreateServiceAutoScalerRequestBehavior(
        scale_down=eas.CreateServiceAutoScalerRequestBehaviorScaleDown(stabilization_window_seconds=300),
        on_zero=eas.CreateServiceAutoScalerRequestBehaviorOnZero(
            scale_down_grace_period_seconds=600, scale_up_activation_replicas=1
        ),
    )
    request = eas.CreateServiceAutoScalerRequest(min=0, max=4, scale_strategies=strategies, behavior=behavior)
    client.create_service_auto_scaler(REGION, "fraud_v1", request)
    scaler = client.describe_service_auto_scaler(REGION, "fraud_v1").body
    assert (scaler.min_replica, scaler.max_replica) == (0, 4)
    assert [(s.metric_name, s.threshold) for s in scaler.scale_strategies] == [("QPS", 20)]
    assert scaler.behavior == {
        "scaleDown": {"stabilizationWindowSeconds": 300},
        "onZero": {"scaleDownGracePeriodSeconds": 600, "scaleUpActivationReplicas": 1},
    }
    update = eas.UpdateServiceAutoScalerRequest(
        min=1,
        max=6,
        scale_strategies=[eas.UpdateServiceAutoScalerRequestScaleStrategies(metric_name="cpu", threshold=70)],
    )
    client.update_service_auto_scaler(REGION, "fraud_v1", update)
    assert client.describe_service_auto_scaler(REGION, "fraud_v1").body.max_replica == 6
    with pytest.raises(ClientException) as caught:
        client.update_service_auto_scaler(REGION, "fraud_v1", eas.UpdateServiceAutoScalerRequest(min=3, max=3))
    assert caught.value.message.startswith("code: 400, max must be greater than min; got min=3, max=3")
    client.delete_service_auto_scaler(REGION, "fraud_v1")
    with pytest.raises(ClientException) as caught:
        client.describe_service_auto_scaler(REGION, "fraud_v1")
    assert (caught.value.code, caught.value.status_code) == ("InvalidAutoScaler.NotFound", 404)


def test_cron_scaler_lifecycle(client: Client) -> None:
    client.create_service(eas.CreateServiceRequest(body=config("fraud_v1")))
    job = eas.CreateServiceCronScalerRequestScaleJobs(name="evening", schedule="0 0 18 * * *", target_size=3)
    client.create_service_cron_scaler(
        REGION, "fraud_v1", eas.CreateServiceCronScalerRequest(scale_jobs=[job], exclude_dates=["* * * * * 0,6"])
    )
    described = client.describe_service_cron_scaler(REGION, "fraud_v1").body
    assert described.exclude_dates == ["* * * * * 0,6"]
    assert [(j.name, j.schedule, j.target_size, j.state) for j in described.scale_jobs] == [
        ("evening", "0 0 18 * * *", 3, "Normal")
    ]
    five_fields = eas.UpdateServiceCronScalerRequestScaleJobs(name="bad", schedule="0 18 * * *", target_size=1)
    with pytest.raises(ClientException) as caught:
        client.update_service_cron_scaler(
            REGION, "fraud_v1", eas.UpdateServiceCronScalerRequest(scale_jobs=[five_fields])
        )
    assert "Schedule needs 6 cron fields" in caught.value.message
    client.delete_service_cron_scaler(REGION, "fraud_v1")
    with pytest.raises(ClientException) as caught:
        client.delete_service_cron_scaler(REGION, "fraud_v1")
    assert caught.value.code == "InvalidCronScaler.NotFound"


def test_metrics_follow_the_traffic_share_a_version_takes(
    client: Client, cloud: Control, clients: ClientFactory
) -> None:
    from alibabacloud_cms20190101 import models as cms

    for name in ("fraud_v1", "fraud_v2"):
        client.create_service(eas.CreateServiceRequest(body=json.dumps(config(name))))
    settle(cloud)
    cloud.set_metrics("fraud_v2", p95_latency_ms=90, error_ratio=0.001, qps=50)
    cloud.set_metrics("fraud_v2", error_ratio=0.2, from_share=50)  # breaks once it takes half the traffic
    monitor = clients.cloudmonitor()

    def error_percent() -> float:  # rps_status_5xx_ratio is in percent (CloudMonitor's EAS appendix)
        request = cms.DescribeMetricLastRequest(
            namespace="acs_learn", metric_name="rps_status_5xx_ratio", dimensions='[{"serviceName": "fraud_v2"}]'
        )
        return json.loads(monitor.describe_metric_last(request).body.datapoints)[0]["Average"]

    assert error_percent() == 0.1  # standalone: no share
    client.release_service(REGION, "fraud_v2", eas.ReleaseServiceRequest(weight=0, traffic_state="grouping"))
    assert error_percent() == 20.0  # auto mode: weights ignored, 50% by instance count (both have the same)
    update_traffic_mode(client, REGION, "fraud", "customized")
    client.release_service(REGION, "fraud_v1", eas.ReleaseServiceRequest(weight=900))
    client.release_service(REGION, "fraud_v2", eas.ReleaseServiceRequest(weight=100, traffic_state="grouping"))
    assert error_percent() == 0.1  # 10%
    client.release_service(REGION, "fraud_v1", eas.ReleaseServiceRequest(weight=500))
    client.release_service(REGION, "fraud_v2", eas.ReleaseServiceRequest(weight=500))
    assert error_percent() == 20.0  # 50%


def test_mirror_copies_a_ratio_of_requests_to_target_services(client: Client, cloud: Control) -> None:
    for name in ("fraud_v1", "fraud_v2"):
        client.create_service(eas.CreateServiceRequest(body=json.dumps(config(name))))
    client.create_service_mirror(REGION, "fraud_v1", eas.CreateServiceMirrorRequest(ratio=20, target=["fraud_v2"]))
    mirror = client.describe_service_mirror(REGION, "fraud_v1").body
    assert (mirror.ratio, mirror.target) == ("20", "fraud_v2")
    with pytest.raises(ClientException) as refused:
        client.create_service_mirror(REGION, "fraud_v1", eas.CreateServiceMirrorRequest(ratio=101, target=["x"]))
    assert refused.value.code == "InvalidMirror.AlreadyExists"
    client.delete_service_mirror(REGION, "fraud_v1")
    with pytest.raises(ClientException) as gone:
        client.describe_service_mirror(REGION, "fraud_v1")
    assert (gone.value.code, gone.value.status_code) == ("InvalidMirror.NotFound", 404)
