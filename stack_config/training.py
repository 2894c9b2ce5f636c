"""Training: ``training.jobs`` (DLC jobs, their resources, data, code and placement) and the rules across their keys."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, Literal

from pydantic import StrictBool, StrictInt, StrictStr
from pydantic.dataclasses import dataclass

from config_problems import MISSING, Problem, key, path_text
from pai_facts import DLC_GPU_TYPE_EXAMPLE, DLC_GPU_TYPE_PATTERN, DSW_GPU_TYPES, SHARED_RESOURCE_GROUP
from pai_facts import EXTRA_ROLES as TRAINING_ROLES
from stack_config.fields import MODEL, Number, VersionId, image_problems, typed


@dataclass(frozen=True, kw_only=True, config=MODEL)
class PodResourcesConfig:
    """One pod's share of a dedicated resource group / quota."""

    cpu: StrictInt = key("Give the vCPUs per pod, e.g. 8", ge=1)
    memory_gb: StrictInt = key("Give the memory per pod in GiB, e.g. 32", ge=1)
    gpu: StrictInt = key("Give the GPUs per pod, or leave it out", default=0, ge=0)
    gpu_type: StrictStr | None = key(
        f"Name the GPU type as the API names it (DLC e.g. '{DLC_GPU_TYPE_EXAMPLE}'; DSW one of "
        f"{', '.join(DSW_GPU_TYPES)}), or leave it out",
        default=None,
    )


@dataclass(frozen=True, kw_only=True, config=MODEL)
class TrainingDataConfig:
    """A folder under the bucket's ``data/``, mounted read-only."""

    path: StrictStr = key(
        "Give a folder under data/, e.g. 'fraud/transactions/'",
        rule="a relative folder such as 'fraud/transactions/'",
        pattern=r"^([A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*/)+$",
    )
    mount_path: StrictStr = key(
        "Give an absolute path under /mnt, e.g. '/mnt/data/transactions'",
        rule="an absolute path under /mnt/",
        pattern=r"^/mnt(/[A-Za-z0-9_.-]+)+$",
    )


COMMIT_PATTERN: Final = r"^[0-9a-f]{7,40}$"


@dataclass(frozen=True, kw_only=True, config=MODEL)
class RepositoryConfig:
    """A Git repository registered once in the workspace (a code source) for notebooks and training runs."""

    repository: StrictStr = key(
        "Give the HTTPS clone URL, e.g. 'https://github.com/acme/fraud-models.git'",
        rule="an https:// Git URL",
        pattern=r"^https://[^\s]+$",
    )
    branch: StrictStr = key("Name the branch", default="main", min_length=1)
    user_name: StrictStr | None = key("Give the Git user for the access token, or leave it out", default=None)


@dataclass(frozen=True, kw_only=True, config=MODEL)
class CodeConfig(RepositoryConfig):
    """The Git repository a run trains from, pinned to a commit."""

    commit: StrictStr = key(
        "Pin the run to a commit (7-40 hex digits), so the model traces back to its code",
        rule="a commit id of 7-40 hex digits",
        pattern=COMMIT_PATTERN,
    )


# The same job types as providers.training_spec.JOB_TYPES (a test keeps the two equal; a Literal needs them spelled).
JobType = Literal["PyTorchJob", "TFJob", "MPIJob", "XGBoostJob", "OneFlowJob", "ElasticBatchJob", "RayJob"]


