"""ProductionAlarms: CloudMonitor alarm rules that tell a person when production degrades.

- Per production EAS service version: latency (``serving.metrics.latencyStatistic`` of ``latencyMetric``; by default
  the MEAN ``rt``) above the rollout's ``maxP95LatencyMs`` and 5xx ratio above its ``maxErrorRate`` for
  ``evaluationPeriods`` periods in a row. The release gates and the alarms share thresholds, so a version that would
  fail its bake also pages once it is live. CloudMonitor compares a rule's threshold with the metric in the metric's
  own unit, so the thresholds are converted by ``providers.metrics.to_metric`` (``errorUnit`` percent: 0.01 → 1;
  ``latencyUnit`` microseconds: 200 ms → 200000), and each rule uses a statistic its metric lists:
  PutResourceMetricRule checks Statistics against the metric's list since 2024-08-15
  (https://www.alibabacloud.com/help/en/cms/cloudmonitor-1-0/developer-reference/api-cms-2019-01-01-putresourcemetricrule).
- When the stack trains on GPUs: GPU utilisation below ``gpuUtilizationMin`` % for ``gpuSustainedMinutes``, for
  any DLC job in the stack's workspace. One rule per workspace rather than per job: it exists before a run starts
  (a per-job rule would need the job id, known only once the job has been submitted, and with ``wait: completed``
  only after it ended) and covers every later run. Low GPU use on a running job usually means the input pipeline
  cannot keep up: raise the DataLoader's ``num_workers`` and ``prefetch_factor`` (or read from a faster mount)
  before asking for more GPUs; more GPUs would idle the same way.

Every rule notifies the configured contact group. Rules are built by pure functions from config (:func:`serving_rules`,
:func:`training_rule`), so preview shows each one exactly.

The EAS metric IDs, units and statistics are the defaults of ``serving.metrics`` (shared with the gates), from
CloudMonitor's EAS metric appendix (AlibabaCloudDocs/cms, 2020-10; see ``providers/metrics.py``); still configurable,
as the appendix is old. UNCONFIRMED, and therefore configurable: the DLC GPU metric, namespace and workspace
dimension (``alarms.trainingNamespace``, ``gpuMetric``, ``trainingDimension``), and the statistic it offers
(``Average`` here). DLC's metrics are
upper-snake and job-level: ``acs_pai_dlc`` is the namespace DLC's GetMetrics documents
(``alibabacloud_pai_dlc20201203/models/_get_metrics_request.py``), and a third-party DLC client queries
``JOB_GPU_ACCELERATOR_DUTTY_UTIL`` with the dimensions ``jobId, regionId, userId, workspaceId``
(shared/reference/fidelity-audit.md D10). The rule sets every one of them but ``jobId`` (unknown until a run is
submitted). :func:`metric_checks` lists what ``pulumi up`` verifies against CloudMonitor's metric catalogue
(``providers/metric_meta.py``), so a wrong name fails the deployment, naming its config key, instead of leaving an
alarm that never fires.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

import pulumi
from pulumi_alicloud import cms

from providers.metric_meta import MetricCheck
from providers.metrics import READ_STATISTIC, to_metric
from stack_config import AlarmConfig, MetricsConfig, ModelServiceConfig, StackConfig, TrainingJobConfig

STATISTIC: Final = "Average"  # the DLC GPU rule's (unconfirmed, see above)
SILENCE_SECONDS: Final = 3600  # one notification an hour while a rule stays breached
GPU_INSTANCE: Final = re.compile(r"^ecs\.(gn|ebmgn|sgn|vgn)[a-z0-9]*[.-]")
DATA_LOADING_ADVICE: Final = (
    "GPU utilisation stayed low: the input pipeline is the likely bottleneck. Raise the DataLoader's num_workers "
    "and prefetch_factor, or read from a faster mount, before adding GPUs."
)


@dataclass(frozen=True)
class AlarmRule:
    """One CloudMonitor rule: what it watches, when it fires, and what the person paged should do."""

    name: str
    namespace: str
    metric: str
    dimensions: Mapping[str, pulumi.Input[str]]
    comparison: str
    threshold: float  # in the metric's unit
    times: int
    advice: str
    statistic: str = STATISTIC


def threshold_text(value: float) -> str:
    """A threshold as CloudMonitor's string ``Threshold`` takes it: plain decimal digits, never an exponent (``:g``
    wrote 1 000 ms in microseconds as ``1e+06``; whether CloudMonitor reads exponents is not documented)."""
    text = format(Decimal(repr(float(value))), "f")  # repr: the shortest digits that read back as the same float
    return text.rstrip("0").rstrip(".") if "." in text else text


def uses_gpu(job: TrainingJobConfig) -> bool:
    """A run on GPU instances (a ``gn``-family type on shared resources, or GPUs per pod on a quota)."""
    if job.resources is not None and job.resources.gpu > 0:
        return True
    return job.instance_type is not None and GPU_INSTANCE.match(job.instance_type) is not None


def serving_rules(service: ModelServiceConfig, metrics: MetricsConfig, alarms: AlarmConfig) -> list[AlarmRule]:
    """Latency and error rules for every version of a service, at the thresholds its release gates use."""
    rollout = service.rollout
    rules: list[AlarmRule] = []
    for version in service.versions:
        name = service.eas_service_name(version)
        dimensions = {metrics.dimension: name}
        rules += [
            AlarmRule(
                name=f"{name}-p95-latency",  # the rule's name is in state: kept although rt is a mean
                namespace=metrics.namespace,
                metric=metrics.latency_metric,
                dimensions=dimensions,
                comparison=">",
                threshold=to_metric(float(rollout.max_p95_latency_ms), metrics.latency_unit),
                times=alarms.evaluation_periods,
                advice=f"{metrics.latency_statistic} latency ({metrics.latency_metric}) of {name} is above "
                f"{rollout.max_p95_latency_ms:g} ms (the release gate). "
                "Check its instances and autoscaler; roll back by setting live to the previous version.",
                statistic=metrics.latency_statistic,
            ),
            AlarmRule(
                name=f"{name}-error-ratio",
                namespace=metrics.namespace,
                metric=metrics.error_metric,
                dimensions=dimensions,
                comparison=">",
                threshold=to_metric(float(rollout.max_error_rate), metrics.error_unit),
                times=alarms.evaluation_periods,
                advice=f"The 5xx ratio of {name} is above {rollout.max_error_rate:g} (the release gate). "
                "Read its logs; roll back by setting live to the previous version.",
                statistic=READ_STATISTIC,
            ),
        ]
    return rules


# DLC job metrics' dimensions besides the workspace (fidelity-audit D10); jobId is left out, see the docstring.
TRAINING_ACCOUNT_DIMENSION: Final = "userId"
TRAINING_REGION_DIMENSION: Final = "regionId"


def training_rule(
    alarms: AlarmConfig, workspace_id: pulumi.Input[str], *, account_id: pulumi.Input[str], region: str
) -> AlarmRule:
    """The under-used-GPU rule for the workspace's DLC jobs, sustained for ``gpuSustainedMinutes``."""
    return AlarmRule(
        name="training-gpu-underused",
        namespace=alarms.training_namespace,
        metric=alarms.gpu_metric,
        dimensions={
            TRAINING_ACCOUNT_DIMENSION: account_id,
            TRAINING_REGION_DIMENSION: region,
            alarms.training_dimension: workspace_id,
        },
        comparison="<",
        threshold=float(alarms.gpu_utilization_min),
        times=max(1, math.ceil(alarms.gpu_sustained_minutes * 60 / alarms.period_seconds)),
        advice=DATA_LOADING_ADVICE,
    )


