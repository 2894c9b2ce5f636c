"""The control API: every fault kind as the SDKs see it, the call record, the clock, signature checks."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request

import oss2
import pytest
from alibabacloud_eas20210701 import models as eas
from alibabacloud_pai_dlc20201203 import models as dlc
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException
from Tea.exceptions import UnretryableException

from providers.clients import ClientFactory, Credentials
from providers.retry import is_transport_failure
from tests.emulator import Control, Emulator
from tests.emulator.control import ControlError
from tests.support.provider_host import ROOT

JOB = dlc.CreateJobRequest(
    display_name="probe",
    job_type="PyTorchJob",
    user_command="true",
    job_specs=[dlc.JobSpec(type="Worker", image="img", pod_count=1, ecs_spec="ecs.g6.large")],
)


def test_throttle_answers_400_throttling_user_n_times(clients: ClientFactory, cloud: Control) -> None:
    cloud.fault("ListJobs", "throttle", times=2)
    client = clients.dlc()
    for _ in range(2):
        with pytest.raises(ClientException) as caught:
            client.list_jobs(dlc.ListJobsRequest())
        assert (caught.value.code, caught.value.status_code) == ("Throttling.User", 400)
        assert caught.value.message.startswith("code: 400, Request was denied due to user flow control.")
    assert client.list_jobs(dlc.ListJobsRequest()).body.total_count == 0
    assert [c["fault"] for c in cloud.calls(action="ListJobs")] == ["throttle", "throttle", None]


def test_server_error_answers_5xx(clients: ClientFactory, cloud: Control) -> None:
    cloud.fault("CreateJob", "server_error", status=502)
    with pytest.raises(ServerException) as caught:
        clients.dlc().create_job(JOB)
    assert (caught.value.code, caught.value.status_code) == ("ServiceUnavailable", 502)
    assert cloud.calls(api="dlc") and clients.dlc().list_jobs(dlc.ListJobsRequest()).body.total_count == 0


def test_lost_response_applies_the_call_then_drops_the_connection(clients: ClientFactory, cloud: Control) -> None:
    cloud.fault("CreateJob", "lost_response")
    with pytest.raises(UnretryableException) as caught:
        clients.dlc().create_job(JOB)
    assert is_transport_failure(caught.value)
    assert "Remote end closed connection without response" in str(caught.value)
    assert clients.dlc().list_jobs(dlc.ListJobsRequest()).body.total_count == 1  # the job exists all the same
    [call] = cloud.calls(action="CreateJob")
    assert (call["status"], call["fault"], call["body"]["DisplayName"]) == (200, "lost_response", "probe")


def test_delay_slows_the_answer(clients: ClientFactory, emulator: Emulator, cloud: Control) -> None:
    cloud.fault("ListJobs", "delay", seconds=0.3)
    started = time.monotonic()
    clients.dlc().list_jobs(dlc.ListJobsRequest())
    assert time.monotonic() - started >= 0.3
    quick = ClientFactory(clients.credentials, environ=emulator.environment(), read_timeout_ms=100)
    cloud.fault("ListJobs", "delay", seconds=0.5)
    with pytest.raises(UnretryableException) as caught:
        quick.dlc().list_jobs(dlc.ListJobsRequest())
    assert is_transport_failure(caught.value) and "timed out" in str(caught.value)


def test_oss_faults_speak_oss(clients: ClientFactory, cloud: Control) -> None:
    cloud.create_bucket("mlops-dev")
    cloud.fault("PutObject", "throttle", api="oss")
    with pytest.raises(oss2.exceptions.ServerError) as caught:
        clients.oss_bucket("mlops-dev").put_object("k", b"v")
    assert (caught.value.status, caught.value.code) == (503, "SlowDown")


def test_faults_are_per_action_and_validated(clients: ClientFactory, cloud: Control) -> None:
    cloud.fault("GetJob", "throttle")
    assert clients.dlc().list_jobs(dlc.ListJobsRequest()).body.total_count == 0  # another action is untouched
    assert [(f["action"], f["kind"], f["times"]) for f in cloud.faults()] == [("GetJob", "throttle", 1)]
    with pytest.raises(ControlError) as caught:
        cloud.fault("GetJob", "explode")
    assert (
        caught.value.body["message"]
        == "kind must be one of throttle, server_error, delay, lost_response; got 'explode'"
    )
    with pytest.raises(ControlError) as caught:
        cloud.fault("GetJob", "delay")
    assert caught.value.body["message"] == "seconds must be a positive number for a delay; got 0.0"


def test_clock_advance_and_speed(cloud: Control) -> None:
    before = cloud.clock(speed=1)
    after = cloud.clock(advance=2400)
    assert 2400 <= after["now"] - before["now"] < 2401 and after["speed"] == 1
    with pytest.raises(ControlError) as caught:
        cloud.clock(speed=0)
    assert caught.value.body["message"] == "speed must be positive; got 0.0"


def test_timing_and_reset(clients: ClientFactory, cloud: Control) -> None:
    assert cloud.timing(dlc={"running": 5})["dlc"]["running"] == 5
    with pytest.raises(ControlError) as caught:
        cloud.timing(dlc={"warp": 1})
    assert caught.value.body["message"] == "dlc has no step 'warp'; steps: creating, queuing, running, stopping"
    clients.dlc().create_job(JOB)
    cloud.reset()
    assert cloud.calls() == [] and clients.dlc().list_jobs(dlc.ListJobsRequest()).body.total_count == 0
    assert cloud.timing()["dlc"]["running"] == 600


def test_signature_check_proves_which_credentials_signed(
    clients: ClientFactory, emulator: Emulator, cloud: Control
) -> None:
    cloud.verify_credentials("test-access-key", "test-secret-key")
    assert clients.dlc().list_jobs(dlc.ListJobsRequest(display_name="a b/ü")).body.total_count == 0
    wrong_secret = ClientFactory(
        Credentials("test-access-key", "other", None, "cn-hangzhou"), environ=emulator.environment()
    )
    with pytest.raises(ClientException) as caught:
        wrong_secret.dlc().list_jobs(dlc.ListJobsRequest())
    assert caught.value.code == "SignatureDoesNotMatch"
    wrong_key = ClientFactory(Credentials("someone-else", "x", None, "cn-hangzhou"), environ=emulator.environment())
    with pytest.raises(ClientException) as caught:
        wrong_key.eas().list_services(eas.ListServicesRequest())
    assert (caught.value.code, caught.value.status_code) == ("InvalidAccessKeyId.NotFound", 404)


def test_standalone_start_prints_its_url_and_serves(cloud: Control) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.emulator", "--port", "0", "--speed", "50"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"{url}/_emulator/health", timeout=5) as response:
            health = json.loads(response.read())
        assert (health["ok"], health["url"], health["speed"]) == (True, url, 50.0)
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    assert f"export PAI_MLOPS_DLC_ENDPOINT={url}" in stderr