@dataclass(frozen=True, kw_only=True, config=MODEL)
class TrainingJobConfig:
    """One training run on PAI-DLC: writes ``models/<name>/<run>/``, checkpoints to ``checkpoints/<name>/<run>/``."""

    name: StrictStr = key(
        "Use lower-case letters, digits and underscores, starting with a letter (e.g. 'fraud_scorer')",
        rule="lower-case letters, digits and underscores starting with a letter",
        pattern=r"^[a-z][a-z0-9_]*$",
        max_length=40,
    )
    run: VersionId = key(
        "Name the run, e.g. 'r20261124'; a new run id starts a new run (and can be served as that version)",
        rule="up to 16 lower-case letters, digits and underscores",
    )
    job_type: JobType = key("Write one of PyTorchJob, TFJob, MPIJob, XGBoostJob, OneFlowJob, ElasticBatchJob, RayJob")
    image: StrictStr = key("Give the full training image reference with a tag or digest", min_length=1)
    command: StrictStr = key("Give the command every pod runs, e.g. 'python -m fraud.train'", min_length=1)
    worker_count: StrictInt = key("Set the number of worker pods, e.g. 2", default=1, ge=1)
    roles: dict[StrictStr, StrictInt] = key("Map extra roles to pod counts, e.g. {Master: 1}", default_factory=dict)
    resource_group: StrictStr = key(
        "Write 'shared' for pay-as-you-go resources or give the dedicated resource quota id",
        dev_default=SHARED_RESOURCE_GROUP,
        min_length=1,
    )
    instance_type: StrictStr | None = key(
        "Give an ECS instance type for shared resources, e.g. 'ecs.gn6i-c4g1.xlarge'",
        default=None,
        rule="an ECS instance type such as 'ecs.gn6i-c4g1.xlarge'",
        pattern=r"^ecs\.[a-z0-9]+(-[a-z0-9]+)*\.[a-z0-9]+$",
    )
    resources: PodResourcesConfig | None = key("Give {cpu, memoryGb, gpu, gpuType} per pod", default=None)
    spot: StrictBool = key("Write true to train on spot instances (shared resources, PyTorchJob)", default=False)
    spot_discount_limit: Number | None = key(
        "Set the most to pay as a fraction of the on-demand price, e.g. 0.6", default=None, gt=0, le=1
    )
    checkpoint_interval_minutes: StrictInt | None = key(
        "Set how often the training code checkpoints, in minutes, e.g. 15", default=None, ge=1
    )
    max_runtime_minutes: StrictInt = key("Set the longest one attempt may run, in minutes, e.g. 240", ge=1)
    queue_timeout_minutes: StrictInt = key(
        "Set the longest an attempt may wait for resources, in minutes, e.g. 60", default=60, ge=1
    )
    data: tuple[TrainingDataConfig, ...] = key("List {path, mountPath} folders under data/", default=())
    code: CodeConfig | None = key("Give {repository, commit[, branch, userName]}", default=None)
    wait: Literal["none", "running", "completed"] = key(
        "Write completed (resume after preemption while pulumi up waits), running or none", default="completed"
    )
    max_resubmits: StrictInt = key("Set how many times a failed attempt may be resubmitted, e.g. 3", default=0, ge=0)
    resubmit_on: Literal["preemption", "any_failure"] = key(
        "Write preemption (spot reclaimed) or any_failure", default="preemption"
    )
    env: dict[StrictStr, StrictStr] = key("Map variable names to string values; keep secrets out", default_factory=dict)
    description: StrictStr = key("Shorten the description to 256 characters", default="", max_length=256)
    tags: dict[StrictStr, StrictStr] = key("Map tag keys to string values", default_factory=dict)
    delete_records: StrictBool = key(
        "Write true to delete the job records on pulumi destroy; false keeps them for audit", default=False
    )

    @property
    def dedicated(self) -> bool:
        return self.resource_group != SHARED_RESOURCE_GROUP


@dataclass(frozen=True, kw_only=True, config=MODEL)
class TrainingConfig:
    jobs: tuple[TrainingJobConfig, ...] = key("List the training runs", default=())


def _gpu_type(resources: Any) -> Any:
    return resources.get("gpuType") if isinstance(resources, dict) else None


def dlc_gpu_type_problems(resources: Any, where: str) -> list[Problem]:
    """DLC's ``ResourceConfig.GPUType`` form: the struct doc's example is 'Tesla-V100-16G' (no spaces)."""
    gpu_type = _gpu_type(resources)
    if gpu_type is None or (isinstance(gpu_type, str) and re.fullmatch(DLC_GPU_TYPE_PATTERN, gpu_type)):
        return []
    return [
        Problem(
            f"{where}.resources",
            "gpuType",
            f"is not a DLC GPU type name (the ResourceConfig doc's example is '{DLC_GPU_TYPE_EXAMPLE}': "
            "hyphen-separated, no spaces)",
            gpu_type,
            f"Write the quota's GPU type as DLC names it, e.g. '{DLC_GPU_TYPE_EXAMPLE}', or leave gpuType out",
        )
    ]


def dsw_gpu_type_problems(resources: Any, where: str) -> list[Problem]:
    """DSW's ``RequestedResource.GPUType`` is one of the SDK's enumerated values."""
    gpu_type = _gpu_type(resources)
    if gpu_type is None or gpu_type in DSW_GPU_TYPES:
        return []
    return [
        Problem(
            f"{where}.resources",
            "gpuType",
            f"is not one of DSW's GPU types {', '.join(DSW_GPU_TYPES)}",
            gpu_type,
            "Write e.g. 'A10' or 'V100', or leave gpuType out",
        )
    ]


