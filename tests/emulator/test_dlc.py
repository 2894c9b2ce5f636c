"""DLC 2020-12-03 through the real SDK client against the emulator."""

# The SDK models annotate optional fields as plain `str`/`int` (default None), so strict mode would flag every
# read of a response field; these tests assert the exact values, so a None fails them anyway.
# pyright: basic, reportOptionalMemberAccess=false, reportArgumentType=false, reportReturnType=false, reportOptionalSubscript=false

from __future__ import annotations

import email.utils
from typing import Any

import pytest
from alibabacloud_pai_dlc20201203 import models as dlc
from alibabacloud_pai_dlc20201203.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException

from providers.clients import ClientFactory
from tests.emulator import Control


@pytest.fixture
def client(clients: ClientFactory, cloud: Control) -> Client:
    cloud.clock(speed=1)  # time moves only when a test advances it
    return clients.dlc()


def job_request(name: str = "fraud-train", spot: bool = True, **changes: object) -> dlc.CreateJobRequest:
    spec = dlc.JobSpec(
        type="Worker",
        image="registry/train:abc123",
        pod_count=2,
        ecs_spec="ecs.gn6i-c4g1.xlarge",
        use_spot_instance=spot,
    )
    if spot:
        spec.spot_spec = dlc.SpotSpec(spot_strategy="SpotWithPriceLimit", spot_discount_limit=0.5)
    fields: dict[str, Any] = {
        "display_name": name,
        "job_type": "PyTorchJob",
        "user_command": "python train.py",
        "job_specs": [spec],
        "envs": {"EPOCHS": "3"},
        "data_sources": [
            dlc.CreateJobRequestDataSources(
                uri="oss://b.oss-cn-hangzhou-internal.aliyuncs.com/ckpt/", mount_path="/mnt/ckpt", mount_access="RW"
            )
        ],
        "settings": dlc.JobSettings(tags={"pai-mlops/key": "k-1"}),
        **changes,
    }
    return dlc.CreateJobRequest(**fields)


def test_job_runs_the_whole_timeline(client: Client, cloud: Control) -> None:
    job_id = client.create_job(job_request()).body.job_id
    assert job_id.startswith("dlc")
    statuses = []
    for seconds in (0, 10, 30, 600):
        cloud.clock(advance=seconds)
        statuses.append(client.get_job(job_id, dlc.GetJobRequest()).body.status)
    assert statuses == ["Creating", "Queuing", "Running", "Succeeded"]
    job = client.get_job(job_id, dlc.GetJobRequest(need_detail=True)).body
    assert [h.status for h in job.status_history] == ["Creating", "Queuing", "Running", "Succeeded"]
    assert (job.duration, job.display_name, job.envs) == (600, "fraud-train", {"EPOCHS": "3"})
    assert job.settings.tags == {"pai-mlops/key": "k-1"}
    assert [(d.uri, d.mount_path) for d in job.data_sources] == [
        ("oss://b.oss-cn-hangzhou-internal.aliyuncs.com/ckpt/", "/mnt/ckpt")
    ]
    assert [(p.type, p.status) for p in job.pods] == [("Worker", "Succeeded"), ("Worker", "Succeeded")]
    assert job.gmt_finish_time.endswith("Z")


@pytest.mark.parametrize(
    ("changes", "code", "message"),
    [
        ({"display_name": None}, "MissingParameter", "DisplayName is mandatory for this action."),
        ({"user_command": None}, "MissingParameter", "UserCommand is mandatory for this action."),
        ({"job_type": "TorchJob"}, "InvalidParameter", "JobType must be one of TFJob, PyTorchJob"),
        ({"display_name": "has space"}, "InvalidParameter", "DisplayName may hold letters"),
        ({"resource_id": "quota-1"}, "InvalidParameter", "JobSpecs[0].ResourceConfig is mandatory"),
    ],
)
def test_create_job_validates_required_fields(client: Client, changes: dict[str, Any], code: str, message: str) -> None:
    with pytest.raises(ClientException) as caught:
        client.create_job(job_request(**changes))
    assert (caught.value.code, caught.value.status_code) == (code, 400)
    assert message in caught.value.message


