"""The GitHub Actions workflows users run: valid, linted, pinned, least-privilege, fork-safe, serialised per stack.

Two real linters run over ``.github/workflows``: ``check-jsonschema`` against the GitHub workflow schema it
vendors, and ``zizmor`` (security audits, auditor persona, offline, nothing suppressed). A broken workflow fails
``make test``. The rest pins what the security review asked for: previews hold no prod secret, OIDC roles per
environment instead of stored keys, deploys only from main with main's policy pack, the gate under code owners.
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
# aliyun/configure-aliyun-credentials-action tag v1.0.7 is this commit (git show-ref --tags in a clone).
ALIYUN_CREDENTIALS = "aliyun/configure-aliyun-credentials-action@b347e60e64028a4d567a8f31ca42e1b0706c3c99"


def load(name: str) -> dict[str, Any]:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    document["on"] = document.pop(True, document.get("on"))  # YAML 1.1 reads the key `on` as True
    return document


def schema_check(*paths: Path) -> subprocess.CompletedProcess[str]:
    command = [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, paths)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def zizmor(path: Path) -> subprocess.CompletedProcess[str]:
    command = [str(BIN / "zizmor"), "--offline", "--persona", "auditor", "--no-progress", str(path)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_the_workflows_are_the_three_the_readme_describes() -> None:
    assert sorted(p.name for p in WORKFLOWS.iterdir()) == ["deploy.yml", "images.yml", "pull-request.yml"]


def test_the_workflows_match_githubs_workflow_schema() -> None:
    result = schema_check(*sorted(WORKFLOWS.glob("*.yml")))
    assert (result.returncode, result.stdout.strip()) == (0, "ok -- validation done")


def test_zizmor_finds_nothing_as_an_auditor_and_nothing_is_suppressed() -> None:
    result = zizmor(WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report. Good job!" in result.stdout
    assert "suppressed" not in result.stdout + result.stderr
    for path in WORKFLOWS.iterdir():
        assert "zizmor:" not in path.read_text(), f"{path.name}: findings are fixed, not ignored"


def test_zizmor_flags_secrets_outside_an_environment(tmp_path: Path) -> None:
    leaky = tmp_path / "leaky" / ".github" / "workflows"
    leaky.mkdir(parents=True)
    text = (WORKFLOWS / "pull-request.yml").read_text()
    assert text.count("    environment: preview ") == 1
    (leaky / "pull-request.yml").write_text(text.replace("    environment: preview ", "    # environment: preview "))
    result = zizmor(leaky)
    assert result.returncode != 0
    assert "secrets-outside-env" in result.stdout


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
        ("pull-request.yml", "preview"): {"contents": "read", "id-token": "write", "pull-requests": "write"},
        ("deploy.yml", "dev"): {"contents": "read", "id-token": "write"},
        ("deploy.yml", "staging"): {"contents": "read", "id-token": "write"},
        ("deploy.yml", "prod"): {"contents": "read", "id-token": "write"},
        ("images.yml", "push"): {"contents": "write", "pull-requests": "write"},
    }


def test_pull_requests_plan_offline_without_secrets_and_preview_dev_only_without_prod_secrets() -> None:
    jobs = load("pull-request.yml")["jobs"]
    for name in ("test", "plan"):
        assert "secrets." not in yaml.safe_dump(jobs[name]), f"{name} must run for forks, without secrets"
    assert jobs["plan"]["strategy"]["matrix"]["stack"] == ["dev", "staging", "prod"]
    plan_steps = {step.get("name"): step for step in jobs["plan"]["steps"]}
    assert plan_steps["offline plan"]["run"] == './plan --stack "$STACK" --summary "$GITHUB_STEP_SUMMARY"'
    main_pack = plan_steps["Gate with main's policy pack (a pull request cannot weaken the pack that judges it)"]
    assert '--policy-pack gate/policies --policy-config "gate/policies/config/$STACK.json" \\\n' in main_pack["run"]
    assert '--summary "$GITHUB_STEP_SUMMARY"' in main_pack["run"]
    preview = jobs["preview"]
    assert preview["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert preview["environment"] == "preview"
    assert "strategy" not in preview, "prod is never previewed from a pull request"
    # Read-only and dev-only: no stored cloud key, no prod name anywhere in the job.
    assert not {"ALICLOUD_ACCESS_KEY", "ALICLOUD_SECRET_KEY"} & set(preview["env"])
    assert "prod" not in yaml.safe_dump(preview).lower()
    steps = {step.get("name", step.get("uses", "")): step for step in preview["steps"]}
    gate = steps["The policy pack and its config from main"]
    assert gate["with"] == {
        "ref": "${{ github.base_ref }}",
        "path": "gate",
        "sparse-checkout": "policies",
        "persist-credentials": False,
    }
    oidc = steps["Assume the read-only preview role (GitHub OIDC, no stored key)"]
    assert oidc["uses"] == ALIYUN_CREDENTIALS
    assert oidc["with"]["role-to-assume"] == "${{ vars.ALICLOUD_ROLE_ARN }}"
    [pulumi] = [step for step in preview["steps"] if step.get("uses", "").startswith("pulumi/actions@")]
    assert pulumi["with"] == {
        "command": "preview",
        "stack-name": "dev",
        "cloud-url": "${{ vars.PULUMI_BACKEND_URL }}",
        "pulumi-version": pinned_pulumi(),
        "policyPacks": "gate/policies",
        "policyPackConfigs": "gate/policies/config/dev.json",
        "comment-on-pr": True,
        "edit-pr-comment": True,
        "github-token": "${{ github.token }}",
    }


def pinned_pulumi() -> str:
    [line] = [line for line in (ROOT / "requirements.txt").read_text().splitlines() if line.startswith("pulumi==")]
    return line.removeprefix("pulumi==")


def test_merges_deploy_dev_then_an_approved_prod_one_deployment_per_stack_at_a_time() -> None:
    workflow = load("deploy.yml")
    assert workflow["on"] == {"push": {"branches": ["main"]}, "workflow_dispatch": None}
    jobs = workflow["jobs"]
    assert (jobs["dev"]["needs"], jobs["staging"]["needs"], jobs["prod"]["needs"]) == ("test", "dev", "staging")
    # A manual run from any other branch skips the first job, and with it every deploy after it.
    assert jobs["test"]["if"] == "github.ref == 'refs/heads/main'"
    for stack in ("dev", "staging", "prod"):
        job = jobs[stack]
        assert job["environment"] == stack
        assert job["concurrency"] == {"group": f"deploy-{stack}", "cancel-in-progress": False}
        [pulumi] = [step for step in job["steps"] if step.get("uses", "").startswith("pulumi/actions@")]
        assert pulumi["with"]["command"] == "up"
        assert pulumi["with"]["stack-name"] == stack
        # Refresh first: a training run preempted since the last deploy is resubmitted only when its TrainingJob
        # diff sees the refreshed status (docs/scale.md).
        assert pulumi["with"].get("refresh") is True, f"{stack}: pulumi up must run with refresh: true"
        assert pulumi["with"]["policyPacks"] == "policies"
        assert pulumi["with"]["policyPackConfigs"] == f"policies/config/{stack}.json"
        assert pulumi["with"]["pulumi-version"] == pinned_pulumi()
        assert all(value.startswith(("${{ secrets.", "${{ vars.")) for value in job["env"].values()), (
            "credentials come only from the environment's secrets and variables"
        )
        assert not {"ALICLOUD_ACCESS_KEY", "ALICLOUD_SECRET_KEY"} & set(job["env"]), "no long-lived cloud key"
        [oidc] = [step for step in job["steps"] if step.get("uses", "").startswith("aliyun/")]
        assert oidc["uses"] == ALIYUN_CREDENTIALS
        assert oidc["with"]["role-to-assume"] == "${{ vars.ALICLOUD_ROLE_ARN }}"
        assert oidc["with"]["oidc-provider-arn"] == "${{ vars.ALICLOUD_OIDC_PROVIDER_ARN }}"
        assert oidc["with"]["role-session-expiration"] == job["timeout-minutes"] * 60


def test_images_are_pushed_by_commit_sha_and_named_in_stacks_by_digest() -> None:
    steps = load("images.yml")["jobs"]["push"]["steps"]
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


def test_images_push_only_from_main_with_the_environments_credential() -> None:
    jobs = load("images.yml")["jobs"]
    # The push job needs the scan, which needs the build, which runs only on main: a skipped need skips the job.
    assert jobs["build"]["if"].endswith("&& github.ref == 'refs/heads/main'")
    assert (jobs["scan"]["needs"], jobs["push"]["needs"]) == (["discover", "build"], ["discover", "scan"])
    assert {name: job.get("environment") for name, job in jobs.items()} == {
        "discover": None,
        "build": None,
        "scan": None,
        "push": "images",
    }


def test_the_gate_is_under_code_owners() -> None:
    owners = (ROOT / ".github" / "CODEOWNERS").read_text().splitlines()
    rules = {line.split()[0]: line.split()[1:] for line in owners if line.strip() and not line.startswith("#")}
    # The plan's exit status (plan_output.exit_code) and the policy levels (policy_config.reconcile) are the gate too,
    # and so are the image scan's allow-list, its validator and the gate's lint rules.
    gate = ("/tools/plan.py", "/tools/plan_output.py", "/tools/policy_gate.py", "/tools/policy_config.py")
    scan = ("/images/scan-allowlist.yaml", "/tools/scan_allowlist.py", "/tests/support/image_gate.py")
    # What the images workflow runs of the repository: in the scan job the package marker, and in the push job (with
    # the push credential on the runner) the requirements and tools/set_image.py with what it imports.
    images = ("/tools/__init__.py", "/tools/set_image.py", "/tools/stack_file.py", "/requirements.txt")
    # What the copy role and the triggers' roles may do, and the session the copy runs on.
    grants = (
        "/components/promotion.py",
        "/components/copy_role.py",
        "/components/drift_trigger.py",
        "/components/retraining_trigger.py",
        "/providers/copy_session.py",
    )
    for path in (
        "/policies/",
        "/.github/",
        *gate,
        "/components/identity.py",
        *scan,
        *images,
        *grants,
        "/requirements-dev.txt",
    ):
        assert rules.get(path) == ["@acme/platform-security"], path


LAYER_BUILD = "venv/bin/python -m tools.build_layer"


@pytest.mark.parametrize(
    ("workflow", "job"),
    [("deploy.yml", "dev"), ("deploy.yml", "staging"), ("deploy.yml", "prod"), ("pull-request.yml", "preview")],
)
def test_the_drift_layer_is_built_after_the_program_environment_and_before_pulumi(workflow: str, job: str) -> None:
    steps: list[dict[str, Any]] = load(workflow)["jobs"][job]["steps"]
    build = [i for i, step in enumerate(steps) if step.get("run") == LAYER_BUILD]
    venv = [i for i, step in enumerate(steps) if "pip install --quiet -r requirements.txt" in step.get("run", "")]
    pulumi = [i for i, step in enumerate(steps) if step.get("uses", "").startswith("pulumi/actions@")]
    assert len(build) == len(venv) == len(pulumi) == 1
    assert venv[0] < build[0] < pulumi[0]
    assert steps[build[0]].get("if") == steps[pulumi[0]].get("if")  # built whenever pulumi runs


def test_the_offline_plan_never_builds_the_layer() -> None:
    jobs = load("pull-request.yml")["jobs"]
    assert "build_layer" not in yaml.safe_dump(jobs["plan"]) + yaml.safe_dump(jobs["test"])


def test_every_project_module_the_images_workflow_imports_is_code_owned() -> None:
    # Imported for real, in a fresh interpreter: a module set_image or scan_allowlist starts importing tomorrow is
    # found here, and fails this test until it is put under code owners.
    owners = (ROOT / ".github" / "CODEOWNERS").read_text().splitlines()
    rules = [line.split()[0] for line in owners if line.strip() and not line.startswith("#")]
    probe = (
        "import sys, tools.set_image, tools.scan_allowlist\n"
        "for m in list(sys.modules.values()):\n"
        "    f = getattr(m, '__file__', None) or ''\n"
        "    if f.startswith(sys.argv[1] + '/') and '/.venv/' not in f: print(f[len(sys.argv[1]):])\n"
    )
    result = subprocess.run([sys.executable, "-c", probe, str(ROOT)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    imported = sorted(set(result.stdout.split()))
    assert "/tools/stack_file.py" in imported and "/tools/__init__.py" in imported, imported
    unowned = [
        path for path in imported if not any(path == r or (r.endswith("/") and path.startswith(r)) for r in rules)
    ]
    assert unowned == []
