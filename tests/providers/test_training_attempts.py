"""A TrainingJob's attempts as DLC reports them (providers/training_attempts.py): preemption, timestamps, the
recorded attempt and the order of checkpoints."""

from __future__ import annotations

from typing import Any

import pytest

from providers.training_attempts import Attempt, checkpoint_order, format_time, is_preemption, parse_time


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
