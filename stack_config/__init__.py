"""Typed stack configuration: the one place that reads ``pulumi.Config``.

``load_stack_config()`` reads the ``pai-mlops:*`` keys (and ``alicloud:region``) of the current
stack into frozen dataclasses. Bad input fails here, before any resource is registered, with one
:class:`~config_problems.StackConfigError` listing every problem. Keys with a ``dev_default`` are
optional in ``dev`` only: a ``prod`` stack must set them explicitly, so it never runs on a dev
default by accident.
"""

from __future__ import annotations

import difflib
import itertools
import json
import re
import zoneinfo
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Annotated, Any, Final, Literal, get_args, get_type_hints

import pulumi
from pydantic import ConfigDict, Field, Strict, StrictBool, StrictInt, StrictStr, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel
from pydantic.dataclasses import dataclass

from config_cron import EAS_CRON_SCALER, FC_TIMER, cron_problem
from config_problems import (
    HIDDEN,
    MISSING,
    PROJECT,
    Problem,
    StackConfigError,
    holds_credential,
    key,
    path_text,
    problems_from,
    split_loc,
    with_dev_defaults,
)
from pai_facts import (
    DEDICATED_GROUP,
    DLC_GPU_TYPE_EXAMPLE,
    DLC_GPU_TYPE_PATTERN,
    DSW_GPU_TYPES,
    EAS_NAME_MAX,
    KNOWN_PROCESSORS,
    NOTEBOOK_NAME_MAX,
    REGISTRY_VERSION,
    RESERVED_CONTAINER_PORTS,
    SHARED_RESOURCE_GROUP,
    contract_major,
    eas_service_name,
    registry_version,
)
from pai_facts import EXTRA_ROLES as TRAINING_ROLES

__all__ = [
    "AlarmConfig",
    "CodeConfig",
    "ContainerConfig",
    "CronScaleConfig",
    "MetricsConfig",
    "ModelServiceConfig",
    "NotebookConfig",
    "NotebookInstanceConfig",
    "PipelineConfig",
    "PipelineTriggerConfig",
    "PodResourcesConfig",
    "RegistryConfig",
    "RepositoryConfig",
    "RetrainingConfig",
    "RolloutConfig",
    "ServingConfig",
    "StackConfig",
    "StackConfigError",
    "StorageConfig",
    "TrainingConfig",
    "TrainingDataConfig",
    "TrainingJobConfig",
    "WorkspaceConfig",
    "load_stack_config",
    "parse_stack_config",
    "trigger_names",
]

# Config keys are camelCase in YAML; Python code (tests, components) may construct by field name.
_MODEL: Final = ConfigDict(extra="forbid", alias_generator=to_camel, validate_by_name=True, validate_by_alias=True)
Number = Annotated[float, Strict()]


VersionId = Annotated[StrictStr, Field(pattern=r"^[a-z0-9][a-z0-9_]*$", max_length=16)]


@dataclass(frozen=True, kw_only=True, config=_MODEL)
class StorageConfig:
    """The artifact bucket: data, models and checkpoints under one prefix each."""

    bucket_name: StrictStr = key(
        "Use 3-63 lower-case letters, digits or hyphens, starting and ending with a letter or digit, "
        "unique across all of OSS (e.g. 'acme-pai-mlops-dev')",
        rule="a valid OSS bucket name",
        pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$",
    )
    kms_encryption: StrictBool = key(
        "Write true to encrypt with a rotating KMS key, false for OSS-managed AES256", default=True
    )
    checkpoint_retention_days: StrictInt = key(
        "Set how many days training checkpoints are kept, e.g. 30", dev_default=30, ge=1
    )
    access_log_retention_days: StrictInt = key("Set how many days access logs are kept, e.g. 365", default=365, ge=1)


@dataclass(frozen=True, kw_only=True, config=_MODEL)
class WorkspaceConfig:
    """The PAI workspace (and the resource group it lives in)."""

    name: StrictStr = key(
        "Use 3-23 letters, digits or underscores, starting with a letter (e.g. 'mlops_dev')",
        rule="3-23 letters, digits or underscores starting with a letter",
        pattern=r"^[A-Za-z][A-Za-z0-9_]{2,22}$",
    )
    description: StrictStr = key("Shorten the description to 80 characters", default="", max_length=80)


@dataclass(frozen=True, kw_only=True, config=_MODEL)
class ContainerConfig:
    """A custom serving image."""

    image: StrictStr = key("Give the full image reference with a tag or digest", min_length=1)
    port: StrictInt = key("Use the port your server listens on, 1-65535 but not 8080 or 9090", ge=1, le=65535)
    command: StrictStr = key("Give the command that starts the server, e.g. 'python serve.py'", min_length=1)


@dataclass(frozen=True, kw_only=True, config=_MODEL)
class RolloutConfig:
    """How traffic moves to a new live version: percentage steps, each baked and gated."""

    steps: tuple[StrictInt, ...] = key(
        "List ascending traffic percentages ending at 100, e.g. [10, 50, 100]", default=(10, 50, 100), min_length=1
    )
    bake_seconds: StrictInt = key(
        "Set the seconds each step is watched before the next, e.g. 300", dev_default=60, ge=0
    )
    max_p95_latency_ms: Number = key(
        "Set the P95 latency in milliseconds above which a step is reverted, e.g. 250", dev_default=1000.0, gt=0
    )
    max_error_rate: Number = key(
        "Set the error ratio (0-1) above which a step is reverted, e.g. 0.01", dev_default=0.05, ge=0, le=1
    )
    check_interval_seconds: StrictInt = key(
        "Set how often the metrics are read during a bake, in seconds, e.g. 30", default=30, ge=1
    )
    min_requests: StrictInt = key("Set the fewest requests a bake needs to be conclusive, e.g. 100", default=50, ge=0)
    no_data: Literal["fail", "proceed"] = key(
        "Write fail (revert when a bake sees too little traffic) or proceed", default="fail"
    )
    max_bake_extensions: StrictInt = key("Set how many times an inconclusive bake is extended, e.g. 2", default=2, ge=0)
    rollback_without_bake: StrictBool = key(
        "Write true to go back to a previously live version at once, false to bake it like a release", default=True
    )
    shadow_percent: StrictInt = key(
        "Set the percentage of live requests mirrored to the new version before the first step, or 0",
        default=0,
        ge=0,
        le=100,
    )
    shadow_seconds: StrictInt = key("Set how long the shadow phase lasts, in seconds", default=0, ge=0)
    allow_breaking_change: StrictBool = key(
        "Write true only if every client handles both API contracts of a release", default=False
    )


@dataclass(frozen=True, kw_only=True, config=_MODEL)
class CronScaleConfig:
    """A scheduled instance count for a known traffic pattern."""

    name: StrictStr = key("Name the schedule, e.g. 'weekday-morning'", pattern=r"^[a-z0-9][a-z0-9-]*$")
    schedule: StrictStr = key(
        "Give 6 cron fields: second minute hour day month weekday, e.g. '0 0 8 * * 1-5'",
        rule="6 cron fields (second minute hour day month weekday)",
        pattern=r"^\S+( \S+){5}$",
    )
    target_size: StrictInt = key("Set the instances to run from then on, e.g. 4", ge=0)