def metric_checks_of(config: StackConfig) -> list[MetricCheck]:
    """:func:`metric_checks` of a stack: the serving metrics when it serves, the alarms' when they are enabled."""
    return metric_checks(
        config.serving.metrics if config.serving.services else None,
        config.alarms if config.alarms_enabled else None,
        gpu=any(uses_gpu(job) for job in config.training.jobs),
    )


def metric_checks(metrics: MetricsConfig | None, alarms: AlarmConfig | None, *, gpu: bool) -> list[MetricCheck]:
    """What ``pulumi up`` verifies in CloudMonitor: the EAS metrics the gates read (``metrics``, when the stack serves
    and its gates read CloudMonitor), the latency and error metrics the prod alarms watch (``alarms``: they are
    CloudMonitor rules whatever source the gates read), and with ``alarms`` on GPU training the DLC GPU metric; each
    with the config keys an error names."""
    checks: list[MetricCheck] = []
    if metrics is not None and (metrics.source == "cloudmonitor" or alarms is not None):
        checks += serving_checks(metrics, qps=metrics.source == "cloudmonitor")
    if alarms is not None and gpu:
        checks.append(
            MetricCheck(
                namespace=alarms.training_namespace,
                metric=alarms.gpu_metric,
                dimensions=(TRAINING_ACCOUNT_DIMENSION, TRAINING_REGION_DIMENSION, alarms.training_dimension),
                statistic=STATISTIC,
                key="pai-mlops:alarms.gpuMetric",
                namespace_key="pai-mlops:alarms.trainingNamespace",
                dimension_key="pai-mlops:alarms.trainingDimension",
            )
        )
    return checks


