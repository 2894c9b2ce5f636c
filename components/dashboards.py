"""StackDashboard: the stack's Grafana dashboard, generated from its config and deployed through the Grafana provider.

Creates, with an explicit ``grafana`` provider of its own (``dashboards.url``, and the secret ``pai-mlops:grafanaAuth``
as ``auth``, kept secret in state): a folder when ``dashboards.folder`` is set, and one ``grafana:oss/dashboard``
whose ``config_json`` is :func:`components.dashboard_model.dashboard_json` of the stack. Every served version and
every GPU training run of the config gets its panels, so a new service or run gets them by being configured; a
removed one loses them at the next ``up``. The dashboard waits for the stack's ``MetricMetaCheck``, so a metric name
CloudMonitor does not list fails ``up`` naming its key instead of leaving empty panels. Output: ``uid``, ``url``.

Sources: pulumiverse_grafana 2.44.0 ``provider.py`` (``url``; ``auth``: "API token, basic auth in the
``username:password`` format or ``anonymous``", stored as a secret), ``oss/dashboard.py`` (``config_json``: "The
complete dashboard model JSON", ``folder``: "The id or UID of the folder"; outputs ``uid``, ``url``),
``oss/folder.py`` (``title``, ``uid``). The JSON model: ``components/dashboard_model.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumiverse_grafana as grafana

from components.dashboard_model import (
    STATISTIC,
    TRAINING_JOB_DIMENSION,
    DashboardModel,
    ServedModel,
    TrainingRun,
    dashboard_json,
)
from components.monitoring import serving_checks, uses_gpu
from providers.metric_meta import MetricCheck
from stack_config import StackConfig


def gpu_runs(config: StackConfig) -> tuple[tuple[str, str], ...]:
    """``(job, run)`` of the training runs on GPUs: the ones with a GPU utilisation panel."""
    return tuple((job.name, job.run) for job in config.training.jobs if uses_gpu(job))


def dashboard_checks(config: StackConfig) -> list[MetricCheck]:
    """What ``pulumi up`` verifies in CloudMonitor's metric catalogue before an enabled dashboard is created: every
    metric it draws, with the dimensions it filters on and the key that names it (the gates' and alarms' own checks,
    ``components.monitoring.metric_checks_of``, cover some of them; the caller merges both lists)."""
    if not config.dashboards.enabled:
        return []
    metrics, alarms = config.serving.metrics, config.alarms
    checks = serving_checks(metrics, qps=True) if config.serving.services else []
    if config.serving.services and config.dashboards.instances_metric is not None:
        checks.append(
            MetricCheck(
                namespace=metrics.namespace,
                metric=config.dashboards.instances_metric,
                dimensions=(metrics.dimension,),
                statistic=STATISTIC,
                key="pai-mlops:dashboards.instancesMetric",
                namespace_key="pai-mlops:serving.metrics.namespace",
                dimension_key="pai-mlops:serving.metrics.dimension",
            )
        )
    if gpu_runs(config):
        checks.append(
            MetricCheck(
                namespace=alarms.training_namespace,
                metric=alarms.gpu_metric,
                dimensions=(alarms.training_dimension, TRAINING_JOB_DIMENSION),
                statistic=STATISTIC,
                key="pai-mlops:alarms.gpuMetric",
                namespace_key="pai-mlops:alarms.trainingNamespace",
                dimension_key="pai-mlops:alarms.trainingDimension",
            )
        )
    return checks


def merged_checks(*lists: list[MetricCheck]) -> list[MetricCheck]:
    """The checks of every list, each (namespace, metric, dimensions) once, the first one's keys kept."""
    seen: dict[tuple[str, str, tuple[str, ...]], MetricCheck] = {}
    for check in (check for checks in lists for check in checks):
        seen.setdefault((check.namespace, check.metric, check.dimensions), check)
    return list(seen.values())