def _training_placement_problems(job: Mapping[str, Any], where: str) -> list[Problem]:
    group = typed(job, "resourceGroup", str)
    if group is None:
        return []
    problems: list[Problem] = []
    if group == SHARED_RESOURCE_GROUP:
        if job.get("instanceType") is None:
            problems.append(
                Problem(
                    where,
                    "instanceType",
                    "is required on shared resources",
                    MISSING,
                    "Give an ECS instance type, e.g. 'ecs.gn6i-c4g1.xlarge'",
                )
            )
        if job.get("resources") is not None:
            problems.append(
                Problem(
                    where,
                    "resources",
                    "applies to a dedicated resource quota only",
                    job["resources"],
                    "Remove it; on shared resources instanceType sizes each pod",
                )
            )
        return problems
    if job.get("instanceType") is not None:
        problems.append(
            Problem(
                where,
                "instanceType",
                "applies to shared resources only",
                job["instanceType"],
                "Remove it and size pods with resources {cpu, memoryGb} on the quota",
            )
        )
    if job.get("resources") is None:
        problems.append(
            Problem(
                where,
                "resources",
                "is required on a dedicated resource quota",
                MISSING,
                "Give resources {cpu, memoryGb[, gpu, gpuType]} per pod",
            )
        )
    problems += dlc_gpu_type_problems(job.get("resources"), where)
    if job.get("spot") is True:
        problems.append(
            Problem(
                where,
                "spot",
                "needs shared resources",
                True,
                "Use resourceGroup 'shared' with an instanceType, or turn spot off on the quota",
            )
        )
    return problems


def _training_job_problems(job: Mapping[str, Any], where: str) -> list[Problem]:
    problems = _training_placement_problems(job, where)
    job_type = typed(job, "jobType", str)
    if job.get("spot") is True:
        if job.get("spotDiscountLimit") is None:
            problems.append(
                Problem(
                    where,
                    "spotDiscountLimit",
                    "is required with spot",
                    MISSING,
                    "Set the most to pay as a fraction of the on-demand price, e.g. 0.6",
                )
            )
        if job_type is not None and job_type != "PyTorchJob":
            problems.append(
                Problem(
                    where,
                    "spot",
                    f"is not offered for {job_type} on shared resources (PyTorchJob only)",
                    True,
                    "Turn spot off, or train with PyTorchJob",
                )
            )
    roles = typed(job, "roles", dict)
    allowed = TRAINING_ROLES.get(job_type or "", frozenset())
    for role in roles or {}:
        if job_type in TRAINING_ROLES and role not in allowed:
            problems.append(
                Problem(
                    where,
                    "roles",
                    f"names {role!r}, which {job_type} does not have",
                    roles,
                    f"Use Worker (workerCount) and {', '.join(sorted(allowed))}",
                )
            )
    reserved = sorted(name for name in typed(job, "env", dict) or {} if str(name).startswith("PAI_MLOPS_"))
    if reserved:
        problems.append(
            Problem(
                where,
                "env",
                f"sets {', '.join(reserved)}, which pai-mlops sets itself",
                reserved,
                "Rename the variables; PAI_MLOPS_* tell the training code where to read and write",
            )
        )
    mounts: dict[str, int] = {}
    for index, source in enumerate(typed(job, "data", list) or []):
        mount = source.get("mountPath") if isinstance(source, dict) else None
        if not isinstance(mount, str):
            continue
        top = mount.rstrip("/")
        if top in ("/mnt/output", "/mnt/checkpoints") or top in mounts:
            taken = f"data[{mounts[top]}]" if top in mounts else "pai-mlops (models or checkpoints)"
            problems.append(
                Problem(
                    f"{where}.data[{index}]",
                    "mountPath",
                    f"is already used by {taken}",
                    mount,
                    "Mount every data folder at its own path under /mnt, e.g. /mnt/data/<name>",
                )
            )
        mounts.setdefault(top, index)
    problems += image_problems(typed(job, "image", str), where)
    return problems


def training_problems(raw: Mapping[str, Any]) -> list[Problem]:
    training = raw.get("training")
    jobs = training.get("jobs") if isinstance(training, dict) else None
    if not isinstance(jobs, list):
        return []
    problems: list[Problem] = []
    first_use: dict[str, int] = {}
    for index, job in enumerate(jobs):
        if not isinstance(job, dict):
            continue
        where = path_text(("training", "jobs", index))
        name = job.get("name")
        if isinstance(name, str) and name in first_use:
            problems.append(
                Problem(
                    where,
                    "name",
                    f"is already used by jobs[{first_use[name]}]",
                    name,
                    "Give every training job its own name; change run to start a new run of the same job",
                )
            )
        elif isinstance(name, str):
            first_use[name] = index
        problems += _training_job_problems(job, where)
    return problems
