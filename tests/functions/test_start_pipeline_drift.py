"""The trigger's drift gate (functions/start_pipeline.py with drift configured), against the emulator's OSS and
PAIFlow with the real clients: a shifted batch starts a run with the figures in its parameters, an unshifted one
starts none, a refused batch starts none and says why, and the schedule still starts a run regardless."""

from __future__ import annotations

import functools
import json

import numpy as np
import oss2
import pytest

from components.drift_trigger import drift_policy, profile_key
from components.ram_documents import account_trust_policy
from drift_check.profile import build_profile, dumps
from functions.start_pipeline import handler, run_parameters
from providers.clients import ClientFactory
from providers.copy_session import assume_role
from tests.components.test_drift_trigger import TRIGGER
from tests.components.test_pipeline import pipeline_args
from tests.conftest import TEST_CREDENTIALS
from tests.emulator import Control, Emulator
from tests.emulator.sts import DEFAULT_ACCOUNT
from tests.functions.test_start_pipeline import CONTEXT, OSS_EVENT, TIMER_EVENT

BUCKET = "acme-ml-dev"
ARGS = pipeline_args(trigger=TRIGGER)
assert ARGS.pipeline.trigger is not None and ARGS.pipeline.trigger.drift is not None
DRIFT = ARGS.pipeline.trigger.drift
PROFILE = profile_key(DRIFT, ARGS.service)  # the live version's, as the component sets it
REPORTS = "data/drift-reports/fraud_retraining/"
RUN = "r20261201081542"  # OSS_EVENT's time
START_ROLE = "fraud-retraining-start"


@functools.cache
def _samples() -> dict[str, list[float]]:
    """The image tests' seeded samples: the reference, an unshifted and a shifted (by one sd) batch."""
    rng = np.random.default_rng(20261201)
    reference, unshifted, shifted = (rng.normal(mu, 1.0, 5000).tolist() for mu in (0.0, 0.0, 1.0))
    return {"reference": reference, "unshifted": unshifted, "shifted": shifted}


@pytest.fixture
def drift_env(
    function_env: Control, emulator: Emulator, clients: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> oss2.Bucket:
    monkeypatch.setenv("DRIFT_METHOD", "psi")
    monkeypatch.setenv("DRIFT_THRESHOLD", "0.25")
    monkeypatch.setenv("DRIFT_PROFILE", PROFILE)
    monkeypatch.setenv("DRIFT_REPORTS", REPORTS)
    monkeypatch.setenv("BUCKET", BUCKET)
    monkeypatch.setenv("OSS_ENDPOINT", emulator.url)
    function_env.create_bucket(BUCKET)
    bucket = clients.oss_bucket(BUCKET)
    bucket.put_object(PROFILE, dumps(build_profile({"amount": _samples()["reference"]})).encode())
    # The function runs on its start role's STS session, as FC gives it: the emulator's OSS judges every call
    # against the drift policy the component attaches, so a grant the check lacks fails here as it would on FC.
    policy = drift_policy(
        DRIFT,
        service=ARGS.service,
        pipeline="fraud_retraining",
        marker=str(TRIGGER["dataMarker"]),  # the key OSS_EVENT writes
        bucket=BUCKET,
    )
    role = function_env.put_role(START_ROLE, account_trust_policy([f"acs:ram::{DEFAULT_ACCOUNT}:root"]))
    function_env.attach_policy(START_ROLE, "drift", policy)
    function_env.verify_credentials(TEST_CREDENTIALS.access_key_id, TEST_CREDENTIALS.access_key_secret)
    session = assume_role(clients, role, "fc-start")
    assert session.security_token is not None
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", session.access_key_id)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", session.access_key_secret)
    monkeypatch.setenv("ALIBABA_CLOUD_SECURITY_TOKEN", session.security_token)
    function_env.verify_credentials(session.access_key_id, session.access_key_secret)
    return bucket


def _land(bucket: oss2.Bucket, which: str) -> None:
    bucket.put_object("data/transactions/part-0.csv", ("amount\n" + "\n".join(map(repr, _samples()[which]))).encode())


def _arguments(cloud: Control) -> list[dict[str, str]]:
    [create] = cloud.calls(api="paiflow", action="CreatePipelineRun")
    return json.loads(create["body"]["Arguments"])["arguments"]["parameters"]


