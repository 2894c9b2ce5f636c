"""Training job policies on fixtures (policies/rules/dlc.py): spot jobs and long jobs checkpoint."""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel

from policies.rules import dlc
from policies.rules.common import TRAINING_JOB
from tests.support.policy_harness import check


def test_policy_metadata() -> None:
    assert [(p.name, p.enforcement_level) for p in dlc.POLICIES] == [
        ("dlc-spot-requires-checkpoint", EnforcementLevel.MANDATORY),
        ("dlc-long-job-checkpoint", EnforcementLevel.ADVISORY),
    ]


# --- dlc-spot-requires-checkpoint

SPOT_FIX = "Set the training job's checkpointIntervalMinutes to 20 or less"


def job(**inputs: Any) -> dict[str, Any]:
    return {"job_type": "PyTorchJob", "spot": True, "max_runtime_minutes": 240, **inputs}


def test_spot_fires_without_checkpoints() -> None:
    assert check(dlc.dlc_spot_requires_checkpoint, TRAINING_JOB, job(), name="nightly") == [
        "spot training job 'nightly' does not checkpoint (checkpoint_interval_minutes not set); a reclaimed spot "
        f"instance loses all its work. {SPOT_FIX}, or turn spot off."
    ]


def test_spot_fires_when_checkpoints_are_too_far_apart() -> None:
    found = check(dlc.dlc_spot_requires_checkpoint, TRAINING_JOB, job(checkpoint_interval_minutes=45), name="nightly")
    assert found == [
        "spot training job 'nightly' checkpoints every 45 minutes; a reclaimed spot instance loses up to that much "
        f"work. {SPOT_FIX}."
    ]


def test_spot_is_quiet_with_frequent_checkpoints_and_for_on_demand_jobs() -> None:
    assert check(dlc.dlc_spot_requires_checkpoint, TRAINING_JOB, job(checkpoint_interval_minutes=20)) == []
    assert check(dlc.dlc_spot_requires_checkpoint, TRAINING_JOB, job(spot=False)) == []


def test_spot_interval_limit_is_configurable() -> None:
    props = job(checkpoint_interval_minutes=20)
    assert len(check(dlc.dlc_spot_requires_checkpoint, TRAINING_JOB, props, config={"maxIntervalMinutes": 10})) == 1


# --- dlc-long-job-checkpoint


def test_long_job_fires_without_checkpoints_when_unbounded_or_long() -> None:
    unbounded = check(dlc.dlc_long_job_checkpoint, TRAINING_JOB, {"spot": False}, name="tune")
    assert unbounded == [
        "training job 'tune' may run without a time limit but does not checkpoint (checkpoint_interval_minutes not "
        "set); a failure near the end repeats the whole run. Set the training job's checkpointIntervalMinutes, or a "
        "max runtime of 30 minutes or less."
    ]
    long = check(dlc.dlc_long_job_checkpoint, TRAINING_JOB, {"max_runtime_minutes": 90}, name="tune")
    assert long[0].startswith("training job 'tune' may run for up to 90 minutes but does not checkpoint")


def test_long_job_is_quiet_for_short_jobs_and_jobs_that_checkpoint() -> None:
    assert check(dlc.dlc_long_job_checkpoint, TRAINING_JOB, {"max_runtime_minutes": 30}) == []
    assert check(dlc.dlc_long_job_checkpoint, TRAINING_JOB, {"checkpoint_interval_minutes": 15}) == []