def role(role_type: str, assume_for: str | None = "123456789012") -> dlc.CredentialConfig:
    return dlc.CredentialConfig(
        enable_credential_inject=True,
        credential_config_items=[
            dlc.CredentialConfigItem(
                key="default",
                type="Role",
                roles=[
                    dlc.CredentialRole(
                        role_arn="acs:ram::123456789012:role/pai-mlops-dev-dlc",
                        role_type=role_type,
                        assume_role_for=assume_for,
                    )
                ],
            )
        ],
    )


def quota_spec(memory: str = "30Gi", gpu_type: str = "Tesla-V100-16G") -> list[dlc.JobSpec]:
    config = dlc.ResourceConfig(cpu="8", memory=memory, gpu="1", gputype=gpu_type)
    return [dlc.JobSpec(type="Worker", image="registry/train:abc123", pod_count=1, resource_config=config)]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"credential_config": role("user")},
            "CredentialConfigItems[0].Roles[0].RoleType must be 'service' for a role assumed by a PAI service; "
            "got 'user'",
        ),
        (
            {"credential_config": role("service", None)},
            "CredentialConfigItems[0].Roles[0].AssumeRoleFor must be the uid of the role's account, 123456789012; "
            "got None",
        ),
        (
            {"resource_id": "quota-1", "job_specs": quota_spec(gpu_type="NVIDIA A10")},
            "JobSpecs[0].ResourceConfig.GPUType names a GPU type such as 'Tesla-V100-16G'; got 'NVIDIA A10'",
        ),
        (
            {"resource_id": "quota-1", "job_specs": quota_spec(memory="30")},
            "JobSpecs[0].ResourceConfig.Memory takes a Gi quantity such as '10Gi'; got '30'",
        ),
    ],
)
def test_create_job_refuses_undocumented_role_and_resource_forms(
    client: Client, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ClientException) as caught:
        client.create_job(job_request(spot=False, **changes))
    assert (caught.value.code, caught.value.status_code) == ("InvalidParameter", 400)
    assert message in caught.value.message


def test_the_documented_role_and_resource_forms_are_accepted(client: Client) -> None:
    request = job_request(spot=False, resource_id="quota-1", job_specs=quota_spec(), credential_config=role("service"))
    assert client.create_job(request).body.job_id.startswith("dlc")


def test_spot_without_a_limit_is_refused(client: Client) -> None:
    request = job_request()
    request.job_specs[0].spot_spec = dlc.SpotSpec(spot_strategy="SpotWithPriceLimit")
    with pytest.raises(ClientException) as caught:
        client.create_job(request)
    assert "SpotDiscountLimit or SpotPriceLimit" in caught.value.message


def test_list_jobs_filters_and_the_seven_day_window(client: Client, cloud: Control) -> None:
    old = client.create_job(job_request("fraud-old")).body.job_id
    cloud.clock(advance=8 * 24 * 3600)
    new = client.create_job(job_request("fraud-new")).body.job_id
    other = client.create_job(job_request("churn", settings=dlc.JobSettings(tags={"pai-mlops/key": "k-2"}))).body.job_id

    def ids(request: dlc.ListJobsRequest) -> list[str]:
        return [job.job_id for job in client.list_jobs(request).body.jobs]

    assert ids(dlc.ListJobsRequest()) == [other, new]  # newest first; the old job is out of the default window
    assert ids(dlc.ListJobsRequest(display_name="FRAUD")) == [new]
    assert ids(dlc.ListJobsRequest(tags={"pai-mlops/key": "k-2"})) == []  # unconfirmed filter: matches nothing
    assert ids(dlc.ListJobsRequest(display_name="fraud", start_time="2000-01-01T00:00:00Z")) == [new, old]
    assert ids(dlc.ListJobsRequest(status="Creating")) == [other, new]
    assert ids(dlc.ListJobsRequest(status="Running")) == []


def test_scripted_preemption_fails_the_job_with_an_evicted_pod(client: Client, cloud: Control) -> None:
    cloud.job_outcomes({"outcome": "preempted", "after_running_seconds": 120})
    job_id = client.create_job(job_request()).body.job_id
    cloud.clock(advance=10 + 30 + 120)
    job = client.get_job(job_id, dlc.GetJobRequest()).body
    assert (job.status, job.reason_code) == ("Failed", "JobFailed")  # only the pods say it was preempted
    assert job.reason_message == "The spot instance was reclaimed and the pod was evicted."
    assert [p.sub_status for p in job.pods] == ["Evicted", "Evicted"]
    assert job.duration == 120
    second = client.create_job(job_request()).body.job_id  # the script is spent: the next job succeeds
    cloud.clock(advance=700)
    assert client.get_job(second, dlc.GetJobRequest()).body.status == "Succeeded"