@dataclass(frozen=True, kw_only=True, config=_MODEL)
class ModelServiceConfig:
    """One served model: every listed version is its own EAS service in group ``name``."""

    name: StrictStr = key(
        "Use lower-case letters, digits and underscores, starting with a letter (e.g. 'fraud_scorer')",
        rule="lower-case letters, digits and underscores starting with a letter",
        pattern=r"^[a-z][a-z0-9_]*$",
    )
    processor: StrictStr | None = key("Name a built-in EAS processor, or use 'container' instead", default=None)
    container: ContainerConfig | None = key("Give {image, port, command}, or use 'processor' instead", default=None)
    instance_type: StrictStr | None = key(
        "Give an ECS instance type for the shared resource group, e.g. 'ecs.c7.large'",
        default=None,
        rule="an ECS instance type such as 'ecs.c7.large'",
        pattern=r"^ecs\.[a-z0-9]+(-[a-z0-9]+)*\.[a-z0-9]+$",
    )
    resource_group: StrictStr = key(
        "Write 'shared' or the id of a dedicated EAS resource group ('eas-r-...')",
        dev_default=SHARED_RESOURCE_GROUP,
        rule="'shared' or a dedicated group id 'eas-r-...'",
        pattern=rf"^({SHARED_RESOURCE_GROUP}|{DEDICATED_GROUP.pattern})$",
    )
    cpu: StrictInt | None = key("Give the vCPUs per instance on the dedicated group, e.g. 4", default=None, ge=1)
    memory_mb: StrictInt | None = key("Give the memory per instance in MB on the dedicated group", default=None, ge=128)
    gpu: StrictInt | None = key(
        "Give the GPUs per instance on the dedicated group, or leave it out", default=None, ge=0
    )
    min_instances: StrictInt = key(
        "Set the fewest instances the autoscaler keeps: 0 lets dev scale to zero", dev_default=0, ge=0
    )
    max_instances: StrictInt = key("Set the most instances the autoscaler may run, at least 1", ge=1)
    qps_per_instance: Number = key("Set the requests per second one instance handles before scaling out", gt=0)
    scale_in_cooldown_seconds: StrictInt = key(
        "Set the seconds to wait before removing instances, e.g. 300", default=300, ge=0
    )
    cpu_percent: StrictInt | None = key(
        "Set a CPU utilisation target per instance (1-100) to scale on as well, or leave it out",
        default=None,
        ge=1,
        le=100,
    )
    scale_up_window_seconds: StrictInt = key(
        "Set the seconds load must stay high before instances are added, e.g. 0", default=0, ge=0
    )
    zero_grace_seconds: StrictInt = key(
        "Set the idle seconds before the last instance goes (minInstances 0), e.g. 600", default=600, ge=0
    )
    activation_replicas: StrictInt = key(
        "Set the instances the first request after zero starts, e.g. 1", default=1, ge=1
    )
    cron: tuple[CronScaleConfig, ...] = key("List {name, schedule, targetSize} scheduled sizes", default=())
    contracts: dict[StrictStr, StrictStr] = key(
        "Map every version to its API contract version, e.g. {v6: v1.4, v7: v2.0}", default_factory=dict
    )
    code_repository: StrictStr | None = key(
        "Give the Git repository the versions were trained from, e.g. 'https://github.com/acme/fraud-models.git'",
        default=None,
        rule="an https:// Git URL",
        pattern=r"^https://[^\s]+$",
    )
    code_commits: dict[StrictStr, StrictStr] = key(
        "Map every version not trained by a run in pai-mlops:training to its code commit, e.g. {v6: 4be2c1d9}",
        default_factory=dict,
    )
    versions: tuple[VersionId, ...] = key(
        "List the deployed versions, lower-case letters, digits and underscores, e.g. ['v6', 'v7']",
        rule="up to 16 lower-case letters, digits and underscores",
        min_length=1,
    )
    live: StrictStr = key("Name the version that takes traffic; it must be one of 'versions'")
    rollout: RolloutConfig = key("Give {steps, bakeSeconds, maxP95LatencyMs, maxErrorRate}", dev_default={})
    registry_versions: dict[StrictStr, StrictStr] = key(
        "Map a version id to its model registry version (major.minor.patch), e.g. {v6: 1.6.0}; v<N> maps to N.0.0",
        default_factory=dict,
    )
    # terraform's pai.Service waits 5 minutes; GPU and custom-image services often need longer (fidelity-audit T2).
    ready_timeout_minutes: StrictInt = key(
        "Set the minutes a version may take to reach Running, e.g. 20 (GPU or custom images may need 30+)",
        default=20,
        ge=1,
        le=1440,
    )

    @property
    def dedicated(self) -> bool:
        return self.resource_group != SHARED_RESOURCE_GROUP

    def eas_service_name(self, version: str) -> str:
        return eas_service_name(self.name, version)

    def registry_version(self, version: str) -> str:
        return registry_version(version, self.registry_versions)


@dataclass(frozen=True, kw_only=True, config=_MODEL)
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


@dataclass(frozen=True, kw_only=True, config=_MODEL)
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


@dataclass(frozen=True, kw_only=True, config=_MODEL)
class RepositoryConfig:
    """A Git repository registered once in the workspace (a code source) for notebooks and training runs."""

    repository: StrictStr = key(
        "Give the HTTPS clone URL, e.g. 'https://github.com/acme/fraud-models.git'",
        rule="an https:// Git URL",
        pattern=r"^https://[^\s]+$",
    )
    branch: StrictStr = key("Name the branch", default="main", min_length=1)
    user_name: StrictStr | None = key("Give the Git user for the access token, or leave it out", default=None)


@dataclass(frozen=True, kw_only=True, config=_MODEL)
class CodeConfig(RepositoryConfig):
    """The Git repository a run trains from, pinned to a commit."""

    commit: StrictStr = key(
        "Pin the run to a commit (7-40 hex digits), so the model traces back to its code",
        rule="a commit id of 7-40 hex digits",
        pattern=COMMIT_PATTERN,
    )


# The same job types as providers.training_spec.JOB_TYPES (a test keeps the two equal; a Literal needs them spelled).
JobType = Literal["PyTorchJob", "TFJob", "MPIJob", "XGBoostJob", "OneFlowJob", "ElasticBatchJob", "RayJob"]


@dataclass(frozen=True, kw_only=True, config=_MODEL)
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


@dataclass(frozen=True, kw_only=True, config=_MODEL)
class TrainingConfig:
    jobs: tuple[TrainingJobConfig, ...] = key("List the training runs", default=())


@dataclass(frozen=True, kw_only=True, config=_MODEL)
class NotebookInstanceConfig:
    """One data scientist's DSW notebook."""

    name: StrictStr = key(
        "Use lower-case letters, digits and underscores, starting with a letter (e.g. 'alice')",
        rule="lower-case letters, digits and underscores starting with a letter",
        pattern=r"^[a-z][a-z0-9_]*$",
    )
    resource_group: StrictStr = key(
        "Write 'shared' for pay-as-you-go resources or give the dedicated resource group id",
        dev_default=SHARED_RESOURCE_GROUP,
        min_length=1,
    )
    instance_type: StrictStr | None = key(
        "Give an ECS type: a CPU type for tabular work (e.g. 'ecs.g6.xlarge'), a GPU type for deep learning "
        "(e.g. 'ecs.gn6i-c4g1.xlarge')",
        default=None,
        rule="an ECS instance type such as 'ecs.g6.xlarge'",
        pattern=r"^ecs\.[a-z0-9]+(-[a-z0-9]+)*\.[a-z0-9]+$",
    )
    resources: PodResourcesConfig | None = key("Give {cpu, memoryGb, gpu, gpuType} on a dedicated group", default=None)
    image_url: StrictStr | None = key("Give a custom image with a tag, or use imageId", default=None)
    image_id: StrictStr | None = key("Give a built-in DSW image id, or use imageUrl", default=None)
    idle_shutdown_minutes: StrictInt = key(
        "Set the idle minutes after which the notebook stops (policy: 240 at most), e.g. 60", dev_default=60, ge=1
    )
    env: dict[StrictStr, StrictStr] = key("Map variable names to values; keep secrets out", default_factory=dict)


@dataclass(frozen=True, kw_only=True, config=_MODEL)
class NotebookConfig:
    """DSW notebooks with the bucket's data/ mounted and the team's repository attached."""

    code: RepositoryConfig | None = key("Give {repository, branch} to clone into every notebook", default=None)
    data_mount_path: StrictStr = key(
        "Give where data/ is mounted, e.g. /mnt/data", default="/mnt/data", pattern=r"^/mnt(/[A-Za-z0-9_.-]+)+$"
    )
    instances: tuple[NotebookInstanceConfig, ...] = key("List the notebooks, one per person", default=())


@dataclass(frozen=True, kw_only=True, config=_MODEL)
class PipelineStepConfig:
    """One container step of a retraining pipeline (an inline PAI Flow container, on the public resource group)."""

    image: StrictStr = key("Give the step's image with a tag or digest", min_length=1)
    command: StrictStr = key("Give the command the step runs", min_length=1)
    # Refused when set (see _pipeline_step_problems); kept as a field so the error names it.
    instance_type: StrictStr | None = key("Remove it: a pipeline's container step has no instance type", default=None)


@dataclass(frozen=True, kw_only=True, config=_MODEL)
class EvaluationStepConfig(PipelineStepConfig):
    """The evaluation gate: the step fails (and the pipeline stops before deploying) below ``minimum``."""

    metric: StrictStr = key("Name the metric the evaluation reports, e.g. 'auc'", min_length=1)
    minimum: Number = key("Set the lowest acceptable value of the metric, e.g. 0.9")


