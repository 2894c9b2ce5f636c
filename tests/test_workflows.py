"""The GitHub Actions workflows users run: valid, linted, pinned, least-privilege, fork-safe, serialised per stack.

Two real linters run over ``.github/workflows``: ``check-jsonschema`` against the GitHub workflow schema it
vendors, and ``zizmor`` (security audits, pedantic persona, offline). A broken workflow fails ``make test``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools.mock_engine import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
BIN = Path(sys.executable).parent
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")


def load(name: str) -> dict[str, Any]:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    document["on"] = document.pop(True, document.get("on"))  # YAML 1.1 reads the key `on` as True
    return document


def schema_check(*paths: Path) -> subprocess.CompletedProcess[str]:
    command = [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, paths)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def zizmor(path: Path) -> subprocess.CompletedProcess[str]:
    command = [str(BIN / "zizmor"), "--offline", "--persona", "pedantic", "--no-progress", str(path)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_the_workflows_are_the_three_the_readme_describes() -> None:
    assert sorted(p.name for p in WORKFLOWS.iterdir()) == ["deploy.yml", "images.yml", "pull-request.yml"]


def test_the_workflows_match_githubs_workflow_schema() -> None:
    result = schema_check(*sorted(WORKFLOWS.glob("*.yml")))
    assert (result.returncode, result.stdout.strip()) == (0, "ok -- validation done")


def test_zizmor_finds_nothing_at_its_most_pedantic() -> None:
    result = zizmor(WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report." in result.stdout


def test_the_linters_catch_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    text = (WORKFLOWS / "pull-request.yml").read_text()
    broken.write_text(
        text.replace("    runs-on: ubuntu-24.04\n    timeout-minutes: 30\n", "    timeout-minutes: 30\n", 1)
    )
    result = schema_check(broken)
    assert result.returncode == 1
    assert "Schema validation errors were encountered." in result.stdout

    unpinned = tmp_path / "unpinned" / ".github" / "workflows"
    unpinned.mkdir(parents=True)
    (unpinned / "pull-request.yml").write_text(
        text.replace("pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d # v7.0.0", "pulumi/actions@v7")
    )
    result = zizmor(unpinned)
    assert result.returncode != 0
    assert "unpinned-uses" in result.stdout


@pytest.mark.parametrize("name", ["pull-request.yml", "deploy.yml", "images.yml"])
def test_every_action_is_pinned_to_a_commit_and_the_default_token_reads_only(name: str) -> None:
    workflow = load(name)
    assert workflow["permissions"] == {"contents": "read"}
    uses = [step["uses"] for job in workflow["jobs"].values() for step in job.get("steps", []) if "uses" in step]
    assert uses and all(PINNED.match(ref) for ref in uses), uses
    assert "pull_request_target" not in workflow["on"]


def test_only_the_jobs_that_write_ask_for_write_permissions() -> None:
    granted = {
        (name, job_name): job["permissions"]
        for name in ("pull-request.yml", "deploy.yml", "images.yml")
        for job_name, job in load(name)["jobs"].items()
        if "permissions" in job
    }
    assert granted == {
        ("pull-request.yml", "preview"): {"contents": "read", "pull-requests": "write"},
        ("images.yml", "build"): {"contents": "write", "pull-requests": "write"},
    }


def test_pull_requests_plan_offline_without_secrets_and_preview_only_from_this_repository() -> None:
    jobs = load("pull-request.yml")["jobs"]
    for name in ("test", "plan"):
        assert "secrets." not in yaml.safe_dump(jobs[name]), f"{name} must run for forks, without secrets"
    assert jobs["plan"]["strategy"]["matrix"]["stack"] == ["dev", "prod"]
    assert jobs["plan"]["steps"][2]["run"] == './plan --stack "$STACK" --summary "$GITHUB_STEP_SUMMARY"'
    preview = jobs["preview"]
    assert preview["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    [pulumi] = [step for step in preview["steps"] if step.get("uses", "").startswith("pulumi/actions@")]
    assert pulumi["with"] == {
        "command": "preview",
        "stack-name": "${{ matrix.stack }}",
        "cloud-url": "${{ vars.PULUMI_BACKEND_URL }}",
        "pulumi-version": pinned_pulumi(),
        "policyPacks": "policies",
        "policyPackConfigs": "policies/config/${{ matrix.stack }}.json",
        "comment-on-pr": True,
        "edit-pr-comment": True,
        "github-token": "${{ secrets.GITHUB_TOKEN }}",
    }


def pinned_pulumi() -> str:
    [line] = [line for line in (ROOT / "requirements.txt").read_text().splitlines() if line.startswith("pulumi==")]
    return line.removeprefix("pulumi==")


def test_merges_deploy_dev_then_an_approved_prod_one_deployment_per_stack_at_a_time() -> None:
    workflow = load("deploy.yml")
    assert workflow["on"] == {"push": {"branches": ["main"]}, "workflow_dispatch": None}
    jobs = workflow["jobs"]
    assert (jobs["dev"]["needs"], jobs["prod"]["needs"]) == ("test", "dev")
    for stack in ("dev", "prod"):
        job = jobs[stack]
        assert job["environment"] == stack
        assert job["concurrency"] == {"group": f"deploy-{stack}", "cancel-in-progress": False}
        [pulumi] = [step for step in job["steps"] if step.get("uses", "").startswith("pulumi/actions@")]
        assert pulumi["with"]["command"] == "up"
        assert pulumi["with"]["stack-name"] == stack
        assert pulumi["with"]["policyPacks"] == "policies"
        assert pulumi["with"]["policyPackConfigs"] == f"policies/config/{stack}.json"
        assert pulumi["with"]["pulumi-version"] == pinned_pulumi()
        assert all(value.startswith(("${{ secrets.", "${{ vars.")) for value in job["env"].values()), (
            "credentials come only from the environment's secrets and variables"
        )


def test_images_are_pushed_by_commit_sha_and_named_in_stacks_by_digest() -> None:
    steps = load("images.yml")["jobs"]["build"]["steps"]
    script = "\n".join(step.get("run", "") for step in steps)
    assert 'docker push "$repository:$GITHUB_SHA"' in script
    assert 'python -m tools.set_image --stack "$stack" --image "$digest"' in script
    assert "latest" not in script


def test_workflow_scripts_parse_as_bash() -> None:
    bash = shutil.which("bash")
    assert bash is not None
    for name in ("pull-request.yml", "deploy.yml", "images.yml"):
        for job_name, job in load(name)["jobs"].items():
            for step in job.get("steps", []):
                if "run" in step:
                    result = subprocess.run([bash, "-n"], input=step["run"], capture_output=True, text=True)
                    assert result.returncode == 0, f"{name} {job_name}: {result.stderr}"
