"""The trigger's Function Compute handler, run here with the real signing client against the emulator's PAIFlow.

FC's python3.12 runtime invokes it with the event as bytes and a context that has no ``credentials`` (the runtime
puts the function role's temporary credentials in ``ALIBABA_CLOUD_*`` environment variables instead,
https://help.aliyun.com/en/functioncompute/fc/context-1); the test builds the context the way that page's
``FCContext`` / ``FunctionMeta`` classes define it, so the request it signs, the run it names and the duplicates it
refuses are the ones FC would see.
"""

from __future__ import annotations

import json
import logging

import pytest
from Tea.exceptions import TeaException, UnretryableException

from functions import start_pipeline
from functions.start_pipeline import EventError, handler, run_id
from tests.emulator.control import Control
from tests.functions.conftest import PIPELINE

TIMER_EVENT = {"triggerTime": "2026-12-01T03:00:00Z", "triggerName": "schedule", "payload": ""}
OSS_EVENT = {
    "events": [
        {
            "eventName": "ObjectCreated:PutObject",
            "eventSource": "acs:oss",
            "eventTime": "2026-12-01T08:15:42.000Z",
            "oss": {"bucket": {"name": "acme-ml-dev"}, "object": {"key": "data/transactions/_SUCCESS", "size": 0}},
        }
    ]
}


class FunctionMeta:
    """The python3.12 runtime's ``context.function`` (the documented class, field for field)."""

    def __init__(self, name: str, handler: str, memory: int, timeout: int, version_id: str, qualifier: str) -> None:
        self.name = name
        self.handler = handler
        self.memory = memory
        self.timeout = timeout
        self.version_id = version_id
        self.qualifier = qualifier


class FCContext:
    """The python3.12 runtime's context (the documented class): no ``credentials`` attribute."""

    def __init__(
        self,
        account_id: str,
        request_id: str,
        function_meta: FunctionMeta,
        logger: logging.Logger,
        log_project: str,
        log_store: str,
        region: str,
    ) -> None:
        self.account_id = account_id
        self.request_id = request_id
        self.function = function_meta
        self.logger = logger
        self.log_project = log_project
        self.log_store = log_store
        self.region = region


CONTEXT = FCContext(
    account_id="1234567890",
    request_id="req-1",
    function_meta=FunctionMeta("pai-mlops-dev-fraud-retraining-start", "index.handler", 128, 60, "", "LATEST"),
    logger=logging.getLogger("fc"),
    log_project="pai-mlops-dev-fraud-retraining-start-1234567890",
    log_store="function-log",
    region="cn-hangzhou",
)


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (TIMER_EVENT, ("r20261201030000", "schedule schedule")),
        (OSS_EVENT, ("r20261201081542", "ObjectCreated:PutObject data/transactions/_SUCCESS")),
        ({"triggerTime": "2026-12-01T11:00:00+08:00"}, ("r20261201030000", "schedule ?")),
    ],
)
def test_run_id_names_the_run_after_the_event_time_in_utc(event: dict[str, object], expected: tuple[str, str]) -> None:
    assert run_id(dict(event)) == expected


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"hello": 1}, 'not a timer or OSS event: {"hello": 1}'),
        ({"events": []}, 'not a timer or OSS event: {"events": []}'),
        ({"triggerTime": "tomorrow"}, "the event time 'tomorrow' is not an ISO 8601 time"),
    ],
)
def test_run_id_refuses_other_events(event: dict[str, object], message: str) -> None:
    with pytest.raises(EventError) as raised:
        run_id(event)
    assert str(raised.value) == message


def test_a_scheduled_invocation_starts_one_run_named_after_the_trigger_time(function_env: Control) -> None:
    line = json.loads(handler(json.dumps(TIMER_EVENT).encode(), CONTEXT))

    assert line["started"] is True
    assert line["name"] == "fraud_retraining-r20261201030000"
    creates = function_env.calls(api="paiflow", action="CreatePipelineRun")
    assert [call["body"] for call in creates] == [
        {
            "PipelineId": PIPELINE,
            "WorkspaceId": "ws-123",
            "Name": "fraud_retraining-r20261201030000",
            "NoConfirmRequired": True,
            "Arguments": json.dumps(
                {
                    "arguments": {
                        "parameters": [
                            {"name": "run", "value": "r20261201030000"},
                            {"name": "trigger", "value": "schedule"},
                        ]
                    }
                }
            ),
        }
    ]
    assert line["pipelineRunId"].startswith("flow-")
    listed = function_env.calls(api="paiflow", action="ListPipelineRuns")
    assert [call["query"] for call in listed] == [
        {
            "Name": "fraud_retraining-r20261201030000",
            "PipelineIds": PIPELINE,
            "WorkspaceId": "ws-123",
            "PageSize": "10",
        }
    ]