@dataclass(frozen=True, kw_only=True, config=_MODEL)
class PipelineTriggerConfig:
    """What starts a retraining run without a person: a schedule, new data, or both (one function, two triggers)."""

    schedule: StrictStr | None = key(
        "Give 6 cron fields: second minute hour day month weekday, e.g. '0 0 3 * * *' (03:00 daily), or '@every 24h'",
        default=None,
        rule="6 cron fields (second minute hour day month weekday) or '@every <n>m|h'",
        pattern=r"^(\S+( \S+){5}|@every [1-9][0-9]*[mh])$",
    )
    timezone: StrictStr = key("Give an IANA time zone for the schedule, e.g. 'Asia/Shanghai'", default="UTC")
    data_marker: StrictStr | None = key(
        "Give the object under data/ whose writing starts a run, e.g. 'data/transactions/_SUCCESS'",
        default=None,
        rule="an object key under data/, e.g. 'data/transactions/_SUCCESS'",
        pattern=r"^data/([A-Za-z0-9_.=-]+/)*[A-Za-z0-9_.=-]+$",
    )


@dataclass(frozen=True, kw_only=True, config=_MODEL)
class RetrainingConfig:
    """A retraining DAG: preprocess → train (a configured training job, as a DLC job) → evaluate."""

    name: StrictStr = key(
        "Use lower-case letters, digits and underscores, starting with a letter (e.g. 'fraud_retraining')",
        rule="lower-case letters, digits and underscores starting with a letter",
        pattern=r"^[a-z][a-z0-9_]*$",
    )
    model: StrictStr = key("Name the served model the pipeline retrains (one of serving.services)")
    training: StrictStr = key("Name the training job whose settings train the model (one of training.jobs)")
    preprocess: PipelineStepConfig = key("Give {image, command, instanceType}")
    evaluate: EvaluationStepConfig = key("Give {image, command, instanceType, metric, minimum}")
    deploy: StrictBool = key("Leave it out: serve a trained run by adding it to the service's versions", default=False)
    trigger: PipelineTriggerConfig | None = key(
        "Give {schedule, timezone} and/or {dataMarker} to start runs automatically, or leave it out", default=None
    )


@dataclass(frozen=True, kw_only=True, config=_MODEL)
class PipelineConfig:
    """Retraining DAGs defined in code, registered as PAI pipelines."""

    provider: StrictStr | None = key(
        "Give the Alibaba Cloud account UID that owns the pipelines (PAI Flow's metadata.provider)",
        default=None,
        rule="an account UID of digits",
        pattern=r"^[0-9]{6,20}$",
    )
    retraining: tuple[RetrainingConfig, ...] = key("List the retraining pipelines", default=())


@dataclass(frozen=True, kw_only=True, config=_MODEL)
class MetricsConfig:
    """Where release gates read the new version's latency and error ratio."""

    source: Literal["cloudmonitor", "prometheus"] = key("Write cloudmonitor or prometheus", default="cloudmonitor")
    namespace: StrictStr = key(
        "Give the CloudMonitor namespace of EAS metrics (unconfirmed; acs_pai_eas is the usual one)",
        default="acs_pai_eas",
    )
    dimension: StrictStr = key("Give the CloudMonitor dimension that names the service", default="serviceName")
    latency_metric: StrictStr = key("Name the P95 latency metric", default="TP95ResponseTime")
    error_metric: StrictStr = key("Name the error-ratio metric", default="5xxResponseRatio")
    qps_metric: StrictStr = key("Name the request-rate metric", default="QueryPerSecondTotal")
    endpoint: StrictStr | None = key(
        "Give the Prometheus HTTP API base URL, e.g. 'https://prometheus.example.com'",
        default=None,
        rule="an http(s):// URL",
        pattern=r"^https?://\S+$",
    )


@dataclass(frozen=True, kw_only=True, config=_MODEL)
class ServingConfig:
    services: tuple[ModelServiceConfig, ...] = key("List the served models", default=())
    metrics: MetricsConfig = key(
        "Give {source, namespace, dimension} or {source: prometheus, endpoint}", default=MetricsConfig()
    )
    retain_pai_services: StrictBool = key(
        "Write true for the one `pulumi up` that moves a stack off pai.Service (README 'Upgrading'), then remove it",
        default=False,
    )


# Container Registry hosts (https://www.alibabacloud.com/help/en/acr/): Personal Edition registry.<region>.aliyuncs.com
# with the VPC endpoint registry-vpc.<region>.aliyuncs.com; an Enterprise Edition instance <name>-registry.<region>.
# cr.aliyuncs.com with the VPC domain <name>-registry-vpc.<region>.cr.aliyuncs.com. EAS pulls over the VPC address
# ("use the VPC address of the image", https://alibabacloud.com/help/en/pai/user-guide/deploy-a-model-service-by-
# using-a-custom-image), and so do Designer custom components (registry-vpc.<region>.aliyuncs.com, fidelity-audit P5).
_PERSONAL_HOST: Final = re.compile(r"^registry(-vpc)?\.([a-z0-9-]+)\.aliyuncs\.com$")
_ENTERPRISE_HOST: Final = re.compile(r"^([a-z0-9][a-z0-9-]*)-registry(-vpc)?\.([a-z0-9-]+)\.cr\.aliyuncs\.com$")


def vpc_registry_host(host: str) -> str:
    """The VPC host of a registry host (itself for a host of neither known form)."""
    if match := _PERSONAL_HOST.match(host):
        return f"registry-vpc.{match.group(2)}.aliyuncs.com"
    if match := _ENTERPRISE_HOST.match(host):
        return f"{match.group(1)}-registry-vpc.{match.group(3)}.cr.aliyuncs.com"
    return host


@dataclass(frozen=True, kw_only=True, config=_MODEL)
class RegistryConfig:
    """The stack's private Container Registry namespace and repositories for custom images."""

    host: StrictStr = key(
        "Give the registry host, e.g. 'registry.cn-hangzhou.aliyuncs.com' (Personal Edition) or "
        "'<instance>-registry.cn-hangzhou.cr.aliyuncs.com' (Enterprise Edition)",
        rule="a host name such as 'registry.cn-hangzhou.aliyuncs.com'",
        pattern=r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$",
    )
    namespace: StrictStr = key(
        "Give the namespace, e.g. 'acme-ml'",
        rule="2 to 30 lower-case letters, digits, '-' or '_', starting and ending with a letter or digit",
        pattern=r"^[a-z0-9][a-z0-9_-]{0,28}[a-z0-9]$",
    )
    instance_id: StrictStr | None = key(
        "Give the Enterprise Edition instance id ('cri-…'), or leave it out for the Personal Edition",
        default=None,
        rule="an instance id such as 'cri-abc123'",
        pattern=r"^cri-[a-z0-9]+$",
    )
    repositories: tuple[Annotated[StrictStr, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}[a-z0-9]$")], ...] = key(
        "List the image repositories, e.g. ['fraud-serve', 'fraud-train']", default=()
    )

    @property
    def vpc_host(self) -> str:
        """The host EAS and DLC pull from inside Alibaba Cloud: :func:`vpc_registry_host` of ``host``."""
        return vpc_registry_host(self.host)


@dataclass(frozen=True, kw_only=True, config=_MODEL)
class AlarmConfig:
    """CloudMonitor alarms on production: serving latency and errors, training GPU use."""

    contact_group: StrictStr | None = key(
        "Name the CloudMonitor contact group alarms notify, e.g. 'ml-oncall'", default=None, min_length=1
    )
    contacts: tuple[StrictStr, ...] = key(
        "List the CloudMonitor contact names in the group (create contacts in the console)", default=()
    )
    period_seconds: StrictInt = key("Set the metric period in seconds, e.g. 60", default=60, ge=60)
    evaluation_periods: StrictInt = key(
        "Set how many periods in a row breach before an alarm fires, e.g. 3", default=3, ge=1
    )
    gpu_utilization_min: Number = key("Set the GPU utilisation (%) below which training is flagged", default=60)
    gpu_sustained_minutes: StrictInt = key(
        "Set for how long GPU use stays low before the training alarm fires, e.g. 15", default=15, ge=5
    )
    training_namespace: StrictStr = key(
        "Give the CloudMonitor namespace of DLC job metrics (unconfirmed; acs_pai_dlc is the usual one)",
        default="acs_pai_dlc",
    )
    gpu_metric: StrictStr = key(
        "Name the DLC GPU-utilisation metric, upper-snake as DLC's metrics are (unconfirmed: checked at pulumi up)",
        default="JOB_GPU_ACCELERATOR_DUTTY_UTIL",  # sic: the name a third-party DLC client queries (audit D10)
        pattern=r"^[A-Z][A-Z0-9_]*$",
        rule="an upper-snake metric name such as 'JOB_GPU_ACCELERATOR_DUTTY_UTIL'",
    )
    training_dimension: StrictStr = key(
        "Give the CloudMonitor dimension of DLC job metrics that names the workspace (unconfirmed)",
        default="workspaceId",
    )


