"""The offline plan end to end: program under the mock engine as a preview, policy pack over gRPC, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.program_copy import project_copy
from tools import plan
from tools.mock_engine import ROOT


def run_plan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = plan.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def violations(document: dict[str, Any], level: str) -> list[tuple[str, str]]:
    return [
        (v["policy"], v["urn"].rsplit("::", 1)[-1]) for v in document["policy"]["violations"] if v["level"] == level
    ]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_clean_stacks_pass_the_policy_gate(stack: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plan.json"
    code, printed, _ = run_plan(capsys, "--stack", stack, "--out", str(out))
    assert code == 0
    assert printed.splitlines()[-2] == "Policy result: no mandatory violation: passes"
    document = json.loads(out.read_text())
    assert document["exitCode"] == 0
    assert violations(document, "mandatory") == []
    assert document["policy"]["configFile"] == f"policies/config/{stack}.json"
    configured = json.loads((ROOT / "policies" / "config" / f"{stack}.json").read_text())
    assert document["policy"]["levels"] == {
        policy: setting if isinstance(setting, str) else setting["enforcementLevel"]
        for policy, setting in configured.items()
    }
    # The KMS policies depend on the key's ARN, unknown at preview: their wildcard checks wait for `pulumi up`
    # (prod's promotion copy role has one too; dev's retraining trigger checks drift, so its start role has one).
    kms_policies = [f"roles-{role}-kms" for role in ("dlc", "dsw", "eas")]
    if stack == "prod":
        kms_policies.append("promotions-copy-kms")
    if stack == "dev":
        kms_policies.append("pipeline-fraud_retraining-trigger-start-drift-kms")
    assert sorted((d["policy"], d["urn"].rsplit("::", 1)[-1]) for d in document["policy"]["deferred"]) == sorted(
        (policy, name)
        for policy in (
            "ram-no-escalation-actions",
            "ram-no-not-action",
            "ram-no-wildcard-actions",
            "ram-no-wildcard-resources",
        )
        for name in kms_policies
    )


def test_dev_plan_reports_advisories_without_blocking(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plan.json"
    code, printed, _ = run_plan(capsys, "--stack", "dev", "--out", str(out))
    assert code == 0
    # Every dev service scales to zero through its EasAutoscaler, so eas-dev-scale-to-zero has nothing to say.
    assert violations(json.loads(out.read_text()), "advisory") == []
    lines = printed.splitlines()
    assert "Mandatory violations (block the deployment): 0" in lines
    assert "Advisory violations (reported, not blocking): 0" in lines
    # 4 rules each on the KMS policies of the three service roles and of the trigger's drift check
    assert "Deferred to `pulumi up`: the rule read a value unknown at preview: 16" in lines


def test_plan_json_hides_secrets_and_marks_unknowns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plan.json"
    run_plan(capsys, "--stack", "prod", "--out", str(out))
    resources = {r["name"]: r for r in json.loads(out.read_text())["resources"]}
    encryption = resources["artifacts-encryption"]["inputs"]
    assert encryption == {"bucket": "acme-pai-mlops-prod", "kmsMasterKeyId": "[unknown]", "sseAlgorithm": "KMS"}
    assert resources["artifacts-bucket"]["protect"] is True


@pytest.mark.parametrize(
    ("tail", "policy", "resource"),
    [
        (
            'import pulumi_alicloud as _ali\n_ali.oss.BucketAcl("leak", bucket=store.bucket_name, acl="public-read")\n',
            "oss-bucket-private",
            "leak",
        ),
        (
            "import pulumi_alicloud as _ali\n"
            '_ali.ram.Policy("admin", policy_name="pai-mlops-dev-admin", policy_document=\'{"Version": "1", '
            '"Statement": [{"Effect": "Allow", "Action": "*", "Resource": '
            '"acs:oss:*:*:acme-pai-mlops-dev/data/*"}]}\')\n',
            "ram-no-wildcard-actions",
            "admin",
        ),
        (
            # The TrainingJob dynamic resource's type token and inputs, registered as the provider will.
            "import pulumi as _pulumi\n"
            '_pulumi.CustomResource("pulumi-python:dynamic/pai:TrainingJob", "nightly", '
            '{"spot": True, "max_runtime_minutes": 240, "tags": dict(config.tags)})\n',
            "dlc-spot-requires-checkpoint",
            "nightly",
        ),
    ],
)
def test_a_mandatory_violation_fails_the_plan_naming_its_policy(
    tail: str, policy: str, resource: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project_copy(tmp_path, tail)
    out = tmp_path / "plan.json"
    code, printed, _ = run_plan(capsys, "--stack", "dev", "--root", str(root), "--out", str(out))
    assert code == 1
    assert violations(json.loads(out.read_text()), "mandatory") == [(policy, resource)]
    lines = printed.splitlines()
    assert "Mandatory violations (block the deployment): 1" in lines
    assert f"  {policy} · {resource}" in lines
    assert lines[-2] == "Policy result: 1 mandatory violation(s): blocked"


def test_prod_with_min_instances_0_is_refused_naming_eas_prod_min_instances(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prod = (ROOT / "Pulumi.prod.yaml").read_text()
    assert prod.count("minInstances: 2\n") == 1
    root = project_copy(tmp_path)
    (root / "Pulumi.prod.yaml").write_text(prod.replace("minInstances: 2\n", "minInstances: 0\n"))
    out = tmp_path / "plan.json"
    code, printed, _ = run_plan(capsys, "--stack", "prod", "--root", str(root), "--out", str(out))
    assert code == 1
    assert violations(json.loads(out.read_text()), "mandatory") == [
        ("eas-prod-min-instances", "fraud_scorer-v6-autoscaler"),
        ("eas-prod-min-instances", "fraud_scorer-v7-autoscaler"),
    ]
    assert "  eas-prod-min-instances · fraud_scorer-v6-autoscaler" in printed.splitlines()
    assert printed.splitlines()[-2] == "Policy result: 2 mandatory violation(s): blocked"


def test_an_unknown_config_key_exits_2_with_a_suggestion(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dev = (ROOT / "Pulumi.dev.yaml").read_text().replace("pai-mlops:owner:", "pai-mlops:ownr:")
    root = project_copy(tmp_path, stack_yaml=dev)
    code, _, err = run_plan(capsys, "--stack", "broken", "--root", str(root))
    assert code == 2
    assert err.splitlines() == [
        "error: Stack 'broken' has invalid configuration (Pulumi.broken.yaml), 2 problems:",
        "  - pai-mlops [owner]: is required; got nothing. Name the owning team or person; it becomes the 'owner' tag.",
        "  - pai-mlops [ownr]: is not a known key; got a value not shown here. Did you mean 'owner'? Known keys here: "
        "alarms, allowAnyStackName, costCenter, dashboards, deployerArn, environment, namePrefix, notebook, owner, "
        "pipeline, providerHosts, region, registry, serving, storage, training, workspace.",
    ]


def test_a_bad_policy_config_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"required-tag": "mandatory"}))
    code, _, err = run_plan(capsys, "--stack", "dev", "--policy-config", str(config), "--out", str(tmp_path / "p"))
    assert code == 2
    assert err.startswith(f"error: policy config {config}:\n  - required-tag: no policy of that name in the pack")


def test_a_failing_program_exits_2_naming_the_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project_copy(tmp_path, "raise RuntimeError('boom')\n")
    code, _, err = run_plan(capsys, "--stack", "dev", "--root", str(root))
    assert code == 2
    assert err.splitlines()[-1] == "error: the program failed for stack 'dev': RuntimeError: boom"


def test_json_option_prints_only_the_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plan.json"
    code, printed, _ = run_plan(capsys, "--stack", "dev", "--json", "--out", str(out))
    assert code == 0
    assert json.loads(printed) == json.loads(out.read_text())
    assert json.loads(printed)["stack"] == "dev"
