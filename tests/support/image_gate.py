"""What makes ``.github/workflows/images.yml`` refuse to push an unscanned or vulnerable image, as one check.

``image_gate_problems`` reads a parsed workflow and names every way it could push an image the scan did not pass:
the scan steps missing, reordered, skippable or weakened, the push credential or a push command reachable outside
the steps after the scan, scanner settings slipped in through ``TRIVY_*`` variables or a different shell. The real
workflow must give none (tests/github/test_workflows_images.py), and each edit an attacker could make in a pull
request must give the problem that names it.
"""

from __future__ import annotations

import re
from typing import Any, Final

import yaml

BUILD: Final = "Build"
INSTALL: Final = "Install the scanner (Trivy from Aqua's apt repository; exact version, signing key and checksum)"
ALLOW: Final = "Accepted findings for this image (images/scan-allowlist.yaml; an expired entry stops here)"
SCAN: Final = "Scan (stop on CRITICAL, and on HIGH with a fix, unless accepted)"
LOGIN: Final = "Log in to the registries"
PUSH: Final = "Push (tag = commit SHA) and point each stack at the digest"
ORDER: Final = (BUILD, INSTALL, ALLOW, SCAN, LOGIN, PUSH)

BUILD_RUN: Final = 'docker build --pull --tag "local/$IMAGE:$GITHUB_SHA" "images/$IMAGE"'
ALLOW_RUN: Final = (
    'mkdir -p "$RUNNER_TEMP/scan"\n'
    'python -m tools.scan_allowlist --image "$IMAGE" --output "$RUNNER_TEMP/scan/trivyignore"\n'
)
SCAN_RUN: Final = (
    "set -euo pipefail\n"
    'cd "$RUNNER_TEMP/scan"\n'
    "trivy image --image-src docker --scanners vuln --ignorefile trivyignore --exit-code 1 --no-progress \\\n"
    '  --severity CRITICAL "local/$IMAGE:$GITHUB_SHA"\n'
    "trivy image --image-src docker --scanners vuln --ignorefile trivyignore --exit-code 1 --no-progress \\\n"
    '  --severity HIGH --ignore-unfixed "local/$IMAGE:$GITHUB_SHA"\n'
    "docker image inspect --format '{{.Id}}' \"local/$IMAGE:$GITHUB_SHA\" > scanned-id\n"
)
PUSH_CHECK: Final = (
    "set -euo pipefail\n"
    "built=$(docker image inspect --format '{{.Id}}' \"local/$IMAGE:$GITHUB_SHA\")\n"
    'if [ "$built" != "$(cat "$RUNNER_TEMP/scan/scanned-id")" ]; then\n'
    '  echo "::error::local/$IMAGE:$GITHUB_SHA is not the image that was scanned; nothing pushed."\n'
    "  exit 1\n"
    "fi\n"
)
SCANNER: Final = {
    "SCANNER_VERSION": "0.71.2",
    "SCANNER_DEB_SHA256": "e0fefd02010dfa96938cfa2b817db09f710ccec044a305dfdd567e52c5702a59",
    "SCANNER_KEY_FINGERPRINT": "825AD9036F7C850E6A6FED4935B8ACA44FD9CA9F",
}
INSTALL_LINES: Final = (
    '[ "$keys" != "$SCANNER_KEY_FINGERPRINT" ]',
    'echo "deb [signed-by=/usr/share/keyrings/trivy.gpg] https://get.trivy.dev/deb noble main"',
    'echo "$SCANNER_DEB_SHA256  trivy_${SCANNER_VERSION}_amd64.deb" | sha256sum --check --strict',
    'sudo apt-get install --yes --no-install-recommends "./trivy_${SCANNER_VERSION}_amd64.deb"',
)
# Ways to put an image into a registry: only the push step may use them, and only docker's.
PUSHING: Final = re.compile(r"docker\s+(push|login)|buildx|--push|\b(crane|skopeo|oras|regctl|podman)\b")
# Expressions that run a step although an earlier one failed or was skipped.
RUN_ANYWAY: Final = re.compile(r"\b(always|failure|cancelled)\s*\(")


def _text(value: Any) -> str:
    return yaml.safe_dump(value, sort_keys=True)


