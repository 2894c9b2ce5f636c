"""A TrainingJob's attempts as DLC reports them (providers/training_attempts.py): preemption, timestamps, the
recorded attempt and the order of checkpoints."""

from __future__ import annotations

from typing import Any

import pytest

from providers.training_attempts import (
    Attempt,
    FollowUp,
    checkpoint_order,
    follow_up,
    format_time,
    is_preemption,
    parse_time,
)


@pytest.mark.parametrize(
    ("job", "preempted"),
    [
        # ReasonCodes are not documented for DLC: none counts, whatever it says.
        ({"Status": "Failed", "ReasonCode": "PodEvicted"}, False),
        ({"Status": "Failed", "ReasonCode": "SpotInstanceReclaimed", "Pods": [{"SubStatus": "Normal"}]}, False),
        ({"Status": "Failed", "ReasonCode": "Preempted"}, False),
        ({"Status": "Failed", "ReasonCode": "JobFailed", "Pods": [{"SubStatus": "Evicted"}]}, True),
        ({"Status": "FailedReserving", "SubStatus": "PreemptionRetrying"}, True),
        ({"Status": "Failed", "ReasonCode": "JobFailed", "Pods": [{"SubStatus": "Normal"}]}, False),
        ({"Status": "Stopped", "Pods": [{"SubStatus": "Evicted"}]}, False),
        ({"Status": "Running", "Pods": [{"SubStatus": "Evicted"}]}, False),
    ],
)
def test_is_preemption(job: dict[str, Any], preempted: bool) -> None:
    assert is_preemption(job) is preempted


def test_checkpoints_sort_naturally() -> None:
    names = ["step-1000", "step-99", "epoch-10", "step-100", "epoch-9"]
    assert sorted(names, key=checkpoint_order) == ["epoch-9", "epoch-10", "step-99", "step-100", "step-1000"]


def test_api_timestamps_read_with_or_without_fractions_and_absent_ones_are_none() -> None:
    assert parse_time("2026-11-24T10:15:00Z") == 1795515300.0
    assert parse_time("2026-11-24T10:15:00.250Z") == 1795515300.25
    assert parse_time("2026-11-24T10:15:00") == 1795515300.0  # no zone: UTC, as the API means it
    assert [parse_time(v) for v in ("", None, "yesterday", 1795515300)] == [None, None, None, None]
    assert (format_time(1795515300.0), format_time(None)) == ("2026-11-24T10:15:00Z", "")


def test_an_attempt_records_what_dlc_reports_and_survives_the_state_round_trip() -> None:
    attempt = Attempt(2, "dlc-2", checkpoint="oss://b/checkpoints/step-100/")
    attempt.observe(
        {
            "Status": "Failed",
            "ReasonCode": "JobFailed",
            "ReasonMessage": "pod evicted",
            "GmtSubmittedTime": "2026-11-24T10:00:00Z",
            "GmtRunningTime": "2026-11-24T10:01:00Z",
            "GmtFinishTime": "2026-11-24T10:30:00Z",
            "Duration": 1740.0,
        }
    )
    assert attempt.line() == (
        "attempt 2 dlc-2: Failed (JobFailed: pod evicted), resumed from oss://b/checkpoints/step-100/, "
        "2026-11-24T10:01:00Z to 2026-11-24T10:30:00Z"
    )
    # State comes back from gRPC with floats and may carry fields a newer version added.
    restored = Attempt.from_output({**attempt.as_output(), "attempt": 2.0, "duration_seconds": 1740.0, "new": 1})
    assert restored == attempt
    # A finish time is kept only once the job has ended.
    attempt.observe({"Status": "Running", "GmtFinishTime": "2026-11-24T10:30:00Z"})
    assert (attempt.status, attempt.ended, attempt.reason) == ("Running", "", "")


def test_observing_a_job_records_whether_it_was_preempted() -> None:
    attempt = Attempt(1, "dlc-1")
    attempt.observe({"Status": "Failed", "Pods": [{"SubStatus": "Evicted"}]})
    assert attempt.preempted is True
    attempt.observe({"Status": "Failed", "Pods": [{"SubStatus": "Normal"}]})
    assert attempt.preempted is False
    assert Attempt.from_output({"attempt": 1, "job_id": "dlc-1", "status": "Failed"}).preempted is False  # old state


PREEMPTED_1 = Attempt(1, "dlc-1", "Failed", "JobFailed: evicted", preempted=True)
FAILED_1 = Attempt(1, "dlc-1", "Failed", "JobFailed: exit 1")
SPENT = (
    "training job t: attempt 2 (dlc-2) was preempted (JobFailed: evicted) and all 1 resubmission(s) (max_resubmits) "
    "are spent; not resubmitting. Raise max_resubmits or give the run a new id to train again."
)
NOT_RETRIED = (
    "training job t: attempt 1 (dlc-1) failed (JobFailed: exit 1); resubmit_on is 'preemption', so it is not "
    "resubmitted. Give the run a new id to train again."
)


@pytest.mark.parametrize(
    ("attempts", "changes", "expected"),
    [
        ([PREEMPTED_1], {}, FollowUp(resubmit=True)),
        ([PREEMPTED_1], {"wait": "none"}, FollowUp(resubmit=True)),
        ([PREEMPTED_1], {"wait": "completed"}, FollowUp(resubmit=False)),  # watched to its end by its own up
        (
            [PREEMPTED_1],
            {"max_resubmits": 0},
            FollowUp(
                resubmit=False,
                warning=SPENT.replace("1 res", "0 res").replace("attempt 2 (dlc-2)", "attempt 1 (dlc-1)"),
            ),
        ),
        ([FAILED_1, Attempt(2, "dlc-2", "Failed", "JobFailed: evicted", preempted=True)], {}, FollowUp(False, SPENT)),
        ([FAILED_1], {}, FollowUp(resubmit=False, warning=NOT_RETRIED)),
        ([FAILED_1], {"resubmit_on": "any_failure"}, FollowUp(resubmit=True)),
        ([Attempt(1, "dlc-1", "FailedReserving", preempted=True)], {}, FollowUp(resubmit=True)),
        ([Attempt(1, "dlc-1", "Running")], {}, FollowUp(resubmit=False)),
        ([Attempt(1, "dlc-1", "Succeeded")], {}, FollowUp(resubmit=False)),
        ([Attempt(1, "dlc-1", "Stopped", preempted=False)], {"resubmit_on": "any_failure"}, FollowUp(False)),
        ([Attempt(1, "dlc-1", "Deleted", "the job record no longer exists")], {}, FollowUp(resubmit=False)),
        ([], {}, FollowUp(resubmit=False)),
    ],
)
def test_follow_up_resubmits_a_preempted_run_while_resubmissions_remain(
    attempts: list[Attempt], changes: dict[str, Any], expected: FollowUp
) -> None:
    props = {"wait": "running", "max_resubmits": 1, "resubmit_on": "preemption", **changes}
    assert follow_up("training job t", attempts, props) == expected