def serving_checks(metrics: MetricsConfig, *, qps: bool) -> list[MetricCheck]:
    """The checks of the EAS metrics: latency (its statistic and unit), 5xx ratio (its unit), and with ``qps`` the
    request rate; each naming the key that sets what it checks."""
    watched: list[tuple[str, str, str, str | None, str | None]] = [
        ("latencyMetric", metrics.latency_metric, metrics.latency_statistic, "latencyStatistic", metrics.latency_unit),
        ("errorMetric", metrics.error_metric, READ_STATISTIC, None, metrics.error_unit),
    ]
    if qps:
        watched.append(("qpsMetric", metrics.qps_metric, READ_STATISTIC, None, None))
    prefix = "pai-mlops:serving.metrics."
    return [
        MetricCheck(
            namespace=metrics.namespace,
            metric=metric,
            dimensions=(metrics.dimension,),
            statistic=statistic,
            key=f"{prefix}{field}",
            namespace_key=f"{prefix}namespace",
            dimension_key=f"{prefix}dimension",
            statistic_key=f"{prefix}{statistic_field}" if statistic_field else None,
            unit=unit,
            unit_key=f"{prefix}{field.replace('Metric', 'Unit')}" if unit else None,
        )
        for field, metric, statistic, statistic_field, unit in watched
    ]


@dataclass(frozen=True, kw_only=True)
class ProductionAlarmsArgs:
    services: tuple[ModelServiceConfig, ...]
    metrics: MetricsConfig
    alarms: AlarmConfig
    training_jobs: tuple[TrainingJobConfig, ...]
    workspace_id: pulumi.Input[str]
    name_prefix: str
    account_id: pulumi.Input[str]  # the account uid and region: dimensions of DLC job metrics
    region: str
    # The MetricMetaCheck that verifies the watched metrics: every rule waits for it, so none is created on a name
    # CloudMonitor does not know.
    metric_check: pulumi.Resource | None = None

    @classmethod
    def of_stack(
        cls,
        config: StackConfig,
        *,
        workspace_id: pulumi.Input[str],
        account_id: pulumi.Input[str],
        metric_check: pulumi.Resource | None,
    ) -> ProductionAlarmsArgs:
        """The alarms of every service and training job of ``config``."""
        return cls(
            services=config.serving.services,
            metrics=config.serving.metrics,
            alarms=config.alarms,
            training_jobs=config.training.jobs,
            workspace_id=workspace_id,
            name_prefix=config.name_prefix,
            account_id=account_id,
            region=config.region,
            metric_check=metric_check,
        )


class ProductionAlarms(pulumi.ComponentResource):
    """The contact group and one ``cms.Alarm`` per rule. Output: ``rules`` (alarm name → advice).

    Nothing here depends on a training job, so the rules exist before, and while, the stack's runs train.
    """

    def __init__(self, name: str, args: ProductionAlarmsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pai-mlops:monitoring:ProductionAlarms", name, None, opts)
        if args.alarms.contact_group is None:
            raise ValueError("pai-mlops:alarms.contactGroup is required for production alarms")
        child = pulumi.ResourceOptions(parent=self)
        self.contact_group = cms.AlarmContactGroup(
            f"{name}-contacts",
            alarm_contact_group_name=args.alarms.contact_group,
            contacts=list(args.alarms.contacts),
            describe=f"{args.name_prefix}: production serving and training alarms",
            opts=child,
        )
        self.rules: dict[str, str] = {}
        rules = [rule for service in args.services for rule in serving_rules(service, args.metrics, args.alarms)]
        if any(uses_gpu(job) for job in args.training_jobs):
            rules.append(training_rule(args.alarms, args.workspace_id, account_id=args.account_id, region=args.region))
        for rule in rules:
            self._alarm(name, rule, args)
        self.register_outputs({"rules": self.rules})

    def _alarm(self, name: str, rule: AlarmRule, args: ProductionAlarmsArgs) -> None:
        cms.Alarm(
            f"{name}-{rule.name}",
            name=f"{args.name_prefix}-{rule.name}",
            project=rule.namespace,
            metric=rule.metric,
            metric_dimensions=pulumi.Output.all(**rule.dimensions).apply(lambda values: json.dumps([values])),
            period=args.alarms.period_seconds,
            escalations_critical=cms.AlarmEscalationsCriticalArgs(
                statistics=rule.statistic,
                comparison_operator=rule.comparison,
                threshold=threshold_text(rule.threshold),
                times=rule.times,
            ),
            contact_groups=[self.contact_group.alarm_contact_group_name],
            silence_time=SILENCE_SECONDS,
            enabled=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.metric_check] if args.metric_check else None),
        )
        self.rules[f"{args.name_prefix}-{rule.name}"] = rule.advice