def _steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps") or [])


def _order_problems(names: list[str]) -> list[str]:
    problems = [f"build: step {name!r} is missing" for name in ORDER if names.count(name) == 0]
    problems += [f"build: step {name!r} appears {names.count(name)} times" for name in ORDER if names.count(name) > 1]
    if names.count(BUILD) == 1 and names.count(PUSH) == 1:
        between = names[names.index(BUILD) + 1 : names.index(PUSH)]
        problems += [
            f"build: step {name!r} runs between the build and the push; only the scan's steps and the login may"
            for name in between
            if name not in ORDER
        ]
    present = [name for name in ORDER if names.count(name) == 1]
    for position, first in enumerate(present):
        for then in present[position + 1 :]:
            if names.index(first) > names.index(then):
                problems.append(f"build: step {then!r} runs before {first!r}")
    return problems


def _step_problems(steps: list[dict[str, Any]]) -> list[str]:
    by_name = {step.get("name"): step for step in steps}
    problems: list[str] = []
    for step in steps:
        name = step.get("name", step.get("uses", "?"))
        for key in ("if", "continue-on-error", "shell", "working-directory"):
            if key in step:
                problems.append(f"build: step {name!r} sets {key!r}; the steps of the build job run as written")
    expected = {BUILD: BUILD_RUN, ALLOW: ALLOW_RUN, SCAN: SCAN_RUN}
    for name, run in expected.items():
        if name in by_name and by_name[name].get("run") != run:
            problems.append(f"build: the script of step {name!r} is not the gate's")
    for name in (ALLOW, SCAN, PUSH):
        if name in by_name and set(by_name[name]) != {"name", "run"}:
            problems.append(f"build: step {name!r} takes more than a name and a script")
    if INSTALL in by_name:
        install = by_name[INSTALL]
        if install.get("env") != SCANNER or not all(line in install.get("run", "") for line in INSTALL_LINES):
            problems.append("build: the scanner is not the pinned Trivy, verified by key and checksum")
    if PUSH in by_name and not str(by_name[PUSH].get("run", "")).startswith(PUSH_CHECK):
        problems.append("build: the push step does not first check that the image is the one scanned")
    return problems


def _reach_problems(jobs: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for job_name, job in jobs.items():
        outside = {k: v for k, v in job.items() if k != "steps"}
        if "secrets.ACR_" in _text(outside):
            problems.append(f"{job_name}: the job itself reads the push credential")
        for step in _steps(job):
            name = step.get("name", step.get("uses", "?"))
            text = _text(step)
            allowed = (job_name, name) == ("build", LOGIN)
            if "secrets.ACR_" in text and not allowed:
                problems.append(f"{job_name}: step {name!r} reads the push credential; only {LOGIN!r} may")
            pushes = {m.group(0) for m in PUSHING.finditer(text)}
            permitted = {("build", LOGIN): {"docker login"}, ("build", PUSH): {"docker push"}}.get((job_name, name))
            if pushes - (permitted or set()):
                problems.append(f"{job_name}: step {name!r} can push an image ({', '.join(sorted(pushes))})")
            if "docker build" in text and (job_name, name) != ("build", BUILD):
                problems.append(f"{job_name}: step {name!r} builds an image after or beside the scanned one")
    return problems


def image_gate_problems(workflow: dict[str, Any]) -> list[str]:
    """Every way ``workflow`` (images.yml, parsed) could push an image the scan did not pass; none for the real one."""
    jobs: dict[str, Any] = workflow.get("jobs") or {}
    build: dict[str, Any] = jobs.get("build") or {}
    steps = _steps(build)
    problems = _order_problems([str(step.get("name", "")) for step in steps])
    problems += _step_problems(steps)
    for key in ("continue-on-error", "defaults"):
        if key in build or (key == "defaults" and key in workflow):
            problems.append(f"build: {key!r} is set; a failed scan must fail the job")
    problems += _reach_problems(jobs)
    whole = _text(workflow)
    if "TRIVY_" in whole:
        problems.append("TRIVY_ variables appear; the scanner takes its settings from the scan's flags only")
    if RUN_ANYWAY.search(whole):
        problems.append("a status function (always/failure/cancelled) lets something run after a failed scan")
    return problems
