"""Training waits fit the deploy job that runs them: the workflow's limits, the rule and the stack files agree."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from config_problems import StackConfigError
from config_scale import DEPLOY_JOB_MINUTES, DEPLOY_MARGIN_MINUTES, blocking_minutes, training_wait_problems
from stack_config import parse_stack_config
from tests.conftest import VALID_RAW
from tests.stack_config.test_stack import SPOT_JOB
from tools.mock_engine import ROOT

# The test job of test_stack_config, with the default wait (completed).
JOB: dict[str, Any] = {k: v for k, v in SPOT_JOB.items() if k != "wait"}


def deploy_jobs() -> dict[str, dict[str, Any]]:
    """environment -> {timeout, stack} of every `pulumi up` job in deploy.yml."""
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yml").read_text())
    found: dict[str, dict[str, Any]] = {}
    for job in workflow["jobs"].values():
        ups = [s for s in job.get("steps", []) if str(s.get("uses", "")).startswith("pulumi/actions@")]
        for step in ups:
            assert step["with"]["command"] == "up"
            found[job["environment"]] = {"timeout": job["timeout-minutes"], "stack": step["with"]["stack-name"]}
    return found


def stack_raw(stack: str) -> dict[str, Any]:
    values = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    return {k.split(":", 1)[1]: v for k, v in values.items() if k.startswith("pai-mlops:")}


def with_job(environment: str = "prod", **changes: Any) -> dict[str, Any]:
    job = {**JOB, **changes}
    return {**copy.deepcopy(VALID_RAW), "environment": environment, "training": {"jobs": [job]}}


def test_the_rule_knows_every_deploy_jobs_time_limit_exactly() -> None:
    jobs = deploy_jobs()
    assert {env: job["timeout"] for env, job in jobs.items()} == DEPLOY_JOB_MINUTES
    assert {env: job["stack"] for env, job in jobs.items()} == {"dev": "dev", "staging": "staging", "prod": "prod"}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_stack_files_training_waits_fit_its_deploy_job(stack: str) -> None:
    raw = stack_raw(stack)
    limit = deploy_jobs()[raw["environment"]]["timeout"]
    minutes = [blocking_minutes(job) for job in raw["training"]["jobs"]]
    assert minutes == {"dev": [80], "prod": [120]}[stack]
    assert all(m is not None and m <= limit - DEPLOY_MARGIN_MINUTES for m in minutes)
    assert training_wait_problems(raw) == []


@pytest.mark.parametrize(
    ("changes", "minutes"),
    [
        ({"wait": "completed"}, 305),
        ({"wait": "completed", "maxResubmits": 2}, 915),
        ({"wait": "running", "queueTimeoutMinutes": 50, "maxResubmits": 2}, 150),
        ({"wait": "running"}, 60),
        ({"wait": "none", "maxResubmits": 9, "queueTimeoutMinutes": 600}, 0),
    ],
)
def test_blocking_minutes_count_every_attempt_with_its_queue_and_runtime(changes: dict[str, Any], minutes: int) -> None:
    assert blocking_minutes({**JOB, **changes}) == minutes


def test_a_wait_longer_than_the_prod_job_is_refused_with_the_numbers() -> None:
    with pytest.raises(StackConfigError) as caught:
        parse_stack_config(with_job(wait="completed", queueTimeoutMinutes=30, maxResubmits=1), "prod")
    assert [str(p) for p in caught.value.problems] == [
        "pai-mlops:training.jobs[0] [wait]: makes pulumi up wait up to 550 minutes (2 attempt(s) x "
        "(queueTimeoutMinutes 30 + maxRuntimeMinutes 240 + 5 grace)), but the prod deploy job stops after 180 "
        "minutes (timeout-minutes in .github/workflows/deploy.yml) and keeps 30 of them for the rest of the "
        "update, so at most 150 minutes; got 'completed'. Write wait: none to submit without blocking (the next "
        "deploy's pulumi up --refresh then follows the run and resubmits it after a preemption), or lower "
        "queueTimeoutMinutes, maxRuntimeMinutes or maxResubmits until it fits, or raise the job's timeout-minutes "
        "and DEPLOY_JOB_MINUTES in config_scale.py together."
    ]


def test_the_default_wait_is_completed_and_counted() -> None:
    # No `wait` key: the default (completed) is what pulumi up does, so it is what is measured.
    problems = training_wait_problems(with_job())
    assert [(p.where, p.key, p.value) for p in problems] == [("pai-mlops:training.jobs[0]", "wait", "completed")]
    assert "wait up to 305 minutes" in problems[0].problem


@pytest.mark.parametrize(
    ("environment", "queue", "refused"),
    [("prod", 150, False), ("prod", 151, True), ("dev", 90, False), ("dev", 91, True)],
)
def test_the_limit_is_the_job_timeout_less_the_margin_exactly(environment: str, queue: int, refused: bool) -> None:
    raw = with_job(environment, wait="running", queueTimeoutMinutes=queue)
    assert bool(training_wait_problems(raw)) is refused


def test_wait_none_never_blocks_the_job_whatever_the_budgets() -> None:
    raw = with_job("dev", wait="none", maxRuntimeMinutes=10_000, queueTimeoutMinutes=10_000, maxResubmits=20)
    assert [job.wait for job in parse_stack_config(raw, "dev").training.jobs] == ["none"]


def test_each_job_is_reported_at_its_own_index() -> None:
    raw = with_job(wait="none")
    raw["training"]["jobs"].append({**JOB, "name": "second", "wait": "running", "queueTimeoutMinutes": 200})
    assert [(p.where, "200 minutes" in p.problem) for p in training_wait_problems(raw)] == [
        ("pai-mlops:training.jobs[1]", True)
    ]


def test_values_of_the_wrong_type_are_left_to_the_field_rules() -> None:
    assert blocking_minutes({**JOB, "queueTimeoutMinutes": "60"}) is None
    assert blocking_minutes({**JOB, "maxResubmits": True}) is None
    assert training_wait_problems(with_job(queueTimeoutMinutes="60")) == []


def test_an_environment_without_a_deploy_job_is_not_measured() -> None:
    assert training_wait_problems({**with_job(), "environment": "qa"}) == []
