"""policies/rules/burst.py: eas-burst-ceiling on fixtures, then what a pull request could try through the plan."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from pulumi_policy import EnforcementLevel

from policies.rules import burst
from policies.rules.common import EAS_AUTOSCALER, EAS_DYNAMIC_SERVICE
from tests.support.policy_harness import Fixture, check_stack
from tools import plan
from tools.mock_engine import ROOT

CEILINGS = {"maxInstancesPerService": 4, "maxInstancesTotal": 8}
FIX = (
    "Lower maxInstances (and cron targetSize) of this model under pai-mlops:serving, or remove its burst, or raise the "
    "ceiling in policies/config/<stack>.json in a reviewed change (docs/burst.md)."
)


def service(name: str = "tagger_v3", burstable: Any = True, stack: str = "prod", **metadata: Any) -> Fixture:
    meta: dict[str, Any] = {"name": name, "instance": 1, "resource": "eas-r-gpu01", **metadata}
    if burstable is not None:
        meta["resource_burstable"] = burstable
    config = {"metadata": meta, "cloud": {"computing": {"instance_type": "ecs.gn6i-c4g1.xlarge"}}}
    return Fixture(
        EAS_DYNAMIC_SERVICE, name.replace("_", "-"), {"service_name": name, "service_config": json.dumps(config)}, stack
    )


def scaler(name: str = "tagger_v3", max_instances: Any = 4, stack: str = "prod", **inputs: Any) -> Fixture:
    props = {"service_name": name, "min_instances": 1, "max_instances": max_instances, **inputs}
    return Fixture(EAS_AUTOSCALER, f"{name.replace('_', '-')}-scaler", props, stack)


def test_policy_metadata() -> None:
    assert [(p.name, p.enforcement_level, type(p).__name__) for p in burst.POLICIES] == [
        ("eas-burst-ceiling", EnforcementLevel.MANDATORY, "StackValidationPolicy")
    ]


def test_a_burst_within_both_ceilings_is_quiet() -> None:
    assert check_stack(burst.eas_burst_ceiling, [service(), scaler()], CEILINGS) == []


def test_services_that_do_not_burst_are_not_counted() -> None:
    fixtures = [service(burstable=False), scaler(max_instances=40), service("other_v1", burstable=None)]
    assert check_stack(burst.eas_burst_ceiling, fixtures, CEILINGS) == []


def test_a_service_over_the_per_service_ceiling_is_refused() -> None:
    assert check_stack(burst.eas_burst_ceiling, [service(), scaler(max_instances=6)], CEILINGS) == [
        (
            "tagger-v3",
            "bursting EAS service 'tagger_v3' may run 6 pay-as-you-go public instances (EasAutoscaler max_instances; "
            "when its dedicated group is full every instance may be public), over this stack's ceiling of 4 per "
            f"service (maxInstancesPerService). {FIX}",
        )
    ]


def test_a_cron_target_above_the_autoscaler_maximum_counts() -> None:
    cron = [{"name": "peak", "schedule": "0 0 8 * * 1-5", "target_size": 5}]
    [(name, message)] = check_stack(burst.eas_burst_ceiling, [service(), scaler(cron=cron)], CEILINGS)
    assert (name, message.split(" (maxInstancesPerService)")[0]) == (
        "tagger-v3",
        "bursting EAS service 'tagger_v3' may run 5 pay-as-you-go public instances (cron target_size of 'peak'; when "
        "its dedicated group is full every instance may be public), over this stack's ceiling of 4 per service",
    )


def test_services_within_their_own_ceiling_can_still_pass_the_total_together() -> None:
    fixtures = [service(), scaler(), service("tagger_v4"), scaler("tagger_v4"), service("ocr_v1"), scaler("ocr_v1")]
    assert check_stack(burst.eas_burst_ceiling, fixtures, CEILINGS) == [
        (
            "tagger-v3",
            "bursting EAS services may run 12 pay-as-you-go public instances together (tagger_v3 4, tagger_v4 4, "
            f"ocr_v1 4), over this stack's ceiling of 8 (maxInstancesTotal). {FIX}",
        )
    ]


@pytest.mark.parametrize(
    ("max_instances", "shown"), [("100", "'100'"), (None, "not set"), (True, "True")], ids=["string", "unset", "bool"]
)
def test_an_instance_ceiling_that_is_not_a_number_counts_as_unbounded(max_instances: Any, shown: str) -> None:
    assert check_stack(burst.eas_burst_ceiling, [service(), scaler(max_instances=max_instances)], CEILINGS) == [
        (
            "tagger-v3",
            f"bursting EAS service 'tagger_v3' has no countable instance ceiling (EasAutoscaler max_instances is "
            f"{shown}, not a finite number), so its pay-as-you-go burst is unbounded. {FIX}",
        )
    ]


def test_a_burstable_flag_that_is_not_a_boolean_still_counts_as_bursting() -> None:
    [(name, _)] = check_stack(burst.eas_burst_ceiling, [service(burstable="true"), scaler(max_instances=5)], CEILINGS)
    assert name == "tagger-v3"


def test_without_configured_ceilings_no_burst_is_allowed() -> None:
    [(_, per_service), (_, total)] = check_stack(burst.eas_burst_ceiling, [service(), scaler()], None)
    assert "over this stack's ceiling of 0 per service (maxInstancesPerService)" in per_service
    assert "over this stack's ceiling of 0 (maxInstancesTotal)" in total


def test_other_environments_are_not_checked() -> None:
    fixtures = [service(stack="staging"), scaler(max_instances=40, stack="staging")]
    assert check_stack(burst.eas_burst_ceiling, fixtures, CEILINGS) == []
    assert check_stack(burst.eas_burst_ceiling, fixtures, {**CEILINGS, "environments": ["staging"]}) != []


# --- attacks through the offline plan (the prod stack's image_tagger bursts, prod.json holds the ceiling) ---------


def plan_prod(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stack_edit: Any = None, policy: Any = None
) -> tuple[int, dict[str, Any], str]:
    root = tmp_path / "project"
    root.mkdir()
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "__main__.py"):
        shutil.copy(ROOT / name, root / name)
    stack_file = (ROOT / "Pulumi.prod.yaml").read_text()
    edited = stack_edit(stack_file) if stack_edit else stack_file
    assert stack_edit is None or edited != stack_file
    (root / "Pulumi.prod.yaml").write_text(edited)
    levels = json.loads((ROOT / "policies" / "config" / "prod.json").read_text())
    if policy is not None:
        levels["eas-burst-ceiling"] = policy
    config = tmp_path / "prod.json"
    config.write_text(json.dumps(levels))
    out = tmp_path / "plan.json"
    args = ["--stack", "prod", "--root", str(root), "--policy-config", str(config), "--out", str(out)]
    code = plan.main(args)
    captured = capsys.readouterr()
    return code, json.loads(out.read_text()) if out.exists() else {}, captured.err


def burst_violations(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (v["level"], v["urn"].rsplit("::", 1)[-1], v["message"])
        for v in document["policy"]["violations"]
        if v["policy"] == "eas-burst-ceiling"
    ]


def test_the_prod_stack_bursts_within_its_ceiling(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, document, _ = plan_prod(tmp_path, capsys)
    assert (code, burst_violations(document)) == (0, [])


def test_a_pr_raising_the_burst_past_the_ceiling_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def raise_max(y: str) -> str:
        return y.replace(
            "        minInstances: 1\n        maxInstances: 4\n", "        minInstances: 1\n        maxInstances: 12\n"
        )

    code, document, _ = plan_prod(tmp_path, capsys, stack_edit=raise_max)
    assert code == 1
    assert burst_violations(document) == [
        (
            "mandatory",
            "image_tagger-v3",
            "bursting EAS service 'image_tagger_v3' may run 12 pay-as-you-go public instances (EasAutoscaler "
            "max_instances; when its dedicated group is full every instance may be public), over this stack's ceiling "
            f"of 4 per service (maxInstancesPerService). {FIX}",
        ),
        (
            "mandatory",
            "image_tagger-v3",
            "bursting EAS services may run 12 pay-as-you-go public instances together (image_tagger_v3 12), over this "
            f"stack's ceiling of 8 (maxInstancesTotal). {FIX}",
        ),
    ]


def test_a_pr_removing_the_ceiling_from_the_policy_config_allows_no_burst(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, document, _ = plan_prod(tmp_path, capsys, policy="mandatory")
    assert code == 1
    assert [(level, urn) for level, urn, _ in burst_violations(document)] == [
        ("mandatory", "image_tagger-v3"),
        ("mandatory", "image_tagger-v3"),
    ]
    assert "over this stack's ceiling of 0 per service (maxInstancesPerService)" in burst_violations(document)[0][2]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("100", "eas-burst-ceiling: maxInstancesPerService: '100' is not of type 'integer'"),
        (float("nan"), "eas-burst-ceiling: maxInstancesPerService: nan is not of type 'integer'"),
        (-1, "eas-burst-ceiling: maxInstancesPerService: -1 is less than the minimum of 0.0"),
    ],
    ids=["string", "nan", "negative"],
)
def test_a_ceiling_that_is_not_a_whole_number_is_refused_as_bad_policy_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: Any, problem: str
) -> None:
    policy = {"enforcementLevel": "mandatory", "maxInstancesPerService": value, "maxInstancesTotal": 8}
    code, document, err = plan_prod(tmp_path, capsys, policy=policy)
    assert (code, document) == (2, {})
    assert any(line.strip().removeprefix("- ") == problem for line in err.splitlines()), err


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        (
            '"100"',
            "  - pai-mlops:serving.services[1] [maxInstances]: must be a whole number; got '100'. Set the most "
            "instances the autoscaler may run, at least 1.",
        ),
        (
            ".nan",
            "error: Pulumi.prod.yaml line {line}: '.nan' is read as a non-finite number, which no config key takes. "
            "Write a finite number, or quote it ('.nan') if you mean the text",
        ),
    ],
    ids=["string", "nan"],
)
def test_a_burst_ceiling_written_as_a_string_or_nan_in_the_stack_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], written: str, problem: str
) -> None:
    def edit(y: str) -> str:
        return y.replace(
            "        minInstances: 1\n        maxInstances: 4\n",
            f"        minInstances: 1\n        maxInstances: {written}\n",
        )

    # The line of the edited maxInstances, read from the stack file, so an unrelated edit above it moves both.
    lines = edit((ROOT / "Pulumi.prod.yaml").read_text()).splitlines()
    line = next(n for n, text in enumerate(lines, 1) if text == f"        maxInstances: {written}")
    code, document, err = plan_prod(tmp_path, capsys, stack_edit=edit)
    assert (code, document) == (2, {})
    assert problem.format(line=line) in err.splitlines(), err
