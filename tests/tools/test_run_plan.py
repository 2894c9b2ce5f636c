"""What a newcomer meets first: ./plan and its exit codes, proxies, the job summary, the plan's layout, and the
small truths (set_image reruns, the emulator's control API, the configuration guide's example)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.emulator import Control
from tests.support.program_copy import project_copy
from tools import plan, plan_output, set_image
from tools.mock_engine import ROOT, stack_config_values

# ./plan builds .venv with this interpreter when needed: the one behind this run's .venv (already set up).
BASE_PYTHON = os.path.realpath(sys.executable)
DEAD_PROXY = "http://127.0.0.1:9"  # nothing listens there: anything sent through it fails at once


def run_entry_point(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHON": BASE_PYTHON, "COLUMNS": "100", **env}
    return subprocess.run(
        [str(ROOT / "plan"), *args], capture_output=True, text=True, env=environment, timeout=300, check=False
    )


def test_plan_entry_point_exits_0_for_a_clean_stack_even_behind_lower_and_upper_case_proxies(tmp_path: Path) -> None:
    """gRPC to the policy pack on 127.0.0.1 would go through http(s)_proxy; the plan must never send it there."""
    proxies = {name: DEAD_PROXY for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")}
    result = run_entry_point("--stack", "dev", "--out", str(tmp_path / "plan.json"), **proxies)
    assert result.returncode == plan_output.EXIT_OK, result.stderr
    assert result.stdout.splitlines()[-2] == "Policy result: no mandatory violation: passes"


def test_plan_entry_point_exits_1_on_a_mandatory_violation(tmp_path: Path) -> None:
    prod = (ROOT / "Pulumi.prod.yaml").read_text()
    root = project_copy(tmp_path)
    (root / "Pulumi.prod.yaml").write_text(prod.replace("minInstances: 2\n", "minInstances: 0\n"))
    result = run_entry_point("--stack", "prod", "--root", str(root), "--out", str(tmp_path / "plan.json"))
    assert result.returncode == plan_output.EXIT_MANDATORY
    assert result.stdout.splitlines()[-2] == "Policy result: 2 mandatory violation(s): blocked"


def test_plan_entry_point_exits_2_on_bad_input(tmp_path: Path) -> None:
    root = project_copy(tmp_path, stack_yaml="- a list\n")
    result = run_entry_point("--stack", "broken", "--root", str(root), "--out", str(tmp_path / "plan.json"))
    assert (result.returncode, result.stdout) == (plan_output.EXIT_ERROR, "")
    assert result.stderr == (
        "error: Pulumi.broken.yaml line 1: the file must be a mapping with a 'config:' key, got a list. Write:\n"
        "config:\n  pai-mlops:environment: dev\n"
    )


def test_a_crash_is_exit_2_never_1_which_means_a_violation(tmp_path: Path) -> None:
    unwritable = run_entry_point("--stack", "dev", "--out", str(tmp_path))  # a directory
    assert unwritable.returncode == plan_output.EXIT_ERROR
    assert unwritable.stderr == f"error: cannot write {tmp_path}: Is a directory. Give --out/--summary a file path\n"
    # A package missing from .venv: the plan cannot even be imported.
    broken = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.modules['grpc'] = None; from tools.run_plan import run; sys.exit(run())",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert broken.returncode == plan_output.EXIT_ERROR
    assert broken.stderr.splitlines()[-1] == (
        "error: the offline plan could not start (above): .venv looks broken. Run `make clean`, then `./plan`"
    )


def test_a_reader_that_leaves_early_does_not_change_the_exit_code(tmp_path: Path) -> None:
    prod = (ROOT / "Pulumi.prod.yaml").read_text()
    root = project_copy(tmp_path)
    (root / "Pulumi.prod.yaml").write_text(prod.replace("minInstances: 2\n", "minInstances: 0\n"))
    command = f"'{ROOT / 'plan'}' --stack prod --root '{root}' --out '{tmp_path / 'p.json'}' | head -n 1"
    result = subprocess.run(
        ["bash", "-c", f'{command}; echo "exit=${{PIPESTATUS[0]}}"'],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHON": BASE_PYTHON},
        timeout=300,
        check=False,
    )
    assert result.stdout.splitlines()[-1] == "exit=1"
    assert "Traceback" not in result.stderr


def test_the_help_names_the_entry_point() -> None:
    result = run_entry_point("--help")
    assert (result.returncode, result.stdout.splitlines()[0].split()[:2]) == (0, ["usage:", "./plan"])


def test_a_failed_plan_leaves_no_previous_json_that_looks_current(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plan-broken.json"
    out.write_text('{"exitCode": 0}\n')  # what an earlier, clean run wrote
    root = project_copy(tmp_path, stack_yaml="config: [a]\n")
    assert plan.main(["--stack", "broken", "--root", str(root), "--out", str(out)]) == plan_output.EXIT_ERROR
    capsys.readouterr()
    assert not out.exists()
    fifo = tmp_path / "not-a-file"
    os.mkfifo(fifo)  # stands in for /dev/null: only a regular file is ever removed
    assert plan.main(["--stack", "broken", "--root", str(root), "--out", str(fifo)]) == plan_output.EXIT_ERROR
    capsys.readouterr()
    assert fifo.exists()


def test_the_job_summary_shows_the_verdict_and_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = tmp_path / "summary.md"
    prod = (ROOT / "Pulumi.prod.yaml").read_text()
    root = project_copy(tmp_path)
    (root / "Pulumi.prod.yaml").write_text(prod.replace("minInstances: 2\n", "minInstances: 0\n"))
    args = ["--root", str(root), "--out", str(tmp_path / "p.json"), "--summary", str(summary)]
    assert plan.main(["--stack", "prod", *args]) == plan_output.EXIT_MANDATORY
    text = summary.read_text()
    assert text.startswith(
        "### Offline plan of `prod`\n\n**Blocked (exit 1):** 2 mandatory, 2 advisory violation(s).\n\n"
        "| Mandatory policy | resource | message |\n|---|---|---|\n"
        "| `eas-prod-min-instances` | `fraud_scorer-v6-autoscaler` | "
    )
    assert text.count("| `eas-prod-min-instances` |") == 2
    assert text.count("| `eas-prod-dedicated-resource-group` |") == 2
    (root / "Pulumi.broken.yaml").write_text("config:\n  pai-mlops:owner: .nan\n")
    assert plan.main(["--stack", "broken", *args]) == plan_output.EXIT_ERROR
    assert summary.read_text() == text + (
        "### Offline plan of `broken`\n\n**Bad input (exit 2):** nothing was planned.\n\n```text\n"
        "Pulumi.broken.yaml line 2: '.nan' is read as a non-finite number, which no config key takes. Write a "
        "finite number, or quote it ('.nan') if you mean the text\n```\n"
    )
    capsys.readouterr()


@pytest.mark.parametrize("columns", [80, 120])
def test_plan_lines_fit_the_terminal_and_the_counts_add_up(
    columns: int, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    monkeypatch.chdir(tmp_path)  # a short --out path: the last line names it, whatever its length
    out = tmp_path / "plan.json"
    assert plan.main(["--stack", "prod", "--out", "plan.json"]) == plan_output.EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= columns
    resources = len(json.loads(out.read_text())["resources"])
    custom = sum(1 for r in json.loads(out.read_text())["resources"] if r["custom"])
    assert (
        f"Resources: {resources + 1} to create: the stack, {custom} cloud resources and {resources - custom} "
        "components" in lines
    )
    assert sum(1 for line in lines if line.startswith(" +   ")) == resources + 1  # every resource, the stack too


def test_plan_shows_what_a_reviewer_needs_and_the_packs_own_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert plan.main(["--stack", "prod", "--out", str(tmp_path / "plan.json")]) == plan_output.EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    version = yaml.safe_load((ROOT / "policies" / "PulumiPolicy.yaml").read_text())["version"]
    assert any(line.startswith(f"Policy pack pai-mlops-guard v{version} · ") for line in lines)

    def under(resource: str) -> str:
        at = next(i for i, line in enumerate(lines) if line.endswith(f"  {resource}"))
        return lines[at + 1].strip(" │")

    # 150 ms in rt's microseconds: CloudMonitor compares in the metric's unit
    assert under("alarms-fraud_scorer_v7-p95-latency") == "acs_learn/rt Average > 150000 for 3 x 60 s"
    # prod's maxErrorRate 0.005 in rps_status_5xx_ratio's percent
    assert under("alarms-fraud_scorer_v7-error-ratio") == "acs_learn/rps_status_5xx_ratio Average > 0.5 for 3 x 60 s"
    assert under("pipeline-fraud_retraining-trigger-schedule") == "timer cron='CRON_TZ=Asia/Shanghai 0 0 3 * * 1'"
    assert under("pipeline-fraud_retraining-trigger-data") == "oss on data/transactions/*_SUCCESS"


def test_plan_shows_notebook_machine_types(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert plan.main(["--stack", "dev", "--out", str(tmp_path / "plan.json")]) == plan_output.EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    notebooks = [i for i, line in enumerate(lines) if "pulumi-python:dynamic/pai:DswInstance" in line]
    assert notebooks
    for at in notebooks:
        assert re.fullmatch(r"instance_type=ecs\.[a-z0-9.-]+ idle_shutdown_minutes=\d+", lines[at + 1].strip(" │"))


def test_set_image_rerun_with_the_same_digest_says_it_is_already_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project_copy(tmp_path)
    digest = "sha256:" + "ab" * 32
    pushed = f"acme-registry.cn-hangzhou.cr.aliyuncs.com/acme-ml-dev/fraud-train@{digest}"  # as CI pushes it
    written = f"acme-registry-vpc.cn-hangzhou.cr.aliyuncs.com/acme-ml-dev/fraud-train@{digest}"  # as runtimes pull
    assert set_image.main(["--stack", "dev", "--image", pushed, "--root", str(root)]) == 0
    first = capsys.readouterr().out.splitlines()
    assert first and all(line.endswith(f"  →  image: {written}") for line in first)
    before = (root / "Pulumi.dev.yaml").read_text()
    assert set_image.main(["--stack", "dev", "--image", pushed, "--root", str(root)]) == 0
    again = capsys.readouterr().out.splitlines()
    numbers = [line.split(":")[1] for line in first]
    assert again == [f"Pulumi.dev.yaml:{n}: already image: {written}; unchanged" for n in numbers]
    assert (root / "Pulumi.dev.yaml").read_text() == before


def test_the_emulator_control_api_takes_json_without_a_content_type(cloud: Control) -> None:
    request = urllib.request.Request(f"{cloud.url}/_emulator/clock", data=b'{"advance": 5}', method="POST")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=5) as response:  # urllib sends form encoding as the content type
        answer: dict[str, Any] = json.loads(response.read())
    assert answer["now"] >= 5


def test_the_docs_example_config_is_a_valid_prod_stack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = (ROOT / "docs" / "configuration-guide.md").read_text()
    match = re.search(r"Example \(from `Pulumi\.prod\.yaml`\):\n\n```yaml\n(.*?)```", readme, re.S)
    assert match is not None
    root = project_copy(tmp_path)
    (root / "Pulumi.prod.yaml").write_text(match[1])
    values, _ = stack_config_values("prod", root)
    assert values["pai-mlops:environment"] == "prod"
    assert (
        plan.main(["--stack", "prod", "--root", str(root), "--out", str(tmp_path / "plan.json")]) == plan_output.EXIT_OK
    )
    capsys.readouterr()