def known_id(job: str, value: object) -> str:
    """A DLC job id the dashboard can filter on; never the text 'None' (a panel that would match no job)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"training job {job!r} has no DLC job id to chart; its dashboard panel would stay empty")
    return value


def model_of(config: StackConfig, *, stack: str, workspace_id: str, job_ids: Mapping[str, str]) -> DashboardModel:
    """The dashboard of ``config``; ``job_ids`` maps each GPU training job's name to its DLC job id."""
    metrics, alarms, dashboards = config.serving.metrics, config.alarms, config.dashboards
    return DashboardModel(
        uid=config.name_prefix,  # unique per stack in an account, at most 24 characters (Grafana allows 40)
        title=f"pai-mlops · {stack} ({config.environment})",
        tags=("pai-mlops", config.environment),
        datasource_type=dashboards.datasource_type,
        datasource_uid=dashboards.datasource_uid or "<dashboards.datasourceUid>",
        period_seconds=alarms.period_seconds,
        namespace=metrics.namespace,
        dimension=metrics.dimension,
        latency_metric=metrics.latency_metric,
        error_metric=metrics.error_metric,
        qps_metric=metrics.qps_metric,
        latency_statistic=metrics.latency_statistic,
        latency_unit=metrics.latency_unit,
        error_unit=metrics.error_unit,
        instances_metric=dashboards.instances_metric,
        training_namespace=alarms.training_namespace,
        gpu_metric=alarms.gpu_metric,
        workspace_dimension=alarms.training_dimension,
        workspace_id=workspace_id,
        gpu_utilization_min=float(alarms.gpu_utilization_min),
        services=tuple(
            ServedModel(
                name=svc.name,
                versions=tuple((version, svc.eas_service_name(version)) for version in svc.versions),
                max_p95_latency_ms=float(svc.rollout.max_p95_latency_ms),
                max_error_rate=float(svc.rollout.max_error_rate),
            )
            for svc in config.serving.services
        ),
        runs=tuple(TrainingRun(job=job, run=run, job_id=job_ids[job]) for job, run in gpu_runs(config)),
    )


@dataclass(frozen=True, kw_only=True)
class StackDashboardArgs:
    config: StackConfig
    stack: str
    auth: pulumi.Input[str]  # the secret pai-mlops:grafanaAuth
    workspace_id: pulumi.Input[str]
    job_ids: Mapping[str, pulumi.Input[str]]  # every GPU training job's DLC job id, by job name
    # The MetricMetaCheck of the stack: the dashboard is created only once its metric names are proven.
    metric_check: pulumi.Resource | None = None

    @classmethod
    def of_stack(
        cls,
        config: StackConfig,
        *,
        auth: pulumi.Input[str] | None,
        workspace_id: pulumi.Input[str],
        job_ids: Mapping[str, pulumi.Input[str]],
        metric_check: pulumi.Resource | None,
    ) -> StackDashboardArgs:
        if auth is None:  # config validation refuses an enabled dashboard without the secret; never sign in blank
            raise ValueError("pai-mlops:grafanaAuth is required for dashboards (pulumi config set --secret)")
        gpu_jobs = {job for job, _ in gpu_runs(config)}
        return cls(
            config=config,
            stack=pulumi.get_stack(),
            auth=auth,
            workspace_id=workspace_id,
            job_ids={name: job_id for name, job_id in job_ids.items() if name in gpu_jobs},
            metric_check=metric_check,
        )


class StackDashboard(pulumi.ComponentResource):
    """The Grafana provider, the folder (if configured) and the dashboard. Outputs: ``uid``, ``url``."""

    def __init__(self, name: str, args: StackDashboardArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pai-mlops:dashboards:StackDashboard", name, None, opts)
        settings = args.config.dashboards
        if settings.url is None:
            raise ValueError("pai-mlops:dashboards.url is required for dashboards")
        self.provider = grafana.Provider(
            f"{name}-grafana",
            url=settings.url,
            auth=pulumi.Output.secret(args.auth),
            opts=pulumi.ResourceOptions(parent=self),
        )
        on_grafana = pulumi.ResourceOptions(parent=self, provider=self.provider)
        folder = (
            grafana.oss.Folder(
                f"{name}-folder", title=settings.folder, uid=f"{args.config.name_prefix}-folder", opts=on_grafana
            )
            if settings.folder is not None
            else None
        )
        names = sorted(args.job_ids)
        config_json = pulumi.Output.all(args.workspace_id, *(args.job_ids[job] for job in names)).apply(
            lambda values: dashboard_json(
                model_of(
                    args.config,
                    stack=args.stack,
                    workspace_id=str(values[0]),
                    job_ids={job: known_id(job, value) for job, value in zip(names, values[1:], strict=True)},
                )
            )
        )
        self.dashboard = grafana.oss.Dashboard(
            f"{name}-dashboard",
            config_json=config_json,
            folder=folder.uid if folder is not None else None,
            message=f"pai-mlops: generated from the {args.stack} stack's config",
            opts=pulumi.ResourceOptions.merge(
                on_grafana, pulumi.ResourceOptions(depends_on=[args.metric_check] if args.metric_check else None)
            ),
        )
        self.uid = self.dashboard.uid
        self.url = self.dashboard.url
        self.register_outputs({"uid": self.uid, "url": self.url})
