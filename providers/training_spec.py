"""The TrainingJob provider's inputs: their defaults, which of them define the run, the names pai-mlops reserves
in a job (tags, environment, mounts) and the rules across inputs that ``check`` applies.

The pure half of the provider is three modules, none of which talks to a cloud, so every rule is table-tested:
this one (tests/providers/test_training_spec.py), the DLC request a run submits (``training_request.py``) and
its attempts as DLC reports them (``training_attempts.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pai_facts import DLC_GPU_TYPE_EXAMPLE, DLC_GPU_TYPE_PATTERN, EXTRA_ROLES
from providers.props import is_int, is_number, plain

JOB_TYPES: Final = (
    "PyTorchJob",
    "TFJob",
    "MPIJob",
    "XGBoostJob",
    "OneFlowJob",
    "ElasticBatchJob",
    "RayJob",
)
WAITS: Final = ("none", "running", "completed")
RESUBMIT_ON: Final = ("preemption", "any_failure")

# Tags in Settings.Tags that find a resource's jobs again (ListJobs filters on them).
KEY_TAG: Final = "pai-mlops-key"
ATTEMPT_TAG: Final = "pai-mlops-attempt"
RESERVED_TAGS: Final = frozenset({KEY_TAG, ATTEMPT_TAG})

# What the training code sees. RESUME_FROM is set only on a resubmission that found a complete checkpoint.
RESUME_ENV: Final = "PAI_MLOPS_RESUME_FROM"
RESUME_URI_ENV: Final = "PAI_MLOPS_RESUME_FROM_URI"
CHECKPOINT_DIR_ENV: Final = "PAI_MLOPS_CHECKPOINT_DIR"
CHECKPOINT_INTERVAL_ENV: Final = "PAI_MLOPS_CHECKPOINT_INTERVAL_MINUTES"
OUTPUT_DIR_ENV: Final = "PAI_MLOPS_OUTPUT_DIR"
ATTEMPT_ENV: Final = "PAI_MLOPS_ATTEMPT"
RESERVED_ENV: Final = frozenset(
    {RESUME_ENV, RESUME_URI_ENV, CHECKPOINT_DIR_ENV, CHECKPOINT_INTERVAL_ENV, OUTPUT_DIR_ENV, ATTEMPT_ENV}
)
CHECKPOINT_MOUNT: Final = "/mnt/checkpoints"
OUTPUT_MOUNT: Final = "/mnt/output"
# A checkpoint directory counts once this object exists in it: training code writes it last.
COMPLETE_MARKER: Final = "_COMPLETE"

DEFAULTS: Final[Mapping[str, Any]] = {
    "worker_count": 1,
    "roles": {},
    "instance_type": None,
    "resource_group": None,
    "resources": None,
    "spot": False,
    "spot_discount_limit": None,
    "checkpoint_interval_minutes": None,
    "max_runtime_minutes": None,
    "queue_timeout_minutes": 60,
    "data_sources": [],
    "code": None,
    "role_arn": None,
    "workspace_id": None,
    "wait": "completed",
    "max_resubmits": 0,
    "resubmit_on": "preemption",
    "env": {},
    "tags": {},
    "description": "",
    "poll_seconds": 30,
    "delete_records": False,
}
# Inputs that define the run: a change means a different run, so the resource is replaced (a new job).
RUN_DEFINING: Final = (
    "scope",
    "display_name",
    "job_type",
    "image",
    "command",
    "worker_count",
    "roles",
    "instance_type",
    "resource_group",
    "resources",
    "spot",
    "spot_discount_limit",
    "checkpoint_interval_minutes",
    "max_runtime_minutes",
    "data_sources",
    "output_uri",
    "checkpoint_uri",
    "code",
    "env",
    "workspace_id",
    "role_arn",
)
# Inputs that change the job record in place (tags, description) or only how pai-mlops watches the run.
IN_PLACE: Final = ("tags", "description")
BEHAVIOUR: Final = ("wait", "max_resubmits", "resubmit_on", "queue_timeout_minutes", "poll_seconds", "delete_records")

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_OSS_URI = re.compile(r"^oss://(?P<bucket>[a-z0-9][a-z0-9-]{1,61}[a-z0-9])(?P<endpoint>\.[^/]+)?/(?P<prefix>.*)$")


def with_defaults(props: Mapping[str, Any]) -> dict[str, Any]:
    merged = {**DEFAULTS, **{k: v for k, v in props.items() if v is not None or k not in DEFAULTS}}
    return plain(merged)


# -- validation ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OssLocation:
    bucket: str
    prefix: str  # always ends with "/" (or is empty: the bucket root)

    @classmethod
    def parse(cls, uri: str) -> OssLocation:
        match = _OSS_URI.match(uri)
        if match is None:
            raise ValueError(f"not an OSS location of the form oss://<bucket>/<prefix>/: {uri!r}")
        prefix = match["prefix"]
        return cls(match["bucket"], prefix if not prefix or prefix.endswith("/") else prefix + "/")

    def for_dlc(self, region: str) -> str:
        """The URI DLC mounts: the bucket qualified with the region's internal endpoint."""
        return f"oss://{self.bucket}.oss-{region}-internal.aliyuncs.com/{self.prefix}"

    def uri(self, suffix: str = "") -> str:
        return f"oss://{self.bucket}/{self.prefix}{suffix}"


