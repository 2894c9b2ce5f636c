"""Serving: ``serving.services`` (EAS model services, their rollout, autoscaling and placement); the rules across a
service's keys sit beside its dataclasses. Where the release gates read metrics is ``serving_metrics``."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import StrictBool, StrictInt, StrictStr
from pydantic.dataclasses import dataclass

from config_problems import MISSING, Problem, key, path_text
from config_promotion import PromotionConfig
from pai_facts import (
    DEDICATED_GROUP,
    ECS_INSTANCE_TYPE_PATTERN,
    KNOWN_PROCESSORS,
    RELEASE_DEFAULTS,
    SHARED_RESOURCE_GROUP,
    eas_service_name,
    registry_version,
)
from stack_config.drift import RetrainedByConfig
from stack_config.fields import MODEL, ContainerConfig, Number, VersionId, container_problems, typed
from stack_config.serving_burst import BurstConfig, VpcConfig, burst_problems
from stack_config.serving_metrics import MetricsConfig
from stack_config.serving_versions import version_problems


@dataclass(frozen=True, kw_only=True, config=MODEL)
class RolloutConfig:
    """How traffic moves to a new live version: percentage steps, each baked and gated."""

    steps: tuple[StrictInt, ...] = key(
        "List ascending traffic percentages ending at 100, e.g. [10, 50, 100]",
        default=RELEASE_DEFAULTS["steps"],
        min_length=1,
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
        "Set how often the metrics are read during a bake, in seconds, e.g. 30",
        default=RELEASE_DEFAULTS["check_interval_seconds"],
        ge=1,
    )
    min_requests: StrictInt = key(
        "Set the fewest requests a bake needs to be conclusive, e.g. 100",
        default=RELEASE_DEFAULTS["min_requests"],
        ge=0,
    )
    no_data: Literal["fail", "proceed"] = key(
        "Write fail (revert when a bake sees too little traffic) or proceed", default=RELEASE_DEFAULTS["no_data"]
    )
    max_bake_extensions: StrictInt = key(
        "Set how many times an inconclusive bake is extended, e.g. 2",
        default=RELEASE_DEFAULTS["max_bake_extensions"],
        ge=0,
    )
    rollback_without_bake: StrictBool = key(
        "Write true to go back to a previously live version at once, false to bake it like a release",
        default=RELEASE_DEFAULTS["rollback_without_bake"],
    )
    shadow_percent: StrictInt = key(
        "Set the percentage of live requests mirrored to the new version before the first step, or 0",
        default=RELEASE_DEFAULTS["shadow_percent"],
        ge=0,
        le=100,
    )
    shadow_seconds: StrictInt = key(
        "Set how long the shadow phase lasts, in seconds", default=RELEASE_DEFAULTS["shadow_seconds"], ge=0
    )
    allow_breaking_change: StrictBool = key(
        "Write true only if every client handles both API contracts of a release",
        default=RELEASE_DEFAULTS["allow_breaking_change"],
    )


@dataclass(frozen=True, kw_only=True, config=MODEL)
class CronScaleConfig:
    """A scheduled instance count for a known traffic pattern."""

    name: StrictStr = key("Name the schedule, e.g. 'weekday-morning'", pattern=r"^[a-z0-9][a-z0-9-]*$")
    schedule: StrictStr = key(
        "Give 6 cron fields: second minute hour day month weekday, e.g. '0 0 8 * * 1-5'",
        rule="6 cron fields (second minute hour day month weekday)",
        pattern=r"^\S+( \S+){5}$",
    )
    target_size: StrictInt = key("Set the instances to run from then on, e.g. 4", ge=0)


@dataclass(frozen=True, kw_only=True, config=MODEL)
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
        pattern=ECS_INSTANCE_TYPE_PATTERN,
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
    burst: BurstConfig | None = key(
        "Give {instanceType} to burst into pay-as-you-go public instances when the dedicated group is full "
        "(docs/burst.md), or leave it out",
        default=None,
    )
    vpc: VpcConfig | None = key(
        "Give {vpcId, vswitchId, securityGroupId}: required with burst, or on 'shared' to reach your VPC",
        default=None,
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
    retrained_by: dict[StrictStr, RetrainedByConfig] = key(
        "Map a version trained by a pipeline run to what started the run, e.g. "
        "{r20261201081542: {trigger: drift, method: psi, score: 0.31}} (labels in the model registry)",
        default_factory=dict,
    )
    promoted: dict[StrictStr, PromotionConfig] = key(
        "Map a version to the stack it is promoted from, e.g. {v7: {from: staging}} (docs/environments.md)",
        default_factory=dict,
    )
    # terraform's pai.Service waits 5 minutes; GPU and custom-image services often need longer (fidelity-audit T2).
    ready_timeout_minutes: StrictInt = key(
        "Set the minutes a version may take to reach Running, e.g. 20 (GPU or custom images may need 30+)",
        default=20,
        ge=1,
        le=1440,
    )
    # Filled from namePrefix when not set (config_scale.eas_scope): "" keeps today's EAS names.
    eas_prefix: StrictStr = key(
        "Give the prefix of this model's EAS service and group names, lower-case letters, digits and underscores "
        "ending in '_' (or empty), e.g. 'team_b_'",
        default="",
        rule="lower-case letters, digits and underscores starting with a letter and ending in '_', or empty",
        pattern=r"^([a-z][a-z0-9_]*_)?$",
    )

    @property
    def dedicated(self) -> bool:
        return self.resource_group != SHARED_RESOURCE_GROUP

    @property
    def eas_group(self) -> str:
        """The EAS service group: the model's name within the stack's EAS scope."""
        return f"{self.eas_prefix}{self.name}"

    def eas_service_name(self, version: str) -> str:
        return eas_service_name(self.eas_group, version)

    def registry_version(self, version: str) -> str:
        return registry_version(version, self.registry_versions)


@dataclass(frozen=True, kw_only=True, config=MODEL)
class ServingConfig:
    services: tuple[ModelServiceConfig, ...] = key("List the served models", default=())
    metrics: MetricsConfig = key(
        "Give {source, namespace, dimension} or {source: prometheus, endpoint}", default=MetricsConfig()
    )
    retain_pai_services: StrictBool = key(
        "Write true for the one `pulumi up` that moves a stack off pai.Service (docs/architecture.md "
        "'Upgrading'), then remove it",
        default=False,
    )


def _rollout_problems(rollout: Mapping[str, Any], where: str) -> list[Problem]:
    steps = typed(rollout, "steps", list)
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
    group = typed(svc, "resourceGroup", str)
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
        problems += container_problems(container, f"{where}.container")
    return problems


def service_problems(svc: Mapping[str, Any], index: int) -> list[Problem]:
    where = path_text(("serving", "services", index))
    problems = _engine_problems(svc, where) + _placement_problems(svc, where) + burst_problems(svc, where)
    low, high = typed(svc, "minInstances", int), typed(svc, "maxInstances", int)
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
    problems += version_problems(svc, where)
    rollout = svc.get("rollout")
    if isinstance(rollout, dict):
        problems += _rollout_problems(rollout, f"{where}.rollout")
    return problems