@dataclass(frozen=True, kw_only=True, config=_MODEL)
class StackConfig:
    """Everything the program needs from one stack's ``Pulumi.<stack>.yaml``."""

    environment: Literal["dev", "prod"] = key("Write dev or prod")
    owner: StrictStr = key(
        "Name the owning team or person; it becomes the 'owner' tag",
        min_length=1,
        max_length=128,
        rule="text with no space at either end",
        pattern=r"^\S(.*\S)?$",
    )
    cost_center: StrictStr = key(
        "Give the cost centre; it becomes the 'cost-center' tag",
        min_length=1,
        max_length=128,
        rule="text with no space at either end",
        pattern=r"^\S(.*\S)?$",
    )
    region: StrictStr = key(
        "Run `pulumi config set alicloud:region <region>`, e.g. cn-hangzhou",
        rule="an Alibaba Cloud region id such as 'cn-hangzhou'",
        namespace="alicloud",
        pattern=r"^[a-z]{2}-[a-z]+(-[0-9]+)?$",
    )
    storage: StorageConfig = key("Give {bucketName, kmsEncryption, checkpointRetentionDays}")
    workspace: WorkspaceConfig = key("Give {name, description}")
    serving: ServingConfig = key("Give {services: [...]}", default=ServingConfig())
    training: TrainingConfig = key("Give {jobs: [...]}", default=TrainingConfig())
    notebook: NotebookConfig = key("Give {code, instances: [...]}", default=NotebookConfig())
    pipeline: PipelineConfig = key("Give {provider, retraining: [...]}", default=PipelineConfig())
    registry: RegistryConfig | None = key("Give {host, namespace, repositories: [...]}", default=None)
    alarms: AlarmConfig = key("Give {contactGroup, contacts: [...]}", default=AlarmConfig())
    allow_any_stack_name: StrictBool = key(
        "Write true only if this stack's name deliberately does not say its environment (see 'environment')",
        default=False,
    )

    @property
    def protect_stateful(self) -> bool:
        """Whether buckets and keys are protected from deletion (prod only)."""
        return self.environment == "prod"

    @property
    def name_prefix(self) -> str:
        """Prefix of account-wide names (RAM roles and policies): one stack per environment per account."""
        return f"{PROJECT}-{self.environment}"

    @property
    def tags(self) -> dict[str, str]:
        """The tags every taggable resource of the stack carries."""
        return {"environment": self.environment, "owner": self.owner, "cost-center": self.cost_center}


def _typed(raw: Mapping[str, Any], name: str, kind: type) -> Any:
    """``raw[name]`` if it is present and of ``kind`` (bools are not ints), else None."""
    value = raw.get(name)
    if kind is int and isinstance(value, bool):
        return None
    return value if isinstance(value, kind) else None


def _pinned(image: str) -> bool:
    if "@sha256:" in image:
        return True
    last = image.rsplit("/", 1)[-1]
    return ":" in last and last.rsplit(":", 1)[1] not in ("", "latest")


PIN_IMAGE: Final = "Pin the image to a version tag or '@sha256:' digest"
RAM_NAME_MAX: Final = 64
TRIGGER_FIX: Final = "Give schedule (e.g. '0 0 3 * * *') and/or dataMarker (e.g. 'data/transactions/_SUCCESS')"


def _image_problems(image: Any, where: str, fix: str = f"{PIN_IMAGE}; never 'latest' or no tag") -> list[Problem]:
    """An image given by a movable reference (no tag, ``latest``): what runs could change under the same config."""
    if isinstance(image, str) and image and not _pinned(image):
        return [Problem(where, "image", "must name an immutable tag or digest", image, fix)]
    return []


def _container_problems(container: Mapping[str, Any], where: str) -> list[Problem]:
    problems = _image_problems(_typed(container, "image", str), where)
    port = _typed(container, "port", int)
    if port in RESERVED_CONTAINER_PORTS:
        problems.append(
            Problem(where, "port", "is reserved by the EAS engine", port, "Listen on another port, e.g. 8000")
        )
    return problems


def _rollout_problems(rollout: Mapping[str, Any], where: str) -> list[Problem]:
    steps = _typed(rollout, "steps", list)
    if not steps or not all(isinstance(step, int) and not isinstance(step, bool) for step in steps):
        return []  # missing, empty or mistyped steps are reported by field validation
    problems = []
    if any(step < 1 or step > 100 for step in steps):
        problems.append(
            Problem(
                where, "steps", "must be percentages from 1 to 100", steps, "Use whole percentages, e.g. [10, 50, 100]"
            )
        )
    if any(later <= earlier for earlier, later in itertools.pairwise(steps)):
        problems.append(
            Problem(
                where,
                "steps",
                "must ascend strictly",
                steps,
                "Order the percentages from smallest to largest without repeats",
            )
        )
    if steps[-1] != 100:
        problems.append(
            Problem(
                where,
                "steps",
                "must end at 100",
                steps,
                "Make the last step 100 so the new version ends up with all traffic",
            )
        )
    return problems


def _placement_problems(svc: Mapping[str, Any], where: str) -> list[Problem]:
    group = _typed(svc, "resourceGroup", str)
    instance_type = svc.get("instanceType")
    if group == SHARED_RESOURCE_GROUP:
        if instance_type is None:
            return [
                Problem(
                    where,
                    "instanceType",
                    "is required on the shared resource group",
                    MISSING,
                    "Give an ECS instance type, e.g. 'ecs.c7.large'",
                )
            ]
        return []
    if group is None or not DEDICATED_GROUP.fullmatch(group):
        return []  # a malformed group is reported by field validation
    problems = []
    if instance_type is not None:
        problems.append(
            Problem(
                where,
                "instanceType",
                "applies to the shared resource group only",
                instance_type,
                "Remove it and size instances with cpu and memoryMb on the dedicated group",
            )
        )
    for key_name in ("cpu", "memoryMb"):
        if svc.get(key_name) is None:
            problems.append(
                Problem(
                    where,
                    key_name,
                    "is required on a dedicated resource group",
                    MISSING,
                    "Give cpu (vCPUs) and memoryMb per instance",
                )
            )
    return problems


def _engine_problems(svc: Mapping[str, Any], where: str) -> list[Problem]:
    processor, container = svc.get("processor"), svc.get("container")
    problems = []
    if processor is not None and container is not None:
        problems.append(
            Problem(
                where,
                "processor",
                "cannot be combined with 'container'",
                processor,
                "Keep either processor (built-in) or container (custom image)",
            )
        )
    elif processor is None and container is None:
        problems.append(
            Problem(
                where,
                "processor",
                "or 'container' is required",
                MISSING,
                "Name a built-in processor such as 'pmml', or give a container",
            )
        )
    if isinstance(processor, str) and processor not in KNOWN_PROCESSORS:
        problems.append(
            Problem(
                where,
                "processor",
                "is not a built-in EAS processor",
                processor,
                f"Use one of {', '.join(sorted(KNOWN_PROCESSORS))}, or a custom container",
            )
        )
    if isinstance(container, dict):
        problems += _container_problems(container, f"{where}.container")
    return problems


def _version_problems(svc: Mapping[str, Any], where: str) -> list[Problem]:
    versions = _typed(svc, "versions", list)
    if versions is None:
        return []
    problems = []
    duplicates = sorted({v for v in versions if isinstance(v, str) and versions.count(v) > 1})
    if duplicates:
        problems.append(
            Problem(
                where, "versions", f"lists {', '.join(duplicates)} more than once", versions, "List each version once"
            )
        )
    live = _typed(svc, "live", str)
    if versions and live is not None and live not in versions:
        problems.append(
            Problem(
                where, "live", "must be one of versions", live, f"Set live to one of {versions} or add it to versions"
            )
        )
    problems += _contract_problems(svc, versions, where)
    problems += _registry_version_problems(svc, versions, where)
    name = _typed(svc, "name", str)
    for version in versions:
        if not (name and isinstance(version, str)):
            continue
        eas_name = eas_service_name(name, version)
        if len(eas_name) > EAS_NAME_MAX:
            problems.append(
                Problem(
                    where,
                    "name",
                    f"with version '{version}' is longer than {EAS_NAME_MAX} characters",
                    eas_name,
                    "Shorten the service name or the version",
                )
            )
    return problems