def test_a_repeated_event_finds_the_run_and_starts_no_second_one(function_env: Control) -> None:
    first = json.loads(handler(json.dumps(OSS_EVENT), CONTEXT))
    again = json.loads(handler(json.dumps(OSS_EVENT), CONTEXT))

    assert (first["started"], again["started"]) == (True, False)
    assert again["pipelineRunId"] == first["pipelineRunId"]
    assert len(function_env.calls(api="paiflow", action="CreatePipelineRun")) == 1


def test_a_lost_create_answer_fails_the_invocation_and_the_retry_does_not_duplicate(function_env: Control) -> None:
    function_env.fault("CreatePipelineRun", "lost_response", api="paiflow")

    with pytest.raises(UnretryableException) as raised:  # the connection drops; FC will invoke again
        handler(json.dumps(TIMER_EVENT), CONTEXT)
    assert "Remote end closed connection without response" in str(raised.value)
    retried = json.loads(handler(json.dumps(TIMER_EVENT), CONTEXT))

    assert retried["started"] is False
    creates = function_env.calls(api="paiflow", action="CreatePipelineRun")
    assert [(call["status"], call["fault"]) for call in creates] == [(200, "lost_response")]


def test_a_throttled_create_is_not_retried_in_process(function_env: Control) -> None:
    function_env.fault("CreatePipelineRun", "throttle", api="paiflow")

    with pytest.raises(TeaException) as raised:
        handler(json.dumps(TIMER_EVENT), CONTEXT)

    assert raised.value.code == "Throttling.User"
    assert len(function_env.calls(api="paiflow", action="CreatePipelineRun")) == 1
    assert json.loads(handler(json.dumps(TIMER_EVENT), CONTEXT))["started"] is True


def test_an_unknown_pipeline_fails_with_the_apis_error(function_env: Control, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPELINE_ID", "flow-gone")

    with pytest.raises(TeaException) as raised:
        handler(json.dumps(TIMER_EVENT), CONTEXT)

    assert (raised.value.code, raised.value.message.split(" request id:")[0]) == (
        "PipelineNotFound",
        "code: 404, pipeline flow-gone does not exist",
    )


def test_a_missing_setting_names_every_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in start_pipeline.REQUIRED_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PIPELINE_ID", PIPELINE)

    with pytest.raises(RuntimeError) as raised:
        handler(json.dumps(TIMER_EVENT), CONTEXT)

    assert str(raised.value) == (
        "the function's environment lacks PIPELINE_NAME, WORKSPACE_ID, PAIFLOW_ENDPOINT; redeploy the stack"
    )


def test_a_non_json_event_is_refused_before_any_call(function_env: Control) -> None:
    with pytest.raises(EventError) as raised:
        handler(b"not json", CONTEXT)

    assert str(raised.value).startswith("the event is not JSON: ")
    assert function_env.calls(api="paiflow") == []


def test_the_credentials_come_from_the_environment_the_runtime_sets(function_env: Control) -> None:
    line = json.loads(handler(json.dumps(TIMER_EVENT), CONTEXT))

    assert (line["started"], line["requestId"]) == (True, "req-1")
    # The emulator checks every signature against the key pair the fixture put in the environment.
    assert [call["status"] for call in function_env.calls(api="paiflow")] == [200, 200]


def test_no_credentials_in_the_environment_fails_before_any_call(
    function_env: Control, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ALIBABA_CLOUD_SECURITY_TOKEN")
    monkeypatch.delenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET")

    with pytest.raises(RuntimeError) as raised:
        handler(json.dumps(TIMER_EVENT), CONTEXT)

    assert str(raised.value) == (
        "the function's environment lacks ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_SECURITY_TOKEN: FC sets "
        "them only for a function with a role; check the function's role in the stack"
    )
    assert function_env.calls(api="paiflow") == []
