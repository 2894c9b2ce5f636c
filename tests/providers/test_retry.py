"""providers/retry.py: the retry policy against the emulator (throttling, 5xx, lost answers, deadlines, back-off)."""

from __future__ import annotations

import pytest
from alibabacloud_pai_dlc20201203 import models as dlc
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException

from providers import retry
from providers.clients import ClientFactory
from providers.waiting import Deadline
from tests.emulator import Control
from tests.support.fake_time import FakeTime

JOB = dlc.CreateJobRequest(
    display_name="retry-me",
    job_type="PyTorchJob",
    user_command="true",
    job_specs=[dlc.JobSpec(type="Worker", image="img", pod_count=1, ecs_spec="ecs.g6.large")],
)
FAST = retry.RetryPolicy(initial=0.001, maximum=0.005, jitter=0.001)


def test_retries_throttling_and_5xx_within_the_deadline(clients: ClientFactory, cloud: Control) -> None:
    cloud.fault("ListJobs", "throttle", times=2)
    cloud.fault("ListJobs", "server_error", times=1)
    client = clients.dlc()
    body = retry.call(
        lambda: client.list_jobs(dlc.ListJobsRequest()), what="list jobs", deadline=Deadline(10), policy=FAST
    )
    assert body.body.total_count == 0
    assert [c["fault"] for c in cloud.calls(action="ListJobs")] == ["throttle", "throttle", "server_error", None]


def test_never_retries_a_validation_error(clients: ClientFactory, cloud: Control) -> None:
    client = clients.dlc()
    invalid = dlc.CreateJobRequest(display_name="x", job_type="PyTorchJob", job_specs=JOB.job_specs)
    with pytest.raises(ClientException) as caught:
        retry.call(lambda: client.create_job(invalid), what="create job", deadline=Deadline(10), policy=FAST)
    assert caught.value.code == "MissingParameter"
    assert len(cloud.calls(action="CreateJob")) == 1


def test_gives_up_with_the_last_error_when_the_deadline_passes(clients: ClientFactory, cloud: Control) -> None:
    cloud.fault("ListJobs", "throttle", times=1000)
    client = clients.dlc()
    policy = retry.RetryPolicy(initial=0.05, maximum=0.05, jitter=0.0)
    with pytest.raises(ClientException) as caught:
        retry.call(
            lambda: client.list_jobs(dlc.ListJobsRequest()), what="list jobs", deadline=Deadline(0.3), policy=policy
        )
    assert caught.value.code == "Throttling.User"
    attempts = len(cloud.calls(action="ListJobs"))
    assert 2 <= attempts <= 7  # 0.05 s apart inside a 0.3 s budget
    assert caught.value.__notes__[0].startswith(f"list jobs: gave up after {attempts} attempts in ")


def test_backoff_grows_and_is_capped() -> None:
    fake = FakeTime()
    failures = iter([ServerException(code="ServiceUnavailable", message="busy", status_code=503)] * 5)

    def flaky() -> str:
        error = next(failures, None)
        if error is not None:
            raise error
        return "done"

    policy = retry.RetryPolicy(initial=1.0, maximum=4.0, jitter=0.0)
    result = retry.call(flaky, what="flaky", deadline=Deadline(100, clock=fake.clock), policy=policy, sleep=fake.sleep)
    assert (result, fake.sleeps) == ("done", [1.0, 2.0, 4.0, 4.0, 4.0])


def test_a_retry_after_answer_is_honoured() -> None:
    from alibabacloud_tea_openapi.exceptions import ThrottlingException

    fake = FakeTime()
    answers = iter([ThrottlingException(code="Throttling", message="slow down", status_code=429, retry_after=7)])

    def once() -> str:
        error = next(answers, None)
        if error is not None:
            raise error
        return "ok"

    retry.call(once, what="x", deadline=Deadline(60, clock=fake.clock), policy=FAST, sleep=fake.sleep)
    assert fake.sleeps == [7.0]


def test_a_create_is_not_repeated_after_a_lost_response(clients: ClientFactory, cloud: Control) -> None:
    cloud.fault("CreateJob", "lost_response")
    client = clients.dlc()
    with pytest.raises(retry.AmbiguousOutcome) as caught:
        retry.call(
            lambda: client.create_job(JOB), what="submit job", deadline=Deadline(10), idempotent=False, policy=FAST
        )
    assert str(caught.value).startswith("submit job: ")
    assert str(caught.value).endswith("; the server may have acted on it")
    assert len(cloud.calls(action="CreateJob")) == 1  # asked once: the provider must look before asking again
    assert client.list_jobs(dlc.ListJobsRequest(display_name="retry-me")).body.total_count == 1


def test_a_create_is_retried_on_throttling(clients: ClientFactory, cloud: Control) -> None:
    cloud.fault("CreateJob", "throttle", times=2)
    client = clients.dlc()

    def submit() -> str:
        return str(client.create_job(JOB).body.job_id)

    job_id = retry.call(submit, what="submit", deadline=Deadline(10), idempotent=False, policy=FAST)
    assert job_id.startswith("dlc")
    assert client.list_jobs(dlc.ListJobsRequest()).body.total_count == 1


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (ClientException(code="Throttling.User", message="m", status_code=400), True),
        (ClientException(code="Throttling.Api", message="m", status_code=400), True),
        (ClientException(code="TooMany", message="m", status_code=429), True),
        (ServerException(code="InternalError", message="m", status_code=500), True),
        (ClientException(code="ServiceUnavailable", message="m", status_code=400), True),
        (ClientException(code="InvalidParameter", message="m", status_code=400), False),
        (ClientException(code="InvalidService.NotFound", message="m", status_code=404), False),
        (ValueError("not an API error"), False),
    ],
)
def test_transient_classification(error: Exception, transient: bool) -> None:
    assert retry.is_transient(error) is transient