def _registry_version_problems(svc: Mapping[str, Any], versions: list[Any], where: str) -> list[Problem]:
    """Every deployed version maps to one valid, distinct model registry version."""
    explicit = _typed(svc, "registryVersions", dict) or {}
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    ids = dict.fromkeys(v for v in versions if isinstance(v, str) and re.fullmatch(r"[a-z0-9][a-z0-9_]*", v))
    for version in ids:  # a bad or repeated id is reported by its own rule
        value = explicit.get(version) if version in explicit else registry_version(version, {})
        if not isinstance(value, str) or not REGISTRY_VERSION.match(value):
            problems.append(
                Problem(
                    where,
                    f"registryVersions.{version}",
                    "must be a model registry version major.minor.patch (the registry refuses anything else)"
                    + ("" if version in explicit else f"; '{version}' is not v<N>, so it needs one"),
                    value if version in explicit else version,
                    f"Map it, e.g. registryVersions: {{{version}: 1.0.0}}",
                )
            )
        elif value in seen:
            problems.append(
                Problem(
                    where,
                    f"registryVersions.{version}",
                    f"maps to {value}, which {seen[value]} already uses",
                    value,
                    "Give every version its own registry version",
                )
            )
        else:
            seen[value] = version
    return problems


def _contract_problems(svc: Mapping[str, Any], versions: list[Any], where: str) -> list[Problem]:
    """Every version declares its contract, or none does; one group serves one major contract unless allowed."""
    contracts = _typed(svc, "contracts", dict)
    if not contracts:
        return []
    missing = [v for v in versions if isinstance(v, str) and v not in contracts]
    if missing:
        return [
            Problem(
                where,
                "contracts",
                f"has no contract for {', '.join(missing)}",
                contracts,
                "Declare the API contract of every version, e.g. {v6: v1.4, v7: v1.5}",
            )
        ]
    majors = {version: contract_major(str(contract)) for version, contract in contracts.items() if version in versions}
    unreadable = sorted(version for version, major in majors.items() if major is None)
    if unreadable:
        return [
            Problem(
                where,
                "contracts",
                f"gives {', '.join(unreadable)} a contract without a major version",
                contracts,
                "Write contract versions as v<major>[.<minor>], e.g. v2 or v2.1",
            )
        ]
    rollout = _typed(svc, "rollout", dict) or {}
    if len(set(majors.values())) > 1 and rollout.get("allowBreakingChange") is not True:
        spread = ", ".join(f"{version} {contracts[version]}" for version in sorted(majors))
        return [
            Problem(
                where,
                "contracts",
                f"mixes major API versions in one service group ({spread}), so a release or rollback would send "
                f"clients a schema they do not expect",
                contracts,
                "Serve the new major version as a new service (its own group), or set rollout.allowBreakingChange "
                "if every client handles both",
            )
        ]
    return []


def _service_problems(svc: Mapping[str, Any], index: int) -> list[Problem]:
    where = path_text(("serving", "services", index))
    problems = _engine_problems(svc, where) + _placement_problems(svc, where)
    low, high = _typed(svc, "minInstances", int), _typed(svc, "maxInstances", int)
    if low is not None and high is not None and high <= low:
        problems.append(
            Problem(
                where,
                "maxInstances",
                f"must be greater than minInstances ({low}): the EAS autoscaler needs room to scale",
                high,
                "Raise maxInstances or lower minInstances",
            )
        )
    problems += _version_problems(svc, where)
    rollout = svc.get("rollout")
    if isinstance(rollout, dict):
        problems += _rollout_problems(rollout, f"{where}.rollout")
    return problems


def _cross_problems(raw: Mapping[str, Any]) -> list[Problem]:
    """Checks across keys. They read the raw values, guarded by type, so that a mistyped key in one
    place never hides a cross-key problem elsewhere: one run reports everything."""
    serving = raw.get("serving")
    services = serving.get("services") if isinstance(serving, dict) else None
    if not isinstance(services, list):
        return []
    problems: list[Problem] = []
    first_use: dict[str, int] = {}
    for index, svc in enumerate(services):
        if not isinstance(svc, dict):
            continue
        name = svc.get("name")
        if isinstance(name, str) and name in first_use:
            problems.append(
                Problem(
                    path_text(("serving", "services", index)),
                    "name",
                    f"is already used by services[{first_use[name]}]",
                    name,
                    "Give every served model its own name",
                )
            )
        elif isinstance(name, str):
            first_use[name] = index
        problems += _service_problems(svc, index)
    return problems


def _provenance_problems(raw: Mapping[str, Any]) -> list[Problem]:
    """Every served version names the commit that produced it: from codeCommits or a training run of that id."""
    serving, training = raw.get("serving"), raw.get("training")
    services = serving.get("services") if isinstance(serving, dict) else None
    jobs = training.get("jobs") if isinstance(training, dict) else None
    trained = {
        (job.get("name"), job.get("run"))
        for job in (jobs if isinstance(jobs, list) else [])
        if isinstance(job, dict) and isinstance(job.get("code"), dict)
    }
    problems: list[Problem] = []
    for index, svc in enumerate(services if isinstance(services, list) else []):
        if not isinstance(svc, dict):
            continue
        where = path_text(("serving", "services", index))
        commits = _typed(svc, "codeCommits", dict) or {}
        for version, commit in commits.items():
            if not isinstance(commit, str) or not re.fullmatch(COMMIT_PATTERN, commit):
                problems.append(
                    Problem(
                        where,
                        "codeCommits",
                        f"gives {version} a commit that is not 7-40 hex digits",
                        commit,
                        "Write the commit id, e.g. 4be2c1d9",
                    )
                )
        missing = [  # malformed version ids are reported by field validation
            v
            for v in _typed(svc, "versions", list) or []
            if isinstance(v, str)
            and re.fullmatch(r"[a-z0-9][a-z0-9_]{0,15}", v)
            and v not in commits
            and (svc.get("name"), v) not in trained
        ]
        if missing:
            problems.append(
                Problem(
                    where,
                    "codeCommits",
                    f"has no code commit for {', '.join(missing)}, so the model registry could not trace them to code",
                    commits,
                    "Add codeCommits: {<version>: <commit>}, or train the version as a run of that id under "
                    "pai-mlops:training",
                )
            )
        if commits and not svc.get("codeRepository"):
            problems.append(
                Problem(
                    where,
                    "codeRepository",
                    "is required with codeCommits",
                    MISSING,
                    "Give the Git repository the commits belong to",
                )
            )
    return problems


def _notebook_problems(raw: Mapping[str, Any]) -> list[Problem]:
    notebook, workspace = raw.get("notebook"), raw.get("workspace")
    instances = notebook.get("instances") if isinstance(notebook, dict) else None
    prefix = workspace.get("name") if isinstance(workspace, dict) else None
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(instances if isinstance(instances, list) else []):
        if not isinstance(item, dict):
            continue
        where = path_text(("notebook", "instances", index))
        name = item.get("name")
        if isinstance(name, str) and name in seen:
            problems.append(
                Problem(
                    where,
                    "name",
                    f"is already used by instances[{seen[name]}]",
                    name,
                    "Give every notebook its own name",
                )
            )
        elif isinstance(name, str):
            seen[name] = index
            if isinstance(prefix, str) and len(f"{prefix}_{name}") > NOTEBOOK_NAME_MAX:
                problems.append(
                    Problem(
                        where,
                        "name",
                        f"makes the DSW instance name {prefix}_{name} longer than {NOTEBOOK_NAME_MAX} characters",
                        name,
                        "Shorten the notebook name",
                    )
                )
        if bool(item.get("imageUrl")) == bool(item.get("imageId")):
            problems.append(
                Problem(
                    where,
                    "imageUrl",
                    "or imageId is required, not both",
                    item.get("imageUrl"),
                    "Give a custom image (imageUrl) or a built-in DSW image (imageId)",
                )
            )
        group = item.get("resourceGroup")
        if group == SHARED_RESOURCE_GROUP and not item.get("instanceType"):
            problems.append(
                Problem(
                    where,
                    "instanceType",
                    "is required on shared resources",
                    MISSING,
                    "Give an ECS type, e.g. 'ecs.g6.xlarge' (CPU) or 'ecs.gn6i-c4g1.xlarge' (GPU)",
                )
            )
        if isinstance(group, str) and group != SHARED_RESOURCE_GROUP and not item.get("resources"):
            problems.append(
                Problem(
                    where,
                    "resources",
                    "is required on a dedicated resource group",
                    MISSING,
                    "Give resources {cpu, memoryGb[, gpu, gpuType]}",
                )
            )
        problems += dsw_gpu_type_problems(item.get("resources"), where)
    return problems