def test_a_shifted_batch_starts_a_run_that_carries_the_figures(drift_env: oss2.Bucket, function_env: Control) -> None:
    _land(drift_env, "shifted")

    line = json.loads(handler(json.dumps(OSS_EVENT), CONTEXT))

    assert line["started"] is True
    assert line["drift"] == {
        "drift": True,
        "method": "psi",
        "threshold": 0.25,
        "score": pytest.approx(0.9235272270483443, abs=1e-12),
        "feature": "amount",
        "report": f"{REPORTS}{RUN}.json",
    }
    assert _arguments(function_env) == [
        {"name": "run", "value": RUN},
        {"name": "trigger", "value": "drift"},
        {"name": "drift_method", "value": "psi"},
        {"name": "drift_score", "value": repr(line["drift"]["score"])},
        {"name": "drift_feature", "value": "amount"},
        {"name": "drift_report", "value": f"oss://{BUCKET}/{REPORTS}{RUN}.json"},
    ]
    report = json.loads(drift_env.get_object(f"{REPORTS}{RUN}.json").read())
    assert (report["drift"], report["objects"]) == (True, ["data/transactions/part-0.csv"])


def test_an_unshifted_batch_starts_no_run_and_its_report_says_why(
    drift_env: oss2.Bucket, function_env: Control
) -> None:
    _land(drift_env, "unshifted")

    line = json.loads(handler(json.dumps(OSS_EVENT), CONTEXT))

    assert (line["started"], line["pipelineRunId"]) == (False, None)
    assert line["drift"]["drift"] is False
    assert line["drift"]["score"] == pytest.approx(0.004025618325754793, abs=1e-12)
    assert function_env.calls(api="paiflow", action="CreatePipelineRun") == []
    assert json.loads(drift_env.get_object(f"{REPORTS}{RUN}.json").read())["drift"] is False


def test_a_batch_missing_a_profiled_feature_starts_no_run_and_the_log_names_it(
    drift_env: oss2.Bucket, function_env: Control
) -> None:
    drift_env.put_object("data/transactions/part-0.csv", b"id\n1\n")

    line = json.loads(handler(json.dumps(OSS_EVENT), CONTEXT))

    assert line["started"] is False
    assert line["drift"]["error"] == (
        "file 0: feature(s) amount of the profile are not in the data (columns: id); "
        "a schema change needs a new profile, not a retraining"
    )
    assert function_env.calls(api="paiflow", action="CreatePipelineRun") == []


def test_the_schedule_starts_a_run_regardless_and_checks_nothing(drift_env: oss2.Bucket, function_env: Control) -> None:
    _land(drift_env, "unshifted")

    line = json.loads(handler(json.dumps(TIMER_EVENT), CONTEXT))

    assert line["started"] is True
    assert "drift" not in line
    assert _arguments(function_env) == [
        {"name": "run", "value": "r20261201030000"},
        {"name": "trigger", "value": "schedule"},
    ]
    assert [obj.key for obj in oss2.ObjectIterator(drift_env, prefix=REPORTS)] == []


def test_a_retried_event_finds_the_run_and_does_not_check_again(drift_env: oss2.Bucket, function_env: Control) -> None:
    _land(drift_env, "shifted")
    first = json.loads(handler(json.dumps(OSS_EVENT), CONTEXT))
    drift_env.delete_object(f"{REPORTS}{RUN}.json")

    again = json.loads(handler(json.dumps(OSS_EVENT), CONTEXT))

    assert (first["started"], again["started"], again["pipelineRunId"]) == (True, False, first["pipelineRunId"])
    assert "drift" not in again
    assert not drift_env.object_exists(f"{REPORTS}{RUN}.json")


def test_a_data_run_without_drift_configured_says_it_was_started_by_data(function_env: Control) -> None:
    json.loads(handler(json.dumps(OSS_EVENT), CONTEXT))

    assert _arguments(function_env) == [{"name": "run", "value": RUN}, {"name": "trigger", "value": "data"}]


def test_a_missing_drift_setting_fails_the_invocation_naming_it(
    drift_env: oss2.Bucket, function_env: Control, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DRIFT_PROFILE")

    with pytest.raises(RuntimeError) as raised:
        handler(json.dumps(OSS_EVENT), CONTEXT)

    assert str(raised.value) == "the function's environment lacks DRIFT_PROFILE; redeploy the stack"
    assert function_env.calls(api="paiflow", action="CreatePipelineRun") == []


def test_run_parameters_of_a_drift_run_are_strings() -> None:
    report = {"method": "ks", "score": 0.5, "feature": "age", "report": "data/drift-reports/p/r1.json"}

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BUCKET", "b")
        assert run_parameters("r1", "drift", report) == [
            {"name": "run", "value": "r1"},
            {"name": "trigger", "value": "drift"},
            {"name": "drift_method", "value": "ks"},
            {"name": "drift_score", "value": "0.5"},
            {"name": "drift_feature", "value": "age"},
            {"name": "drift_report", "value": "oss://b/data/drift-reports/p/r1.json"},
        ]