def _oss_problem(name: str, value: Any) -> list[tuple[str, str]]:
    if not isinstance(value, str):
        return [(name, f"must be an oss://<bucket>/<prefix>/ location; got {value!r}")]
    try:
        OssLocation.parse(value)
    except ValueError as error:
        return [(name, str(error))]
    return []


def _placement_problems(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    group, instance_type, resources = props.get("resource_group"), props.get("instance_type"), props.get("resources")
    if group:
        if instance_type:
            found.append(("instance_type", "applies to shared resources only; size pods with resources on a quota"))
        if not isinstance(resources, Mapping) or not is_int(resources.get("cpu")) or resources["cpu"] < 1:
            found.append(("resources", "a dedicated resource group / quota needs resources {cpu, memory_gb[, gpu]}"))
        elif not is_number(resources.get("memory_gb")) or resources["memory_gb"] <= 0:
            found.append(("resources", "memory_gb must be a positive number of GiB"))
        elif resources.get("gpu_type") is not None and not re.fullmatch(
            DLC_GPU_TYPE_PATTERN, str(resources["gpu_type"])
        ):
            found.append(
                (
                    "resources",
                    f"gpu_type must be a DLC GPU type name such as '{DLC_GPU_TYPE_EXAMPLE}' (no spaces); "
                    f"got {resources['gpu_type']!r}",
                )
            )
        if props.get("spot"):
            found.append(("spot", "spot instances come from shared resources; remove resource_group or spot"))
    elif not isinstance(instance_type, str) or not instance_type.startswith("ecs."):
        found.append(
            (
                "instance_type",
                f"shared resources need an ECS instance type such as 'ecs.gn6i-c4g1.xlarge'; got {instance_type!r}",
            )
        )
    if props.get("spot"):
        limit = props.get("spot_discount_limit")
        if not is_number(limit) or not 0 < limit <= 1:
            found.append(
                (
                    "spot_discount_limit",
                    f"spot needs a discount limit above 0 and at most 1 (0.6 = pay at "
                    f"most 60% of the on-demand price); got {limit!r}",
                )
            )
        if props.get("job_type") != "PyTorchJob":
            found.append(("spot", "DLC runs spot jobs on shared resources for PyTorchJob only"))
    return found


def _roles_problems(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    count = props.get("worker_count")
    if not is_int(count) or count < 1:
        found.append(("worker_count", f"must be a whole number of worker pods, at least 1; got {count!r}"))
    roles = props.get("roles")
    if not isinstance(roles, Mapping):
        return [*found, ("roles", f"must map a role to its pod count, e.g. {{'Master': 1}}; got {roles!r}")]
    allowed = EXTRA_ROLES.get(str(props.get("job_type")), frozenset())
    for role, pods in roles.items():
        if role not in allowed:
            choices = ", ".join(sorted(allowed)) or "none"
            found.append(
                ("roles", f"{props.get('job_type')} has no role {role!r} besides Worker; choose from {choices}")
            )
        elif not is_int(pods) or pods < 1:
            found.append(("roles", f"role {role} needs a whole number of pods, at least 1; got {pods!r}"))
    return found


def _budget_problems(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for name in ("checkpoint_interval_minutes", "max_runtime_minutes"):
        value = props.get(name)
        if value is not None and (not is_int(value) or value < 1):
            found.append((name, f"must be a whole number of minutes, at least 1, or left out; got {value!r}"))
    for name, least in (("queue_timeout_minutes", 1), ("max_resubmits", 0)):
        value = props.get(name)
        if not is_int(value) or value < least:
            found.append((name, f"must be a whole number, at least {least}; got {value!r}"))
    poll = props.get("poll_seconds")
    if not is_number(poll) or poll <= 0:
        found.append(("poll_seconds", f"must be a positive number of seconds; got {poll!r}"))
    if props.get("wait") == "completed" and props.get("max_runtime_minutes") is None:
        found.append(("max_runtime_minutes", "wait 'completed' needs a max runtime, so pulumi up cannot wait forever"))
    return found


def _choice_problems(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for name, choices in (("job_type", JOB_TYPES), ("wait", WAITS), ("resubmit_on", RESUBMIT_ON)):
        if props.get(name) not in choices:
            found.append((name, f"must be one of {', '.join(choices)}; got {props.get(name)!r}"))
    for name in ("image", "command", "scope", "display_name"):
        if not isinstance(props.get(name), str) or not props[name].strip():
            found.append((name, "is required"))
    return found


def _mapping_problems(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    env = props.get("env")
    if not isinstance(env, Mapping):
        found.append(("env", f"must map variable names to strings; got {env!r}"))
    else:
        for name in env:
            if not _ENV_NAME.match(str(name)):
                found.append(("env", f"{name!r} is not a valid environment variable name"))
            elif name in RESERVED_ENV:
                found.append(("env", f"{name} is set by pai-mlops itself; use another name"))
    tags = props.get("tags")
    if not isinstance(tags, Mapping):
        found.append(("tags", f"must map tag keys to strings; got {tags!r}"))
    elif RESERVED_TAGS & set(tags):
        found.append(("tags", f"{', '.join(sorted(RESERVED_TAGS & set(tags)))} is reserved for finding the job again"))
    return found


def _location_problems(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    found = _oss_problem("output_uri", props.get("output_uri")) + _oss_problem(
        "checkpoint_uri", props.get("checkpoint_uri")
    )
    sources = props.get("data_sources")
    if not isinstance(sources, Sequence) or isinstance(sources, str):
        return [*found, ("data_sources", f"must list {{uri, mount_path}} objects; got {sources!r}")]
    mounts: list[str] = [CHECKPOINT_MOUNT, OUTPUT_MOUNT]
    for index, source in enumerate(sources):
        where = f"data_sources[{index}]"
        if not isinstance(source, Mapping):
            found.append((where, f"must be an object {{uri, mount_path}}; got {source!r}"))
            continue
        found += _oss_problem(f"{where}.uri", source.get("uri"))
        mount = source.get("mount_path")
        if not isinstance(mount, str) or not mount.startswith("/"):
            found.append((f"{where}.mount_path", f"must be an absolute path such as /mnt/data; got {mount!r}"))
        elif mount.rstrip("/") in mounts:
            found.append((f"{where}.mount_path", f"{mount} is already mounted; give each source its own path"))
        else:
            mounts.append(mount.rstrip("/"))
    code = props.get("code")
    if code is not None and (not isinstance(code, Mapping) or not code.get("source_id")):
        found.append(
            ("code", f"needs source_id (a workspace code source) and optionally commit and branch; got {code!r}")
        )
    return found


def problems(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(input, reason) for every invalid input of a TrainingJob (after :func:`with_defaults`)."""
    return (
        _choice_problems(props)
        + _roles_problems(props)
        + _placement_problems(props)
        + _budget_problems(props)
        + _mapping_problems(props)
        + _location_problems(props)
    )
