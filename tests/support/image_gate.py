"""What makes ``.github/workflows/images.yml`` refuse to push an unscanned or vulnerable image, as one check.

The workflow has three jobs per image, each on a fresh runner: ``build`` (build and ``docker save``), ``scan`` (only
the code-owned allow-list checked out; Trivy, pinned and verified, run as ``/usr/bin/trivy`` under ``env -i`` on the
saved archive) and ``push`` (needs the scan; loads the archive only if its SHA-256 is the scanned one). Nothing of
the repository runs on the scan's runner but the code-owned allow-list tool, so a pull request cannot put a fake
``trivy`` on the PATH (``$GITHUB_PATH``), set ``TRIVY_*`` (``$GITHUB_ENV``) or swap the scanner before it runs.

``image_gate_problems`` reads a parsed workflow and names every way it could push an image the scan did not pass:
a job's steps missing, reordered, added or changed; repository code, ``$GITHUB_PATH``/``$GITHUB_ENV`` writes or a
``trivy`` found by name where the scan runs; the push not needing the scan, or loading another image; the push
credential or a push command reachable outside the push job's login and push steps. The real workflow gives none
(tests/github/test_workflows_images.py), and each edit an attacker could make in a pull request gives the problem
that names it.
"""

from __future__ import annotations

import re
from typing import Any, Final

import yaml

CHECKOUT: Final = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683"
SETUP_PYTHON: Final = "actions/setup-python@0b93645e9fea7318ecaed2b359559ac225c90a2b"
UPLOAD: Final = "actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02"
DOWNLOAD: Final = "actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093"

BUILD: Final = "Build"
SAVE: Final = "Save the image"
HANDOFF: Final = "Hand the image to the scan"
SPARSE: Final = "Check out only the allow-list and its tool (code-owned)"
LIBS: Final = "The allow-list tool's libraries (by hash; not the repository's requirements)"
ALLOW: Final = "Accepted findings for this image (images/scan-allowlist.yaml; an expired entry stops here)"
INSTALL: Final = "Install the scanner (Trivy from Aqua's apt repository; exact version, signing key and checksum)"
FETCH: Final = "The saved image"
SCAN: Final = "Scan (stop on CRITICAL, and on HIGH with a fix, unless accepted)"
RECORD: Final = "Record what the scan passed"
FETCH_RECORD: Final = "What the scan passed"
LOAD: Final = "Load the scanned image (refused unless it is the archive the scan passed)"
TOOLS: Final = "Tools"
TARGETS: Final = "Where the image goes"
LOGIN: Final = "Log in to the registries"
PUSH: Final = "Push (tag = commit SHA) and point each stack at the digest"
PR: Final = "Open a pull request"

# Each job's steps, all of them, in order: a step that is not listed (or not in its place) is a problem.
ORDER: Final = {
    "build": (CHECKOUT, BUILD, SAVE, HANDOFF),
    "scan": (SPARSE, SETUP_PYTHON, LIBS, ALLOW, INSTALL, FETCH, SCAN, RECORD),
    "push": (FETCH, FETCH_RECORD, LOAD, CHECKOUT, SETUP_PYTHON, TOOLS, TARGETS, LOGIN, PUSH, PR),
}
NEEDS: Final = {"build": "discover", "scan": "build", "push": "scan"}

