"""Config rules for scale: training waits that fit the deploy job which runs them.

``pulumi up`` runs in a CI job with a hard time limit (``timeout-minutes`` in ``.github/workflows/deploy.yml``);
GitHub cancels the job at that limit, and with it the engine and every provider host, mid-wait. A training run
that ``pulumi up`` waits for (``wait: completed`` or ``running``) must therefore fit the job with its whole
budget: every attempt may queue ``queueTimeoutMinutes`` and (``completed``) run ``maxRuntimeMinutes`` plus the
provider's grace, and ``maxResubmits`` more attempts may follow. A config whose worst case does not fit is
refused with the numbers; ``wait: none`` submits without blocking, and the next deploy (``pulumi up --refresh``)
follows the run and resubmits it after a preemption (docs/scale.md). ``tests/test_config_scale.py`` holds these
limits and the workflow together.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from typing import Any, Final, cast

from config_problems import PROJECT, Problem, path_text
from pai_facts import RUNTIME_GRACE_MINUTES

# Account-wide names start with the prefix: RAM role and policy names (at most 64 characters), FC function names
# (64) and SLS log projects (63, `<prefix>-<pipeline>-start-<16-digit account>`); 24 leaves each its suffix.
NAME_PREFIX_MAX: Final = 24
NAME_PREFIX_PATTERN: Final = r"^[a-z][a-z0-9-]*[a-z0-9]$"


def default_name_prefix(stack: str) -> str:
    """``pai-mlops-<stack>``: for a stack named after its environment (``dev``, ``prod``) today's prefix, so
    existing stacks keep every name; any other stack (``dev-team-b``) gets names of its own. Characters the
    names do not take become hyphens; a stack name too long for the names is cut and given a short hash."""
    token = re.sub(r"[^a-z0-9]+", "-", stack.lower()).strip("-")
    prefix = f"{PROJECT}-{token}" if token else PROJECT
    if len(prefix) <= NAME_PREFIX_MAX:
        return prefix
    # Too long: the start of the stack name and a hash of all of it, so two long names still differ.
    digest = f"{zlib.crc32(token.encode()):08x}"[:4]
    head = token[: NAME_PREFIX_MAX - len(PROJECT) - 6].strip("-")
    return f"{PROJECT}-{head}-{digest}"


def eas_scope(name_prefix: str, environment: str) -> str:
    """The prefix of EAS service and group names (unique per region in the account): "" for today's prefix
    ``pai-mlops-<environment>`` (existing stacks keep their services), else the prefix's own part, e.g.
    ``pai-mlops-dev-team-b`` → ``dev_team_b_`` (EAS names take no hyphen)."""
    if name_prefix == f"{PROJECT}-{environment}":
        return ""
    token = name_prefix.removeprefix(f"{PROJECT}-").replace("-", "_")
    return f"{token}_" if token[:1].isalpha() else f"s{token}_"


def with_eas_scope(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with each served model's ``easPrefix`` set from ``namePrefix`` where the model does not set it."""
    prefix, environment, serving = values.get("namePrefix"), values.get("environment"), values.get("serving")
    services = serving.get("services") if isinstance(serving, dict) else None
    if not (isinstance(prefix, str) and isinstance(environment, str) and isinstance(services, list)):
        return values
    if len(prefix) > NAME_PREFIX_MAX or not re.fullmatch(NAME_PREFIX_PATTERN, prefix):
        return values  # the namePrefix field reports it
    scope = eas_scope(prefix, environment)
    scoped = [{"easPrefix": scope, **svc} if isinstance(svc, dict) else svc for svc in services]
    return {**values, "serving": {**cast("dict[str, Any]", serving), "services": scoped}}


# timeout-minutes of each environment's `pulumi up` job in .github/workflows/deploy.yml (a test reads the file).
DEPLOY_JOB_MINUTES: Final = {"dev": 120, "staging": 180, "prod": 180}
# Kept free in the job for everything else the update does: installing, the program, releases and their bakes.
DEPLOY_MARGIN_MINUTES: Final = 30
# The input defaults of TrainingJobConfig (stack_config), repeated so this rule reads raw config.
_DEFAULTS: Final = {"wait": "completed", "queueTimeoutMinutes": 60, "maxResubmits": 0}


def blocking_minutes(job: Mapping[str, Any]) -> int | None:
    """The longest ``pulumi up`` may wait for this training job, in minutes; None if the values are not numbers.

    ``completed``: every attempt may queue and run to its deadline. ``running``: every attempt may queue (an
    attempt that fails before it starts is resubmitted). ``none``: submitting only.
    """
    wait = job.get("wait", _DEFAULTS["wait"])
    queue = job.get("queueTimeoutMinutes", _DEFAULTS["queueTimeoutMinutes"])
    runtime = job.get("maxRuntimeMinutes")
    resubmits = job.get("maxResubmits", _DEFAULTS["maxResubmits"])
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (queue, resubmits)):
        return None
    attempts = 1 + resubmits
    if wait == "none":
        return 0
    if wait == "running":
        return attempts * queue
    if not isinstance(runtime, int) or isinstance(runtime, bool):
        return None
    return attempts * (queue + runtime + RUNTIME_GRACE_MINUTES)


def training_wait_problems(raw: Mapping[str, Any]) -> list[Problem]:
    """Every training job whose worst-case wait does not fit the environment's deploy job (see module doc)."""
    limit = DEPLOY_JOB_MINUTES.get(str(raw.get("environment")))
    training = raw.get("training")
    jobs = training.get("jobs") if isinstance(training, dict) else None
    if limit is None or not isinstance(jobs, list):
        return []
    allowed = limit - DEPLOY_MARGIN_MINUTES
    problems: list[Problem] = []
    for index, job in enumerate(jobs):
        if not isinstance(job, dict):
            continue
        minutes = blocking_minutes(job)
        if minutes is None or minutes <= allowed:
            continue
        wait = job.get("wait", _DEFAULTS["wait"])
        attempts = 1 + job.get("maxResubmits", _DEFAULTS["maxResubmits"])
        queue = job.get("queueTimeoutMinutes", _DEFAULTS["queueTimeoutMinutes"])
        if wait == "running":
            sum_text = f"{attempts} attempt(s) x queueTimeoutMinutes {queue}"
        else:
            runtime = job.get("maxRuntimeMinutes")
            sum_text = (
                f"{attempts} attempt(s) x (queueTimeoutMinutes {queue} + maxRuntimeMinutes {runtime} "
                f"+ {RUNTIME_GRACE_MINUTES} grace)"
            )
        problems.append(
            Problem(
                path_text(("training", "jobs", index)),
                "wait",
                f"makes pulumi up wait up to {minutes} minutes ({sum_text}), but the {raw.get('environment')} deploy "
                f"job stops after {limit} minutes (timeout-minutes in .github/workflows/deploy.yml) and keeps "
                f"{DEPLOY_MARGIN_MINUTES} of them for the rest of the update, so at most {allowed} minutes",
                wait,
                "Write wait: none to submit without blocking (the next deploy's pulumi up --refresh then follows "
                "the run and resubmits it after a preemption), or lower queueTimeoutMinutes, maxRuntimeMinutes or "
                "maxResubmits until it fits, or raise the job's timeout-minutes and DEPLOY_JOB_MINUTES in "
                "config_scale.py together",
            )
        )
    return problems