def _names(raw: Mapping[str, Any], section: str, items: str) -> set[str]:
    value = raw.get(section)
    listed = value.get(items) if isinstance(value, dict) else None
    return {str(x.get("name")) for x in (listed if isinstance(listed, list) else []) if isinstance(x, dict)}


def _pipeline_problems(raw: Mapping[str, Any]) -> list[Problem]:
    pipeline = raw.get("pipeline")
    retraining = pipeline.get("retraining") if isinstance(pipeline, dict) else None
    if not isinstance(retraining, list) or not retraining:
        return []
    problems: list[Problem] = []
    if isinstance(pipeline, dict) and not pipeline.get("provider"):
        problems.append(
            Problem(
                "pai-mlops:pipeline",
                "provider",
                "is required with retraining pipelines",
                MISSING,
                "Give the account UID that owns them (the console shows it under your account)",
            )
        )
    models, jobs = _names(raw, "serving", "services"), _names(raw, "training", "jobs")
    for index, item in enumerate(retraining):
        if not isinstance(item, dict):
            continue
        where = path_text(("pipeline", "retraining", index))
        if isinstance(item.get("model"), str) and item["model"] not in models:
            problems.append(
                Problem(
                    where,
                    "model",
                    "is not a served model",
                    item["model"],
                    f"Name one of serving.services: {', '.join(sorted(models)) or 'none'}",
                )
            )
        if isinstance(item.get("training"), str) and item["training"] not in jobs:
            problems.append(
                Problem(
                    where,
                    "training",
                    "is not a training job",
                    item["training"],
                    f"Name one of training.jobs: {', '.join(sorted(jobs)) or 'none'}",
                )
            )
        for step in ("preprocess", "evaluate"):
            image = (item.get(step) or {}).get("image") if isinstance(item.get(step), dict) else None
            problems += _image_problems(image, f"{where}.{step}", fix=PIN_IMAGE)
        problems += _pipeline_step_problems(item, where)
        if isinstance(item.get("trigger"), dict):
            problems += _trigger_problems(item["trigger"], f"{where}.trigger")
            _, role = trigger_names(f"{PROJECT}-{raw.get('environment')}", str(item.get("name")))
            if len(role) > RAM_NAME_MAX:
                problems.append(
                    Problem(
                        where,
                        "name",
                        f"makes the trigger's RAM role name {role} longer than {RAM_NAME_MAX} characters",
                        item.get("name"),
                        "Use a shorter pipeline name",
                    )
                )
    return problems


def _pipeline_step_problems(item: Mapping[str, Any], where: str) -> list[Problem]:
    """What a PAI Flow manifest cannot express (components/pipeline.py): a container step's instance type (the
    inline container spec has no such field; custom containers run on the public resource group) and an EAS
    deployment step (no official component for it is documented)."""
    problems: list[Problem] = []
    for step in ("preprocess", "evaluate"):
        settings = item.get(step)
        if isinstance(settings, dict) and settings.get("instanceType") is not None:
            problems.append(
                Problem(
                    f"{where}.{step}",
                    "instanceType",
                    "cannot be honoured: a pipeline's container step has no instance type and runs on the public "
                    "resource group",
                    settings["instanceType"],
                    "Remove it; size the training itself through the training job",
                )
            )
    if item.get("deploy") is True:
        problems.append(
            Problem(
                where,
                "deploy",
                "has no documented PAI Flow component to deploy to EAS",
                True,
                "Remove it; serve a trained run by adding it to the service's versions (a reviewed change)",
            )
        )
    return problems


