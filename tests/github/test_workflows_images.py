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
from tests.support.image_gate import ALLOW, INSTALL, LOGIN, PUSH, SCAN, SCANNER, image_gate_problems

TEXT = (WORKFLOWS / "images.yml").read_text()


def parse(text: str) -> dict[str, Any]:
    document = yaml.safe_load(text)
    document["on"] = document.pop(True, document.get("on"))
    return document


def edited(old: str, new: str, count: int = 1) -> dict[str, Any]:
    """images.yml with a text edit, as a pull request would make it (the edit must apply exactly ``count`` times)."""
    assert TEXT.count(old) == count, old
    return parse(TEXT.replace(old, new))


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return workflow["jobs"]["build"]["steps"]


def step(workflow: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [s for s in steps(workflow) if s.get("name") == name]
    return found


def moved(name: str, before: str) -> dict[str, Any]:
    workflow = load("images.yml")
    build = steps(workflow)
    item = build.pop(next(i for i, s in enumerate(build) if s.get("name") == name))
    build.insert(next(i for i, s in enumerate(build) if s.get("name") == before), item)
    return workflow


def changed(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    workflow = copy.deepcopy(load("images.yml"))
    change(workflow)
    return workflow


def test_the_workflow_on_main_pushes_only_what_the_scan_passed() -> None:
    assert image_gate_problems(load("images.yml")) == []


def test_the_scan_is_trivy_pinned_from_aquas_repository_and_refuses_critical_and_fixable_high() -> None:
    workflow = load("images.yml")
    assert step(workflow, INSTALL)["env"] == SCANNER
    scan = step(workflow, SCAN)["run"]
    assert scan.count("--exit-code 1") == 2 and "--exit-code 0" not in scan
    assert '--severity CRITICAL "local/$IMAGE:$GITHUB_SHA"' in scan  # fixed or not: a CRITICAL never ships
    assert '--severity HIGH --ignore-unfixed "local/$IMAGE:$GITHUB_SHA"' in scan  # a HIGH with a fix never ships


ATTACKS: list[tuple[str, Callable[[], dict[str, Any]], list[str]]] = [
    (
        "the scan step removed",
        lambda: changed(lambda w: steps(w).remove(step(w, SCAN))),
        [f"build: step {SCAN!r} is missing"],
    ),
    (
        "continue-on-error on the scan",
        lambda: changed(lambda w: step(w, SCAN).update({"continue-on-error": True})),
        [
            f"build: step {SCAN!r} sets 'continue-on-error'; the steps of the build job run as written",
            f"build: step {SCAN!r} takes more than a name and a script",
        ],
    ),
    (
        "the scan made skippable",
        lambda: changed(lambda w: step(w, SCAN).update({"if": "github.event_name == 'push'"})),
        [
            f"build: step {SCAN!r} sets 'if'; the steps of the build job run as written",
            f"build: step {SCAN!r} takes more than a name and a script",
        ],
    ),
    (
        "the push told to run after a failed scan",
        lambda: changed(lambda w: step(w, PUSH).update({"if": "always()"})),
        [
            f"build: step {PUSH!r} sets 'if'; the steps of the build job run as written",
            f"build: step {PUSH!r} takes more than a name and a script",
            "a status function (always/failure/cancelled) lets something run after a failed scan",
        ],
    ),
    (
        "--exit-code 0 on the CRITICAL scan",
        lambda: edited(
            "--exit-code 1 --no-progress \\\n            --severity CRITICAL",
            "--exit-code 0 --no-progress \\\n            --severity CRITICAL",
        ),
        [f"build: the script of step {SCAN!r} is not the gate's"],
    ),
    (
        "the severity filter weakened",
        lambda: edited("--severity CRITICAL", "--severity CRITICAL --ignore-unfixed"),
        [f"build: the script of step {SCAN!r} is not the gate's"],
    ),
    (
        "the HIGH scan dropped",
        lambda: edited(
            "          trivy image --image-src docker --scanners vuln --ignorefile trivyignore --exit-code 1 "
            '--no-progress \\\n            --severity HIGH --ignore-unfixed "local/$IMAGE:$GITHUB_SHA"\n',
            "",
        ),
        [f"build: the script of step {SCAN!r} is not the gate's"],
    ),
    (
        "the push step moved before the scan",
        lambda: moved(PUSH, before=SCAN),
        [f"build: step {PUSH!r} runs before {SCAN!r}", f"build: step {PUSH!r} runs before {LOGIN!r}"],
    ),
    (
        "the login moved before the scan (the credential on the runner while the scanner runs)",
        lambda: moved(LOGIN, before=INSTALL),
        [
            f"build: step {LOGIN!r} runs before {INSTALL!r}",
            f"build: step {LOGIN!r} runs before {ALLOW!r}",
            f"build: step {LOGIN!r} runs before {SCAN!r}",
        ],
    ),
    (
        "the allow-list step removed (no expiry check; the scan reads no ignore file)",
        lambda: changed(lambda w: steps(w).remove(step(w, ALLOW))),
        [f"build: step {ALLOW!r} is missing"],
    ),
    (
        "the exit code overridden through the environment",
        lambda: edited("env:\n  PYTHON_VERSION:", 'env:\n  TRIVY_EXIT_CODE: "0"\n  PYTHON_VERSION:'),
        ["TRIVY_ variables appear; the scanner takes its settings from the scan's flags only"],
    ),
    (
        "a shell that ignores errors",
        lambda: changed(lambda w: w.update({"defaults": {"run": {"shell": "bash {0}"}}})),
        ["build: 'defaults' is set; a failed scan must fail the job"],
    ),
    (
        "another scanner version or an unverified download",
        lambda: edited("SCANNER_VERSION: 0.71.2", "SCANNER_VERSION: 0.69.4"),
        ["build: the scanner is not the pinned Trivy, verified by key and checksum"],
    ),
    (
        "the check that the pushed image is the scanned one removed",
        lambda: edited(
            '          if [ "$built" != "$(cat "$RUNNER_TEMP/scan/scanned-id")" ]; then\n', "          if false; then\n"
        ),
        ["build: the push step does not first check that the image is the one scanned"],
    ),
    (
        "a rebuild after the scan",
        lambda: edited(
            "      - name: Log in to the registries\n",
            '      - name: Refresh\n        run: docker build --tag "local/$IMAGE:$GITHUB_SHA" "images/$IMAGE"\n'
            "      - name: Log in to the registries\n",
        ),
        [
            "build: step 'Refresh' runs between the build and the push; only the scan's steps and the login may",
            "build: step 'Refresh' builds an image after or beside the scanned one",
        ],
    ),
    (
        "another image tagged in after the scan",
        lambda: edited(
            "      - name: Log in to the registries\n",
            "      - name: Warm up\n"
            '        run: docker pull evil/x:1 && docker tag evil/x:1 "local/$IMAGE:$GITHUB_SHA"\n'
            "      - name: Log in to the registries\n",
        ),
        ["build: step 'Warm up' runs between the build and the push; only the scan's steps and the login may"],
    ),
    (
        "a second job that pushes with the credential",
        lambda: changed(
            lambda w: w["jobs"].update(
                {
                    "sneak": {
                        "runs-on": "ubuntu-24.04",
                        "environment": "images",
                        "steps": [
                            {
                                "name": "push",
                                "env": {"P": "${{ secrets.ACR_PASSWORD }}"},
                                "run": "crane auth login r -p $P && crane push img.tar r/x:y",
                            }
                        ],
                    }
                }
            )
        ),
        [
            "sneak: step 'push' reads the push credential; only 'Log in to the registries' may",
            "sneak: step 'push' can push an image (crane)",
        ],
    ),
    (
        "buildx pushing straight from the build",
        lambda: edited("docker build --pull --tag", "docker buildx build --push --pull --tag"),
        [
            "build: the script of step 'Build' is not the gate's",
            "build: step 'Build' can push an image (--push, buildx)",
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