_IMAGE: Final = "image-${{ matrix.image }}"
_SCANNED: Final = "scanned-${{ matrix.image }}"
# The steps the gate pins whole (action, inputs and script), as the real workflow has them (comments aside).
PINNED: Final[dict[tuple[str, str], dict[str, Any]]] = {
    ("build", CHECKOUT): {"uses": CHECKOUT, "with": {"persist-credentials": False}},
    ("build", BUILD): {"name": BUILD, "run": 'docker build --pull --tag "local/$IMAGE:$GITHUB_SHA" "images/$IMAGE"'},
    ("build", SAVE): {
        "name": SAVE,
        "run": 'set -euo pipefail\nmkdir -p "$RUNNER_TEMP/image"\n'
        'docker save --output "$RUNNER_TEMP/image/image.tar" "local/$IMAGE:$GITHUB_SHA"\n',
    },
    ("build", HANDOFF): {
        "name": HANDOFF,
        "uses": UPLOAD,
        "with": {
            "name": _IMAGE,
            "path": "${{ runner.temp }}/image/image.tar",
            "if-no-files-found": "error",
            "retention-days": 1,
        },
    },
    ("scan", SPARSE): {
        "name": SPARSE,
        "uses": CHECKOUT,
        "with": {
            "persist-credentials": False,
            "path": "allow",
            "sparse-checkout-cone-mode": False,
            "sparse-checkout": "/.github/scan-requirements.txt\n/images/scan-allowlist.yaml\n/images/*/Dockerfile\n"
            "/tools/__init__.py\n/tools/scan_allowlist.py\n",
        },
    },
    ("scan", SETUP_PYTHON): {"uses": SETUP_PYTHON, "with": {"python-version": "${{ env.PYTHON_VERSION }}"}},
    ("scan", LIBS): {
        "name": LIBS,
        "run": "python -I -m pip install --quiet --require-hashes --no-deps --only-binary :all: \\\n"
        "  --requirement allow/.github/scan-requirements.txt\n",
    },
    ("scan", ALLOW): {
        "name": ALLOW,
        "run": 'mkdir -p "$RUNNER_TEMP/scan"\ncd allow\n'
        'python -E -s -m tools.scan_allowlist --image "$IMAGE" --output "$RUNNER_TEMP/scan/trivyignore"\n',
    },
    ("scan", FETCH): {"name": FETCH, "uses": DOWNLOAD, "with": {"name": _IMAGE, "path": "${{ runner.temp }}/image"}},
    ("scan", SCAN): {
        "name": SCAN,
        "run": "set -euo pipefail\n"
        "dpkg -V trivy\n"
        'cd "$RUNNER_TEMP/scan"\n'
        'tags=$(tar --extract --to-stdout --file "$RUNNER_TEMP/image/image.tar" manifest.json \\\n'
        "  | jq -c '[.[].RepoTags]')\n"
        'if [ "$tags" != "[[\\"local/$IMAGE:$GITHUB_SHA\\"]]" ]; then\n'
        '  echo "::error::image.tar holds $tags, not the one image local/$IMAGE:$GITHUB_SHA; nothing scanned."\n'
        "  exit 1\n"
        "fi\n"
        'env -i HOME="$RUNNER_TEMP/scan" PATH=/usr/bin:/bin /usr/bin/trivy image --scanners vuln \\\n'
        "  --ignorefile trivyignore --exit-code 1 --no-progress --severity CRITICAL \\\n"
        '  --input "$RUNNER_TEMP/image/image.tar"\n'
        'env -i HOME="$RUNNER_TEMP/scan" PATH=/usr/bin:/bin /usr/bin/trivy image --scanners vuln \\\n'
        "  --ignorefile trivyignore --exit-code 1 --no-progress --severity HIGH --ignore-unfixed \\\n"
        '  --input "$RUNNER_TEMP/image/image.tar"\n'
        'mkdir -p "$RUNNER_TEMP/scanned"\n'
        '(cd "$RUNNER_TEMP/image" && sha256sum image.tar) > "$RUNNER_TEMP/scanned/scanned.sha256"\n',
    },
    ("scan", RECORD): {
        "name": RECORD,
        "uses": UPLOAD,
        "with": {
            "name": _SCANNED,
            "path": "${{ runner.temp }}/scanned/scanned.sha256",
            "if-no-files-found": "error",
            "retention-days": 1,
        },
    },
    ("push", FETCH): {"name": FETCH, "uses": DOWNLOAD, "with": {"name": _IMAGE, "path": "${{ runner.temp }}/image"}},
    ("push", FETCH_RECORD): {
        "name": FETCH_RECORD,
        "uses": DOWNLOAD,
        "with": {"name": _SCANNED, "path": "${{ runner.temp }}/scanned"},
    },
    ("push", LOAD): {
        "name": LOAD,
        "run": "set -euo pipefail\n"
        'cd "$RUNNER_TEMP/image"\n'
        'if ! sha256sum --check --strict "$RUNNER_TEMP/scanned/scanned.sha256"; then\n'
        '  echo "::error::image.tar is not the archive the scan passed; nothing pushed."\n'
        "  exit 1\n"
        "fi\n"
        "docker load --input image.tar\n",
    },
    ("push", CHECKOUT): {"uses": CHECKOUT, "with": {"persist-credentials": False}},
    ("push", SETUP_PYTHON): {"uses": SETUP_PYTHON, "with": {"python-version": "${{ env.PYTHON_VERSION }}"}},
}
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
# Ways to put an image into a registry: only the push job's login and push steps may use them, and only docker's.
PUSHING: Final = re.compile(r"docker\s+(push|login)|buildx|--push|\b(crane|skopeo|oras|regctl|podman)\b")
# Ways to bring an image onto the push job's runner: only its load step, from the scanned archive.
LOADING: Final = re.compile(r"docker\s+(load|pull|import|image\s+(load|pull|import))\b")
# Repository code: its Python tools or scripts, its requirements, its plan wrapper, its Makefile, a script by path.
REPO_CODE: Final = re.compile(
    r"python3?\s+(-\S+\s+)*(-m\s+(tools|policies|components|providers|stack_config)\b|\S+\.py\b)"
    r"|pip3?\s+install\s.*(-r|--requirement)\s|\./plan\b|\bmake\b|\bbash\s+\S+\.sh\b|(^|\s)\./\S+"
)
# Environment files that change the PATH or the variables of every later step of the same job.
ENV_FILES: Final = re.compile(r"\$\{?(GITHUB_PATH|GITHUB_ENV)\b|\benv\.GITHUB_(PATH|ENV)\b")
# trivy run by its name: whichever `trivy` comes first on the PATH then decides.
TRIVY_BY_NAME: Final = re.compile(r"(?<![\w/.-])trivy\s+(image|fs|rootfs|repo|repository|sbom|config|k8s|vm|--?\w)")
# Expressions that run a step or job although an earlier one failed or was skipped.
RUN_ANYWAY: Final = re.compile(r"\b(always|failure|cancelled)\s*\(")


