"""The staging stack: its own names, prod's release gates, scale to zero allowed; its policy levels end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stack_config import parse_stack_config, raw_from_values
from tests.support.program_copy import project_copy
from tools import plan
from tools.mock_engine import ROOT, run_program, stack_config_values
from tools.policy_config import load_policy_config

STAGING = (ROOT / "Pulumi.staging.yaml").read_text()


def test_staging_has_its_own_names_and_prod_like_gates() -> None:
    values, _ = stack_config_values("staging")
    config = parse_stack_config(raw_from_values(values, "pai-mlops"), "staging")
    assert config.environment == "staging"
    assert config.name_prefix == "pai-mlops-staging"
    assert config.storage.bucket_name == "acme-pai-mlops-staging"
    assert config.workspace.name == "mlops_staging"
    assert config.protect_stateful is False
    assert config.tags == {"environment": "staging", "owner": "ml-platform", "cost-center": "cc-4711-ml-staging"}
    assert [(s.name, s.min_instances, s.rollout.steps, s.rollout.bake_seconds) for s in config.serving.services] == [
        ("fraud_scorer", 0, (10, 50, 100), 300),
        ("image_tagger", 0, (10, 50, 100), 600),
    ]


def test_staging_names_differ_from_every_other_stack() -> None:
    names = {
        stack: {r.inputs.get("roleName") for r in run_program(stack).by_type("alicloud:ram/role:Role")}
        for stack in ("dev", "staging", "prod")
    }
    assert names["staging"] == {
        "pai-mlops-staging-dlc",
        "pai-mlops-staging-dsw",
        "pai-mlops-staging-eas",
        "pai-mlops-staging-promote-copy",  # staging promotes v7 from dev (components/copy_role.py)
    }
    assert not names["staging"] & (names["dev"] | names["prod"])


def test_staging_policy_levels() -> None:
    staging = load_policy_config(ROOT / "policies" / "config" / "staging.json")
    prod = load_policy_config(ROOT / "policies" / "config" / "prod.json")
    assert sorted(staging) == sorted(prod)
    differ = {name: (staging[name].level, prod[name].level) for name in prod if staging[name].level != prod[name].level}
    assert differ == {
        "eas-prod-min-instances": ("disabled", "mandatory"),  # staging may scale to zero
        "eas-prod-dedicated-resource-group": ("disabled", "advisory"),  # the shared group is fine for staging
        "eas-burst-ceiling": ("advisory", "mandatory"),  # staging's bursts are reported, not refused
    }
    assert staging["eas-prod-gated-rollout"].properties == {"environments": ["staging"]}


def run_plan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object], str]:
    out = Path(args[args.index("--out") + 1])
    code = plan.main(list(args))
    printed = capsys.readouterr().out
    return code, json.loads(out.read_text()), printed


def test_staging_plan_is_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, document, printed = run_plan(capsys, "--stack", "staging", "--out", str(tmp_path / "plan.json"))
    assert code == 0
    assert printed.splitlines()[-2] == "Policy result: no mandatory violation: passes"
    policy = document["policy"]
    assert isinstance(policy, dict)
    assert policy["configFile"] == "policies/config/staging.json"
    assert [v["level"] for v in policy["violations"]] == []


def test_an_ungated_staging_release_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ungated = STAGING.replace(
        "steps: [10, 50, 100]\n          bakeSeconds: 300", "steps: [100]\n          bakeSeconds: 300"
    )
    assert ungated != STAGING
    root = project_copy(tmp_path)
    # The stack name matters: a traffic shift carries no tags, so the pack takes its environment from the stack name.
    (root / "Pulumi.staging.yaml").write_text(ungated)
    code, document, _ = run_plan(
        capsys,
        "--stack",
        "staging",
        "--root",
        str(root),
        "--policy-config",
        str(ROOT / "policies" / "config" / "staging.json"),
        "--out",
        str(tmp_path / "plan.json"),
    )
    assert code == 1
    policy = document["policy"]
    assert isinstance(policy, dict)
    assert [(v["policy"], v["level"], v["message"]) for v in policy["violations"]] == [
        (
            "eas-prod-gated-rollout",
            "mandatory",
            "traffic shift of EAS group 'fraud_scorer' starts at 100% of traffic, more than 10%. Set rollout under "
            "pai-mlops:serving to steps that ascend from 10% or less to 100%, a bakeSeconds above 0, maxP95LatencyMs "
            "and maxErrorRate.",
        )
    ]