def test_preempt_and_fail_on_demand(client: Client, cloud: Control) -> None:
    running = client.create_job(job_request()).body.job_id
    cloud.clock(advance=45)
    cloud.preempt_job(running)
    job = client.get_job(running, dlc.GetJobRequest()).body
    assert (job.status, job.reason_code, job.pods[0].sub_status) == ("Failed", "JobFailed", "Evicted")
    broken = client.create_job(job_request()).body.job_id
    cloud.fail_job(broken, reason_code="OOM", reason_message="worker-0 was OOM killed")
    job = client.get_job(broken, dlc.GetJobRequest()).body
    assert (job.status, job.reason_code, job.reason_message, job.pods[0].sub_status) == (
        "Failed",
        "OOM",
        "worker-0 was OOM killed",
        "Normal",
    )


def test_stop_then_delete(client: Client, cloud: Control) -> None:
    job_id = client.create_job(job_request()).body.job_id
    cloud.clock(advance=45)
    with pytest.raises(ClientException) as caught:
        client.delete_job(job_id)
    assert (caught.value.code, caught.value.message.split(", ", 1)[1].split(" request id")[0]) == (
        "InvalidJobStatus",
        f"Job {job_id} is Running; stop it before deleting it.",
    )
    assert client.stop_job(job_id).body.job_id == job_id
    assert client.get_job(job_id, dlc.GetJobRequest()).body.status == "Stopping"
    cloud.clock(advance=10)
    assert client.get_job(job_id, dlc.GetJobRequest()).body.status == "Stopped"
    assert client.delete_job(job_id).body.job_id == job_id
    with pytest.raises(ClientException) as caught:
        client.get_job(job_id, dlc.GetJobRequest())
    assert (caught.value.code, caught.value.status_code) == ("JobNotFound", 404)


def test_answers_carry_the_virtual_clock_in_their_date_header(client: Client, cloud: Control) -> None:
    now = cloud.clock(advance=3 * 24 * 3600)["now"]
    date = client.list_jobs(dlc.ListJobsRequest()).headers["date"]
    assert abs(email.utils.parsedate_to_datetime(date).timestamp() - now) < 2


def test_update_job_changes_the_description_and_keeps_specs_the_sdk_sends_empty(client: Client) -> None:
    job_id = client.create_job(job_request()).body.job_id
    client.update_job(job_id, dlc.UpdateJobRequest(description="kept for audit", priority=5))
    job = client.get_job(job_id, dlc.GetJobRequest()).body
    assert (job.description, job.priority, len(job.job_specs)) == ("kept for audit", 5, 1)


def test_update_job_refuses_new_specs_once_running(client: Client, cloud: Control) -> None:
    job_id = client.create_job(job_request()).body.job_id
    cloud.clock(advance=60)
    with pytest.raises(ClientException) as refused:
        client.update_job(job_id, dlc.UpdateJobRequest(user_command="python other.py"))
    assert (refused.value.code, refused.value.status_code) == ("InvalidParameter", 400)
    assert "JobSpecs and UserCommand change only while queuing" in refused.value.message


def test_tags_are_added_and_removed_on_jobs(client: Client) -> None:
    job_id = client.create_job(job_request()).body.job_id
    tag = dlc.TagResourcesRequestTag(key="team", value="fraud")
    client.tag_resources(
        dlc.TagResourcesRequest(region_id="cn-hangzhou", resource_id=[job_id], resource_type="Job", tag=[tag])
    )
    assert client.get_job(job_id, dlc.GetJobRequest()).body.settings.tags == {"pai-mlops/key": "k-1", "team": "fraud"}
    client.untag_resources(dlc.UntagResourcesRequest(resource_id=[job_id], resource_type="Job", tag_key=["team"]))
    assert client.get_job(job_id, dlc.GetJobRequest()).body.settings.tags == {"pai-mlops/key": "k-1"}
    with pytest.raises(ClientException) as refused:
        client.untag_resources(dlc.UntagResourcesRequest(resource_id=[job_id], resource_type="Pod", all="true"))
    assert refused.value.message.startswith("code: 400, ResourceType must be Job; got 'Pod'")
