"""The deploy order a promotion relies on: dev, then staging, then prod for the same commit after a review."""

from __future__ import annotations

from graphlib import TopologicalSorter
from typing import Any

from tests.github.test_workflows import load


def order(jobs: dict[str, Any]) -> list[str]:
    """Jobs in the order their ``needs`` allow, one at a time (each deploy job needs exactly one)."""
    graph = {
        name: {job["needs"]} if isinstance(job.get("needs"), str) else set(job.get("needs", []))
        for name, job in jobs.items()
    }
    return list(TopologicalSorter(graph).static_order())


def test_deploys_run_dev_then_staging_then_prod_in_one_run() -> None:
    jobs = load("deploy.yml")["jobs"]
    assert order(jobs) == ["test", "dev", "staging", "prod"]
    # One chain in one run: prod's commit is the one staging deployed, and prod starts only if staging succeeded
    # (no `if: always()` or `continue-on-error` anywhere that would let prod run after a failed staging).
    for name in ("dev", "staging", "prod"):
        assert "if" not in jobs[name], name
        assert "continue-on-error" not in jobs[name], name
        for step in jobs[name]["steps"]:
            assert "continue-on-error" not in step, (name, step)
            assert "ref" not in step.get("with", {}), f"{name} deploys the run's own commit"
    assert jobs["prod"]["environment"] == "prod"  # the protected environment: a reviewer approves first
    assert jobs["staging"]["environment"] == "staging"


def test_pull_requests_plan_every_stack_offline_and_preview_only_dev() -> None:
    jobs = load("pull-request.yml")["jobs"]
    assert jobs["plan"]["strategy"]["matrix"]["stack"] == ["dev", "staging", "prod"]
    [pulumi] = [step for step in jobs["preview"]["steps"] if step.get("uses", "").startswith("pulumi/actions@")]
    assert pulumi["with"]["stack-name"] == "dev"