def _images(value: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str, str]]:
    """Every image reference in the raw config: (where, image) for each ``image`` / ``imageUrl`` string."""
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for name, item in value.items():
            if name in ("image", "imageUrl") and isinstance(item, str):
                found.append((path_text(path), item))
            else:
                found += _images(item, (*path, str(name)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _images(item, (*path, index))
    return found


def _registry_problems(raw: Mapping[str, Any]) -> list[Problem]:
    """An image in the stack's own registry namespace must be in one of its declared repositories."""
    registry = raw.get("registry")
    if not isinstance(registry, dict) or not isinstance(registry.get("host"), str):
        return []
    host, namespace = registry["host"], registry.get("namespace")
    prefixes = [f"{h}/{namespace}/" for h in dict.fromkeys((vpc_registry_host(host), host))]
    declared = [r for r in registry.get("repositories") or [] if isinstance(r, str)]
    problems: list[Problem] = []
    for where, image in _images({k: v for k, v in raw.items() if k != "registry"}):
        prefix = next((p for p in prefixes if image.startswith(p)), None)
        if prefix is None:
            continue
        repository = re.split(r"[:@]", image.removeprefix(prefix), maxsplit=1)[0]
        if repository not in declared:
            problems.append(
                Problem(
                    where,
                    "image",
                    f"is in the stack's registry namespace but repository '{repository}' is not declared",
                    image,
                    f"Add '{repository}' to pai-mlops:registry.repositories "
                    f"(declared: {', '.join(declared) or 'none'})",
                )
            )
    return problems


# Where the runtime pulls images: EAS services, DLC jobs, PAI Flow steps (not DSW: notebooks use PAI's images).
_RUNTIME_IMAGE_SECTIONS: Final = ("serving", "training", "pipeline")
REGISTRY_AUTH_KEY: Final = "registryAuth"


def _runtime_image_problems(raw: Mapping[str, Any], secrets_set: frozenset[str]) -> list[Problem]:
    """Runtime images in the stack's registry: pulled over its VPC host, and with credentials they can use.

    Private repositories need credentials: EAS takes ``dockerAuth`` (base64 ``user:password``, EAS service config
    parameters doc, shared/reference/eas-api.md §3) or pulls an Enterprise Edition image with its custom role
    (https://www.alibabacloud.com/help/en/pai/user-guide/configure-the-eas-ram-role); DLC takes
    ``JobSpecs[].ImageConfig{DockerRegistry, Username, Password}`` (alibabacloud_pai_dlc20201203 1.11.6
    ``ImageConfig``), which this project does not send. So a Personal Edition registry serves EAS only, with
    ``pai-mlops:registryAuth`` set as a secret; DLC and pipeline images need the Enterprise Edition.
    """
    registry = raw.get("registry")
    if not isinstance(registry, dict) or not isinstance(registry.get("host"), str):
        return []
    host = registry["host"]
    vpc = vpc_registry_host(host)
    personal = not registry.get("instanceId")
    problems: list[Problem] = []
    for section in _RUNTIME_IMAGE_SECTIONS:
        for where, image in _images(raw.get(section), (section,)):
            if vpc != host and image.startswith(f"{host}/"):
                problems.append(
                    Problem(
                        where,
                        "image",
                        "pulls over the registry's public endpoint; EAS and DLC pull over its VPC address",
                        image,
                        f"Write it as {vpc}/{image.removeprefix(host + '/')}",
                    )
                )
            if not personal or not image.startswith((f"{host}/", f"{vpc}/")):
                continue
            if section != "serving":
                problems.append(
                    Problem(
                        where,
                        "image",
                        "is a private Personal Edition image, which DLC and PAI Flow cannot pull here (no ImageConfig "
                        "credentials are sent)",
                        image,
                        "Use an Enterprise Edition instance (pai-mlops:registry.instanceId), as Pulumi.prod.yaml does",
                    )
                )
            elif REGISTRY_AUTH_KEY not in secrets_set:
                problems.append(
                    Problem(
                        where,
                        "image",
                        "is a private Personal Edition image and EAS gets no credentials for it",
                        image,
                        f"Set `pulumi config set --secret {REGISTRY_AUTH_KEY} <base64 of user:password>` (sent as "
                        "dockerAuth), or use an Enterprise Edition instance (pai-mlops:registry.instanceId)",
                    )
                )
    return problems


def _alarm_problems(raw: Mapping[str, Any]) -> list[Problem]:
    """Production alarms must reach someone."""
    serving = raw.get("serving")
    services = serving.get("services") if isinstance(serving, dict) else None
    alarms = raw.get("alarms")
    if raw.get("environment") != "prod" or not services:
        return []
    if isinstance(alarms, dict) and alarms.get("contactGroup") and alarms.get("contacts"):
        return []
    missing = "contactGroup" if not (isinstance(alarms, dict) and alarms.get("contactGroup")) else "contacts"
    return [
        Problem(
            "pai-mlops:alarms",
            missing,
            "is required in prod: serving alarms must notify someone",
            MISSING,
            "Give contactGroup (e.g. 'ml-oncall') and contacts (CloudMonitor contact names)",
        )
    ]


def trigger_names(name_prefix: str, pipeline: str) -> tuple[str, str]:
    """A retraining trigger's names: (its FC function and start role, the role OSS invokes it with).

    RAM role names take no underscores, so the pipeline's become hyphens.
    """
    function = f"{name_prefix}-{pipeline}-start".replace("_", "-")
    return function, f"{function}-oss"


def _trigger_problems(trigger: Mapping[str, Any], where: str) -> list[Problem]:
    problems: list[Problem] = []
    if not trigger.get("schedule") and not trigger.get("dataMarker"):
        problems.append(Problem(where, "schedule", "a trigger needs a schedule or a dataMarker", MISSING, TRIGGER_FIX))
    zone = trigger.get("timezone")
    if isinstance(zone, str) and zone != "UTC":
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            problems.append(
                Problem(where, "timezone", "is not an IANA time zone", zone, "Write e.g. 'Asia/Shanghai' or 'UTC'")
            )
    if isinstance(zone, str) and zone != "UTC" and str(trigger.get("schedule", "")).startswith("@every"):
        problems.append(
            Problem(
                where,
                "timezone",
                "has no meaning for an '@every' schedule",
                zone,
                "Leave timezone out, or give 6 cron fields",
            )
        )
    return problems


def _metrics_problems(raw: Mapping[str, Any]) -> list[Problem]:
    serving = raw.get("serving")
    metrics = serving.get("metrics") if isinstance(serving, dict) else None
    if isinstance(metrics, dict) and metrics.get("source") == "prometheus" and not metrics.get("endpoint"):
        return [
            Problem(
                "pai-mlops:serving.metrics",
                "endpoint",
                "is required with source prometheus",
                MISSING,
                "Give the Prometheus HTTP API base URL, e.g. 'https://prometheus.example.com'",
            )
        ]
    return []


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
    group = _typed(job, "resourceGroup", str)
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
    job_type = _typed(job, "jobType", str)
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
    roles = _typed(job, "roles", dict)
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
    reserved = sorted(name for name in _typed(job, "env", dict) or {} if str(name).startswith("PAI_MLOPS_"))
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
    for index, source in enumerate(_typed(job, "data", list) or []):
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
    problems += _image_problems(_typed(job, "image", str), where)
    return problems


def _training_problems(raw: Mapping[str, Any]) -> list[Problem]:
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


def parse_stack_config(
    raw: Mapping[str, Any], stack: str, secrets_set: frozenset[str] = frozenset(), *, full_keys: Iterable[str] = ()
) -> StackConfig:
    """Validate raw config values (camelCase keys, objects already decoded) into a StackConfig.

    ``secrets_set`` names the secret keys the stack sets (their values are never read here). ``full_keys`` are
    every namespaced key the stack file sets (``pai-mlops:owner``, ``alicloud:region``, …), so a key under a
    mistyped namespace is reported instead of silently dropped. Raises StackConfigError listing every problem.
    """
    environment = raw.get("environment")
    values = with_dev_defaults(StackConfig, dict(raw)) if environment == "dev" else dict(raw)
    problems: list[Problem] = []
    config: StackConfig | None = None
    try:
        config = TypeAdapter(StackConfig).validate_python(values)
    except ValidationError as error:
        problems += problems_from(error, StackConfig, (), str(environment))
    problems += _cross_problems(values) + _metrics_problems(values) + _training_problems(values)
    problems += _provenance_problems(values) + _notebook_problems(values) + _pipeline_problems(values)
    problems += _registry_problems(values) + _alarm_problems(values) + _runtime_image_problems(values, secrets_set)
    problems += credential_url_problems(values)
    problems += _cron_problems(values) + _stack_name_problems(values, stack) + key_problems(full_keys, PROJECT)
    problems = [_suggest_secret_key(problem) for problem in problems]
    if problems or config is None:
        raise StackConfigError(stack, problems)
    return config


def _cron_problems(raw: Mapping[str, Any]) -> list[Problem]:
    """Every cron field in range for the service that runs it (config_cron has the documented ranges)."""
    found: list[tuple[str, Any, Sequence[Any], str]] = []
    serving = raw.get("serving")
    services = serving.get("services") if isinstance(serving, dict) else None
    for index, svc in enumerate(services if isinstance(services, list) else []):
        cron = svc.get("cron") if isinstance(svc, dict) else None
        for position, job in enumerate(cron if isinstance(cron, list) else []):
            if isinstance(job, dict):
                where = path_text(("serving", "services", index, "cron", position))
                found.append((where, job.get("schedule"), EAS_CRON_SCALER, "e.g. '0 0 8 * * 1-5' (08:00 Mon-Fri)"))
    pipeline = raw.get("pipeline")
    retraining = pipeline.get("retraining") if isinstance(pipeline, dict) else None
    for index, item in enumerate(retraining if isinstance(retraining, list) else []):
        trigger = item.get("trigger") if isinstance(item, dict) else None
        if isinstance(trigger, dict):
            where = path_text(("pipeline", "retraining", index, "trigger"))
            found.append((where, trigger.get("schedule"), FC_TIMER, "e.g. '0 0 3 * * 1' (Mondays 03:00)"))
    problems: list[Problem] = []
    for where, schedule, fields, example in found:
        # Other shapes (not text, not six fields, '@every') are the field pattern's to report, once.
        if not isinstance(schedule, str) or schedule.startswith("@every") or len(schedule.split()) != len(fields):
            continue
        problem = cron_problem(schedule, fields)
        if problem is not None:
            ranges = ", ".join(f"{f.name} {f.describe()}" for f in fields)
            problems.append(Problem(where, "schedule", problem, schedule, f"Use {ranges}; {example}"))
    return problems


# The words by which a stack name says an environment ("prod", "prod-eu", "team_a-production").
_ENVIRONMENT_WORDS: Final = {
    "dev": ("dev", "development"),
    "staging": ("staging", "stage"),
    "prod": ("prod", "production"),
}


def _stack_name_problems(raw: Mapping[str, Any], stack: str) -> list[Problem]:
    """A stack whose name says another environment than its file: refused unless ``allowAnyStackName``.

    ``Pulumi.prod.yaml`` copied from dev keeps ``environment: dev`` and would deploy prod with dev's defaults
    and policy levels. A name that says no environment (``alice``, ``team-a``) has nothing to contradict.
    """
    environment = raw.get("environment")
    if environment not in get_args(get_type_hints(StackConfig)["environment"]):
        return []  # an unknown environment is the field's to report
    if raw.get("allowAnyStackName") is True:
        return []
    words = set(re.split(r"[-_.]", stack.lower()))
    named = sorted(env for env, aliases in _ENVIRONMENT_WORDS.items() if words & set(aliases))
    if not named or environment in named:
        return []
    valid = [env for env in named if env in get_args(get_type_hints(StackConfig)["environment"])]
    change = f"Set environment to {valid[0]}, or rename the stack" if valid else "Rename the stack"
    return [
        Problem(
            PROJECT,
            "environment",
            f"does not match the stack name '{stack}', which says {' and '.join(named)}: a stack file copied from "
            "another stack keeps that stack's environment, defaults and policy levels",
            environment,
            f"{change}; if this is deliberate, set pai-mlops:allowAnyStackName: true",
        )
    ]


# The alicloud provider's own config keys (pulumi-alicloud 4.0.0, pulumi_alicloud/config/vars.py; a test pins
# this list to the installed module). Any other alicloud:<key> is a typo the provider would ignore.
ALICLOUD_KEYS: Final = frozenset(
    {
        "accessKey", "accountId", "accountType", "assumeRole", "assumeRoleWithOidc", "clientConnectTimeout",
        "clientReadTimeout", "configurationSource", "credentialsUri", "ecsRoleName", "endpoints", "fc", "features",
        "logEndpoint", "maxRetryTimeout", "mnsEndpoint", "otsInstanceName", "profile", "protocol", "region",
        "secretKey", "secureTransport", "securityToken", "securityTransport", "sharedCredentialsFile",
        "signVersion", "skipRegionValidation", "sourceIp",
    }
)  # fmt: skip
# Namespaces a stack file of this project may use: the project's own, the provider's, the engine's.
_NAMESPACES: Final = (PROJECT, "alicloud", "pulumi")


def key_problems(full_keys: Iterable[str], project: str) -> list[Problem]:
    """Keys nothing reads: a mistyped namespace, an unknown ``alicloud:`` key, or ``<project>:region``.

    Values are never shown: a misplaced key may hold a secret.
    """
    problems: list[Problem] = []
    namespaces = (project, *_NAMESPACES[1:])
    for full_key in sorted(set(full_keys)):
        namespace, _, name = full_key.partition(":")
        if namespace not in namespaces:
            guess = difflib.get_close_matches(namespace, namespaces, n=1)
            hint = (
                f"Write it as '{guess[0]}:{name}'"
                if guess
                else f"Put it under this project's namespace ('{project}:') or the provider's ('alicloud:')"
            )
            problems.append(
                Problem(namespace, name, f"is in namespace '{namespace}', which nothing reads", HIDDEN, hint)
            )
        elif namespace == "alicloud" and name not in ALICLOUD_KEYS:
            guess = difflib.get_close_matches(name, sorted(ALICLOUD_KEYS), n=1)
            hint = f"Write it as 'alicloud:{guess[0]}'" if guess else "See the alicloud provider's configuration keys"
            problems.append(Problem(namespace, name, "is not a key of the alicloud provider", HIDDEN, hint))
        elif namespace == project and name == "region":
            problems.append(
                Problem(
                    namespace,
                    name,
                    "is not read: the region is the provider's",
                    HIDDEN,
                    "Move it to alicloud:region (pulumi config set alicloud:region <region>)",
                )
            )
    return problems


_BOOLEAN_KEYS: Final = ("allowAnyStackName",)
_OBJECT_KEYS: Final = ("storage", "workspace", "serving", "training", "notebook", "pipeline", "registry", "alarms")
REGION_KEY: Final = "alicloud:region"
# Secret keys are read where they are used (as Outputs, never in plain text); here they are only known names.
SECRET_KEYS: Final = ("gitAccessToken", "servingToken", "registryAuth")


# --- secrets and credentials in config ----------------------------------------------------------------------------

# Keys whose value is a credential: set with `pulumi config set --secret`, so Pulumi.<stack>.yaml holds them encrypted
# and the engine lists them as secret keys (PULUMI_CONFIG_SECRET_KEYS; the mock engine's secret-key list).
MUST_BE_SECRET: Final = (
    f"{PROJECT}:gitAccessToken",
    f"{PROJECT}:servingToken",
    f"{PROJECT}:registryAuth",
    "alicloud:secretKey",
    "alicloud:securityToken",
)
CREDENTIAL_URL_FIX: Final = (
    "Remove the user:token@ part of the URL; a Git token goes in pai-mlops:gitAccessToken "
    "(pulumi config set --secret gitAccessToken), and rotate the token, since it was committed in clear"
)


def credential_url_problems(raw: Mapping[str, Any]) -> list[Problem]:
    """Every config string that is a URL with a user name or password in it (``https://x:ghp_…@github.com/…``).

    Such a token would be copied into plain-text inputs (code source, notebook start commands, pipeline manifest,
    model version labels), so it is refused before anything is registered; the value is never echoed.
    """
    problems: list[Problem] = []

    def walk(value: Any, path: tuple[str | int, ...]) -> None:
        if isinstance(value, Mapping):
            for name, item in value.items():  # pyright: ignore[reportUnknownVariableType]
                walk(item, (*path, str(name)))  # pyright: ignore[reportUnknownArgumentType]
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
                walk(item, (*path, index))
        elif isinstance(value, str) and holds_credential(value):
            where, key_text = split_loc(path)
            problems.append(
                Problem(where, key_text, "holds a user name or token inside the URL", HIDDEN, CREDENTIAL_URL_FIX)
            )

    walk(dict(raw), ())
    return problems


def _suggest_secret_key(problem: Problem) -> Problem:
    """An unknown top-level key that looks like a mistyped secret key gets that key as its suggestion."""
    close = difflib.get_close_matches(problem.key, SECRET_KEYS, n=1)
    if (
        problem.where != PROJECT
        or problem.problem != "is not a known key"
        or not close
        or "Did you mean" in problem.fix
    ):
        return problem
    fix = f"Did you mean '{close[0]}' (a secret: pulumi config set --secret {close[0]})? {problem.fix}"
    return Problem(problem.where, problem.key, problem.problem, problem.value, fix)


def plaintext_secret_problems(keys: Iterable[str], secret_keys: Collection[str]) -> list[Problem]:
    """A credential key set without ``--secret``: it sits readable in Pulumi.<stack>.yaml (and in git)."""
    problems: list[Problem] = []
    for full_key in sorted(set(keys) & set(MUST_BE_SECRET) - set(secret_keys)):
        namespace, _, name = full_key.partition(":")
        problems.append(
            Problem(
                namespace,
                name,
                "is set in plain text, not as a secret",
                HIDDEN,
                f"Run `pulumi config rm {name}` and set it again with `pulumi config set --secret {name}`; rotate "
                f"the value, since it was stored in clear",
            )
        )
    return problems


def hide_secret_values(problems: Sequence[Problem], secret_names: Collection[str]) -> list[Problem]:
    """``problems`` with the value hidden wherever the problem is about a key set as a secret."""

    def top(problem: Problem) -> str:
        rest = problem.where.removeprefix(f"{PROJECT}:")
        return problem.key if rest == PROJECT else re.split(r"[.\[]", rest, maxsplit=1)[0]

    return [
        Problem(p.where, p.key, p.problem, HIDDEN, p.fix) if top(p) in secret_names and p.value is not MISSING else p
        for p in problems
    ]


def config_secret_keys(keys: Iterable[str]) -> set[str]:
    """The config keys the engine marks secret: ``PULUMI_CONFIG_SECRET_KEYS`` under ``pulumi up`` (a JSON list the
    language host sets beside ``PULUMI_CONFIG``; pulumi/runtime/config.py ``get_config_secret_keys_env``), the
    runtime's secret-key list under the mock engine (``pulumi.runtime.set_all_config``)."""
    listed = set(pulumi.runtime.get_config_secret_keys_env())
    return listed | {full_key for full_key in keys if pulumi.runtime.is_config_secret(full_key)}


def load_stack_config() -> StackConfig:
    """Read and validate the current stack's configuration.

    The engine hands the program the whole stack config: under ``pulumi up`` in the ``PULUMI_CONFIG`` environment
    variable, under the mock engine in the runtime's config map. Secret keys are not read here (they are read where
    they are used, as Outputs), so asking for them never unwraps a secret.
    """
    project = pulumi.get_project()
    keys = set(pulumi.runtime.config.CONFIG.get()) | set(pulumi.runtime.config.get_config_env())
    values: dict[str, str] = {}
    for full_key in keys:
        namespace, _, name = full_key.partition(":")
        if full_key == REGION_KEY or (namespace == project and name not in SECRET_KEYS):
            value = pulumi.Config(namespace).get(name)
            if value is not None:
                values[full_key] = value
    secret_keys = config_secret_keys(keys)
    problems = plaintext_secret_problems(keys, secret_keys)
    secret_names = {k.partition(":")[2] for k in secret_keys if k.partition(":")[0] == project}
    secrets_set = frozenset(
        name for namespace, _, name in (k.partition(":") for k in keys) if namespace == project and name in SECRET_KEYS
    )
    try:
        config = parse_stack_config(raw_from_values(values, project), pulumi.get_stack(), secrets_set, full_keys=keys)
    except StackConfigError as error:
        raise StackConfigError(error.stack, [*problems, *hide_secret_values(error.problems, secret_names)]) from None
    if problems:
        raise StackConfigError(pulumi.get_stack(), problems)
    return config


def raw_from_values(values: Mapping[str, str], project: str) -> dict[str, Any]:
    """The raw config :func:`parse_stack_config` takes, from the flat map the engine hands a program.

    ``values`` has namespaced keys (``pai-mlops:serving``, ``alicloud:region``) and structured values as JSON
    strings, as ``pulumi up`` passes them and as ``tools.mock_engine.stack_config_values`` reads a stack file.
    Keys of this project that the config does not know are kept, so validation names them and suggests the
    nearest; secret keys are left out.
    """
    raw: dict[str, Any] = {}
    for full_key, value in values.items():
        namespace, _, name = full_key.partition(":")
        if full_key == REGION_KEY:
            raw["region"] = value
        elif namespace != project or name in SECRET_KEYS or name == "region":
            continue  # another namespace, a secret, or pai-mlops:region (the region is alicloud's)
        elif name in _BOOLEAN_KEYS and value in ("true", "false"):
            raw[name] = value == "true"  # the engine hands every scalar over as text
        elif name in _OBJECT_KEYS:
            try:
                raw[name] = json.loads(value)
            except json.JSONDecodeError:
                raw[name] = value  # a plain string where a mapping belongs: validation reports it
        else:
            raw[name] = value
    return raw
