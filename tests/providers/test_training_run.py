"""A run ``pulumi up`` stopped watching (``wait: running``), followed by the next ``pulumi up --refresh``: the
refresh (``read``) records the current attempt's end, ``diff`` asks for an update when a preempted attempt is due
a resubmission, and ``update`` resubmits it from the newest checkpoint (``Run.resume`` in providers/training_run.py).

Through ``python -m pulumi.dynamic`` against the emulator, as tests/providers/test_training.py: refresh, diff and
update are called in the order ``pulumi up --refresh`` calls them, each with the state the previous one returned.
"""

from __future__ import annotations

from typing import Any

import pytest

from providers.clients import ClientFactory
from providers.training import TrainingJobProvider
from tests.emulator import Control
from tests.support.provider_host import ProviderHost
from tests.support.training import BUCKET, PREEMPTED, actions, create, inputs, jobs, put_checkpoint

CHECKPOINT = f"oss://{BUCKET}/checkpoints/fraud/r1/step-100/"


@pytest.fixture
def host(host: ProviderHost, cloud: Control) -> ProviderHost:
    cloud.create_bucket(BUCKET)
    cloud.timing(dlc={"running": 1e6})  # a job runs until the test ends it
    return host


def started(host: ProviderHost, **changes: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A ``wait: running`` run as the first ``pulumi up`` leaves it: its inputs and its state (Running)."""
    props = inputs(wait="running", **changes)
    outs = create(host, props)
    assert outs["status"] == "Running"
    return props, outs


def refresh(host: ProviderHost, state: dict[str, Any]) -> dict[str, Any]:
    id_, refreshed = host.read(TrainingJobProvider(), state["key"], state)
    assert id_ == state["key"]
    return refreshed


def warnings(host: ProviderHost) -> list[str]:
    return [line for line in host.stderr.splitlines() if "resubmit" in line and "not resubmit" in line]


def test_a_preemption_after_the_start_is_resubmitted_from_the_checkpoint_by_the_next_up(
    host: ProviderHost, cloud: Control, clients: ClientFactory
) -> None:
    props, outs = started(host, max_resubmits=3)
    put_checkpoint(clients, "step-100", complete=True)
    cloud.preempt_job(outs["job_id"])

    refreshed = refresh(host, outs)
    assert refreshed["status"] == "Failed"
    [attempt] = refreshed["attempts"]
    assert (attempt["status"], attempt["reason"], attempt["preempted"]) == ("Failed", PREEMPTED, True)

    diff = host.diff(TrainingJobProvider(), outs["key"], refreshed, props)
    assert (diff.changes, diff.replaces) == ("DIFF_SOME", [])  # an update: the run and its key stay

    updated = host.update(TrainingJobProvider(), outs["key"], refreshed, props)

    assert len(actions(cloud, "CreateJob")) == 2  # the first attempt's and exactly one resubmission
    first, second = jobs(clients)
    assert second["Envs"]["PAI_MLOPS_RESUME_FROM_URI"] == CHECKPOINT
    assert second["Envs"]["PAI_MLOPS_ATTEMPT"] == "2"
    assert (updated["key"], updated["job_id"], updated["status"]) == (outs["key"], second["JobId"], "Running")
    assert [(a["attempt"], a["job_id"], a["status"], a["preempted"], a["checkpoint"]) for a in updated["attempts"]] == [
        (1, first["JobId"], "Failed", True, ""),
        (2, second["JobId"], "Running", False, CHECKPOINT),
    ]
    assert f"attempt 1 was preempted; resubmitting from checkpoint {CHECKPOINT}" in host.stderr
    # The following up finds the new attempt running: nothing more to do.
    assert host.diff(TrainingJobProvider(), outs["key"], refresh(host, updated), props).changes == "DIFF_NONE"


def test_spent_resubmissions_show_no_diff_and_a_warning_naming_the_run_and_the_count(
    host: ProviderHost, cloud: Control
) -> None:
    props, outs = started(host, max_resubmits=1)
    cloud.preempt_job(outs["job_id"])
    refreshed = refresh(host, outs)
    updated = host.update(TrainingJobProvider(), outs["key"], refreshed, props)
    second = updated["job_id"]
    cloud.preempt_job(second)
    host.mark()

    diff = host.diff(TrainingJobProvider(), outs["key"], refresh(host, updated), props)

    assert (diff.changes, diff.replaces) == ("DIFF_NONE", [])
    assert warnings(host) == [
        f"[pai-mlops] training job train-fraud: attempt 2 ({second}) was preempted ({PREEMPTED}) and all 1 "
        "resubmission(s) (max_resubmits) are spent; not resubmitting. Raise max_resubmits or give the run a new id "
        "to train again."
    ]
    assert len(actions(cloud, "CreateJob")) == 2
    # Raising max_resubmits is a change of its own, and its update resubmits.
    more = inputs(wait="running", max_resubmits=2)
    assert host.diff(TrainingJobProvider(), outs["key"], refresh(host, updated), more).changes == "DIFF_SOME"
    again = host.update(TrainingJobProvider(), outs["key"], refresh(host, updated), more)
    assert [a["status"] for a in again["attempts"]] == ["Failed", "Failed", "Running"]


@pytest.mark.parametrize(
    ("end", "resubmit_on", "expected", "warned"),
    [
        ("succeeded", "preemption", "DIFF_NONE", False),
        ("failed", "preemption", "DIFF_NONE", True),  # the code failed: not retried unless any_failure
        ("failed", "any_failure", "DIFF_SOME", False),
    ],
)
def test_a_run_that_ended_otherwise_is_resubmitted_only_when_resubmit_on_says(
    host: ProviderHost, cloud: Control, end: str, resubmit_on: str, expected: str, warned: bool
) -> None:
    cloud.job_outcomes({"outcome": "succeeded", "after_running_seconds": 36000})
    props, outs = started(host, max_resubmits=3, resubmit_on=resubmit_on)
    if end == "failed":
        cloud.fail_job(outs["job_id"])
    else:
        cloud.clock(advance=40000)
    host.mark()

    refreshed = refresh(host, outs)
    diff = host.diff(TrainingJobProvider(), outs["key"], refreshed, props)

    assert refreshed["status"] == ("Succeeded" if end == "succeeded" else "Failed")
    assert refreshed["attempts"][0]["preempted"] is False
    assert (diff.changes, diff.replaces) == (expected, [])
    assert len(warnings(host)) == (1 if warned else 0)
    if warned:
        assert "resubmit_on is 'preemption', so it is not resubmitted. Give the run a new id to train again." in (
            host.stderr
        )


def test_a_lost_answer_to_the_resubmission_is_adopted_not_submitted_twice(
    host: ProviderHost, cloud: Control, clients: ClientFactory
) -> None:
    props, outs = started(host, max_resubmits=3)
    cloud.preempt_job(outs["job_id"])
    refreshed = refresh(host, outs)
    cloud.fault("CreateJob", "lost_response", api="dlc")

    updated = host.update(TrainingJobProvider(), outs["key"], refreshed, props)

    first, second = jobs(clients)
    assert [call["fault"] for call in actions(cloud, "CreateJob")] == [None, "lost_response"]
    assert [a["job_id"] for a in updated["attempts"]] == [first["JobId"], second["JobId"]]
    assert f"attempt 2 was submitted as {second['JobId']}; adopting it" in host.stderr


def test_an_update_whose_state_was_never_written_adopts_its_attempt_at_the_following_up(
    host: ProviderHost, cloud: Control, clients: ClientFactory
) -> None:
    """The deploy job ends after the resubmission but before the state is saved: the state still shows attempt 1
    preempted, and the following ``pulumi up`` adopts attempt 2 by the run's key instead of submitting a third."""
    props, outs = started(host, max_resubmits=3)
    cloud.preempt_job(outs["job_id"])
    refreshed = refresh(host, outs)
    host.update(TrainingJobProvider(), outs["key"], refreshed, props)  # its answer is lost with the job
    stale = refresh(host, outs)  # the state the engine still holds, refreshed by the following up

    assert host.diff(TrainingJobProvider(), outs["key"], stale, props).changes == "DIFF_SOME"
    updated = host.update(TrainingJobProvider(), outs["key"], stale, props)

    first, second = jobs(clients)
    assert len(actions(cloud, "CreateJob")) == 2
    assert [(a["job_id"], a["status"]) for a in updated["attempts"]] == [
        (first["JobId"], "Failed"),
        (second["JobId"], "Running"),
    ]
    assert f"adopting attempt 2 ({second['JobId']}), submitted by an earlier pulumi up that did not record it" in (
        host.stderr
    )


@pytest.mark.parametrize("preempted", [False, True])
def test_state_written_before_the_preempted_flag_reads_and_diffs_as_the_run_is(
    host: ProviderHost, cloud: Control, preempted: bool
) -> None:
    props, outs = started(host, max_resubmits=3)
    old = {**outs, "attempts": [{k: v for k, v in a.items() if k != "preempted"} for a in outs["attempts"]]}
    assert host.diff(TrainingJobProvider(), outs["key"], old, props).changes == "DIFF_NONE"  # without refresh
    if preempted:
        cloud.preempt_job(outs["job_id"])

    refreshed = refresh(host, old)

    assert [a["preempted"] for a in refreshed["attempts"]] == [preempted]
    diff = host.diff(TrainingJobProvider(), outs["key"], refreshed, props)
    assert diff.changes == ("DIFF_SOME" if preempted else "DIFF_NONE")  # a real preemption, never a spurious diff
    assert len(actions(cloud, "CreateJob")) == 1
