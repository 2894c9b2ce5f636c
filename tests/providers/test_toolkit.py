"""The provider toolkit: retry policy (against the emulator), deadlines and polling, the client factory."""

from __future__ import annotations

import pytest
from alibabacloud_pai_dlc20201203 import models as dlc
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException

from providers import retry
from providers.clients import (
    ENDPOINT_VARIABLES,
    ClientFactory,
    ProviderConfigError,
    credentials_from,
    endpoint_override,
)
from providers.waiting import Deadline, DeadlineExceeded, Poll, wait_for
from tests.emulator import Control

JOB = dlc.CreateJobRequest(
    display_name="retry-me",
    job_type="PyTorchJob",
    user_command="true",
    job_specs=[dlc.JobSpec(type="Worker", image="img", pod_count=1, ecs_spec="ecs.g6.large")],
)
FAST = retry.RetryPolicy(initial=0.001, maximum=0.005, jitter=0.001)


class FakeTime:
    """A clock and a sleep that only move when slept on: deadlines without waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


# -- retry policy ----------------------------------------------------------------------------------------------


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


# -- deadlines and polling -------------------------------------------------------------------------------------


def test_wait_for_reports_each_change_and_returns_the_final_value() -> None:
    fake = FakeTime()
    states = iter(["Creating", "Queuing", "Queuing", "Running", "Succeeded"])
    lines: list[str] = []
    final = wait_for(
        lambda: next(states),
        done=lambda s: s == "Succeeded",
        describe=lambda s: s,
        what="job dlc1",
        deadline=Deadline(600, clock=fake.clock),
        poll=Poll(interval=10, heartbeat=60, sleep=fake.sleep),
        report=lines.append,
    )
    assert final == "Succeeded"
    assert lines == [
        "job dlc1: Creating (0s)",
        "job dlc1: Queuing (10s)",
        "job dlc1: Running (30s)",
        "job dlc1: Succeeded (40s)",
    ]


def test_wait_for_fails_at_the_deadline_naming_the_last_state() -> None:
    fake = FakeTime()
    lines: list[str] = []
    with pytest.raises(DeadlineExceeded) as caught:
        wait_for(
            lambda: "Queuing",
            done=lambda s: False,
            describe=lambda s: s,
            what="job dlc1",
            deadline=Deadline(100, clock=fake.clock),
            poll=Poll(interval=30, heartbeat=60, sleep=fake.sleep),
            report=lines.append,
        )
    assert str(caught.value).startswith("job dlc1: still Queuing after 100s, past its deadline of 100s.")
    assert fake.sleeps == [30, 30, 30, 10]  # never sleeps past the deadline
    assert lines == ["job dlc1: Queuing (0s)", "job dlc1: Queuing (60s)"]  # a heartbeat while nothing changes


def test_deadline_needs_a_budget() -> None:
    with pytest.raises(ValueError, match=r"a deadline needs a positive budget; got 0 seconds"):
        Deadline(0)


# -- client factory --------------------------------------------------------------------------------------------


class Config:
    """Stands in for pulumi.dynamic.Config: get("ns:key")."""

    def __init__(self, values: dict[str, str]) -> None:
        self._values = values

    def get(self, key: str) -> str | None:
        return self._values.get(key)


def test_credentials_prefer_stack_config_then_environment() -> None:
    config = Config({"alicloud:accessKey": "cfg-ak", "alicloud:secretKey": "cfg-sk", "alicloud:region": "cn-beijing"})
    environ = {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "env-ak",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "env-sk",
        "ALICLOUD_REGION": "cn-shanghai",
        "ALICLOUD_SECURITY_TOKEN": "sts",
    }
    from_config = credentials_from(config, environ)
    assert (
        from_config.access_key_id,
        from_config.access_key_secret,
        from_config.region,
        from_config.security_token,
    ) == (
        "cfg-ak",
        "cfg-sk",
        "cn-beijing",
        "sts",
    )
    from_env = credentials_from(None, environ)
    assert (from_env.access_key_id, from_env.region) == ("env-ak", "cn-shanghai")
    assert "env-sk" not in repr(from_env)


def test_missing_credentials_name_every_key_and_the_fix() -> None:
    with pytest.raises(ProviderConfigError) as caught:
        credentials_from(Config({"alicloud:region": "cn-hangzhou"}), {})
    assert str(caught.value) == (
        "Alibaba Cloud credentials are incomplete; missing alicloud:accessKey "
        "(or ALIBABA_CLOUD_ACCESS_KEY_ID / ALICLOUD_ACCESS_KEY), alicloud:secretKey "
        "(or ALIBABA_CLOUD_ACCESS_KEY_SECRET / ALICLOUD_SECRET_KEY). Set them on the stack "
        "(`pulumi config set alicloud:region cn-hangzhou`, `pulumi config set alicloud:accessKey …`, "
        "`pulumi config set --secret alicloud:secretKey …`) or export the environment variables."
    )


def test_endpoints_default_to_the_region_and_follow_overrides() -> None:
    credentials = credentials_from(
        None, {"ALICLOUD_ACCESS_KEY": "a", "ALICLOUD_SECRET_KEY": "s", "ALICLOUD_REGION": "cn-shanghai"}
    )
    real = ClientFactory(credentials, environ={})
    assert real.oss_endpoint() == "https://oss-cn-shanghai.aliyuncs.com"
    assert real.dlc()._endpoint == "pai-dlc.cn-shanghai.aliyuncs.com"  # pyright: ignore[reportPrivateUsage]
    assert real.prometheus_url("https://prom.example.com/") == "https://prom.example.com"
    local = ClientFactory(credentials, environ={name: "http://127.0.0.1:8500" for name in ENDPOINT_VARIABLES.values()})
    assert local.oss_endpoint() == "http://127.0.0.1:8500"
    assert local.eas()._endpoint == "127.0.0.1:8500"  # pyright: ignore[reportPrivateUsage]
    assert local.prometheus_url("https://prom.example.com") == "http://127.0.0.1:8500"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"PAI_MLOPS_DLC_ENDPOINT": "127.0.0.1:8500"},
            "PAI_MLOPS_DLC_ENDPOINT must look like http://127.0.0.1:PORT; got '127.0.0.1:8500'. Fix or unset it.",
        ),
        (
            {"PAI_MLOPS_DLC_ENDPOINT": "http://127.0.0.1:8500", "HTTPS_PROXY": "http://proxy:3128"},
            "PAI_MLOPS_DLC_ENDPOINT points at 127.0.0.1, but HTTPS_PROXY is set and the Alibaba SDKs send even "
            "loopback calls through it (they ignore NO_PROXY). Unset the proxy variables for this run.",
        ),
    ],
)
def test_bad_overrides_are_refused_with_the_fix(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ProviderConfigError) as caught:
        endpoint_override("dlc", environ)
    assert str(caught.value) == message