def _text(value: Any) -> str:
    return yaml.safe_dump(value, sort_keys=True)


def _key(step: dict[str, Any]) -> str:
    return str(step.get("name") or step.get("uses") or "?")


def _order_problems(job: str, keys: list[str]) -> list[str]:
    order = ORDER[job]
    problems = [f"{job}: step {key!r} is missing" for key in order if keys.count(key) == 0]
    problems += [f"{job}: step {key!r} appears {keys.count(key)} times" for key in order if keys.count(key) > 1]
    problems += [
        f"{job}: step {key!r} is not one of the gate's; the job runs its listed steps only"
        for key in keys
        if key not in order
    ]
    present = [key for key in order if keys.count(key) == 1]
    for position, first in enumerate(present):
        for then in present[position + 1 :]:
            if keys.index(first) > keys.index(then):
                problems.append(f"{job}: step {then!r} runs before {first!r}")
    return problems


def _step_problems(job: str, steps: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    for step in steps:
        key = _key(step)
        for field in ("if", "continue-on-error", "shell", "working-directory"):
            if field in step:
                problems.append(f"{job}: step {key!r} sets {field!r}; the steps of the {job} job run as written")
        pinned = PINNED.get((job, key))
        if pinned is not None and step != pinned:
            problems.append(f"{job}: step {key!r} is not the gate's (its action, inputs or script changed)")
        if "overwrite" in (step.get("with") or {}):
            problems.append(f"{job}: step {key!r} overwrites an artifact; what the scan passed must stay as it was")
        verified = step.get("env") == SCANNER and all(line in step.get("run", "") for line in INSTALL_LINES)
        if (job, key) == ("scan", INSTALL) and not verified:
            problems.append("scan: the scanner is not the pinned Trivy, verified by key and checksum")
    return problems


def _scan_problems(steps: list[dict[str, Any]]) -> list[str]:
    """The scanner checked against its package before it runs, and run by absolute path in a clean environment."""
    problems: list[str] = []
    scan = next((step for step in steps if step.get("name") == SCAN), None)
    run = str((scan or {}).get("run", ""))
    if scan is not None and not (
        "dpkg -V trivy\n" in run and run.index("dpkg -V trivy\n") < run.find("/usr/bin/trivy")
    ):
        problems.append("scan: the scan runs /usr/bin/trivy without first checking it with `dpkg -V trivy`")
    if scan is not None and (run.count("env -i ") != run.count("/usr/bin/trivy ") or "/usr/bin/trivy " not in run):
        problems.append("scan: the scan does not run /usr/bin/trivy, under `env -i`, for each severity")
    return problems


def _runner_problems(job: str, steps: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    for step in steps:
        key = _key(step)
        text = str(step.get("run", ""))
        exempt = (job, key) in (("scan", LIBS), ("scan", ALLOW))  # the code-owned tool, pinned whole above
        if job in ("build", "scan") and not exempt and REPO_CODE.search(text):
            problems.append(f"{job}: step {key!r} runs repository code on a runner before the scan ends")
        if ENV_FILES.search(_text(step)):
            problems.append(f"{job}: step {key!r} writes $GITHUB_PATH or $GITHUB_ENV; later steps would run changed")
        if TRIVY_BY_NAME.search(text):
            problems.append(f"{job}: step {key!r} runs `trivy` by name; only /usr/bin/trivy, checked, is the scanner")
        if job == "push" and key != LOAD and LOADING.search(text):
            problems.append(f"push: step {key!r} brings in an image other than the archive the scan passed")
    return problems


def _job_problems(jobs: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for job, need in NEEDS.items():
        spec = jobs.get(job)
        if spec is None:
            problems.append(f"{job}: the job is missing")
            continue
        needs = spec.get("needs") or []
        if need not in ([needs] if isinstance(needs, str) else needs):
            problems.append(f"{job}: the job does not need {need!r}; it could run without it or before it ends")
        if job != "build" and "if" in spec:
            problems.append(f"{job}: the job sets 'if'; it runs only when the jobs it needs passed")
        for field in ("continue-on-error", "defaults"):
            if field in spec:
                problems.append(f"{job}: {field!r} is set; a failed scan must fail the run")
    return problems


def _reach_problems(jobs: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for job, spec in jobs.items():
        outside = {k: v for k, v in spec.items() if k != "steps"}
        if "secrets.ACR_" in _text(outside):
            problems.append(f"{job}: the job itself reads the push credential")
        for step in spec.get("steps") or []:
            key = _key(step)
            text = _text(step)
            if "secrets.ACR_" in text and (job, key) != ("push", LOGIN):
                problems.append(f"{job}: step {key!r} reads the push credential; only {LOGIN!r} may")
            pushes = {m.group(0) for m in PUSHING.finditer(text)}
            permitted = {("push", LOGIN): {"docker login"}, ("push", PUSH): {"docker push"}}.get((job, key), set())
            if pushes - permitted:
                problems.append(f"{job}: step {key!r} can push an image ({', '.join(sorted(pushes))})")
            if "docker build" in text and (job, key) != ("build", BUILD):
                problems.append(f"{job}: step {key!r} builds an image beside the scanned one")
    return problems


def image_gate_problems(workflow: dict[str, Any]) -> list[str]:
    """Every way ``workflow`` (images.yml, parsed) could push an image the scan did not pass; none for the real one."""
    jobs: dict[str, Any] = workflow.get("jobs") or {}
    problems = _job_problems(jobs)
    for job in ORDER:
        steps: list[dict[str, Any]] = list((jobs.get(job) or {}).get("steps") or [])
        problems += _order_problems(job, [_key(step) for step in steps])
        problems += _step_problems(job, steps)
        problems += _runner_problems(job, steps)
        if job == "scan":
            problems += _scan_problems(steps)
    problems += _reach_problems(jobs)
    if "defaults" in workflow:
        problems.append("'defaults' is set; a failed scan must fail the run")
    whole = _text(workflow)
    if "TRIVY_" in whole:
        problems.append("TRIVY_ variables appear; the scanner takes its settings from the scan's flags only")
    if RUN_ANYWAY.search(whole):
        problems.append("a status function (always/failure/cancelled) lets something run after a failed scan")
    return problems
