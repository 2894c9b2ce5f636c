"""The stack's Grafana dashboard as data: a pure function from a :class:`DashboardModel` to dashboard JSON.

No Pulumi here: ``components/dashboards.py`` builds the model from the stack config (and the ids known only at
``pulumi up``) and deploys the JSON; ``tools/dashboard_file.py`` writes the same JSON for the offline plan.

What is drawn, per served model: one row, and in it five time series with one series per served version (so a
release shows the old and the new version side by side): latency (``serving.metrics.latencyStatistic`` of
``latencyMetric``: by default the mean ``rt``, so the panel says "mean", not P95) and 5xx ratio, each in its
metric's own unit (rt in µs, the ratio in %) with the release gate's threshold converted to that unit as a red
line; requests per second, running instances, and each version's share of the model's requests, stacked to 100 %
and drawn as steps, so each traffic step of a release shows as a step. Per GPU training run: its
GPU utilisation (with the alarm's ``gpuUtilizationMin`` as a line).

Classic dashboard JSON model, ``schemaVersion`` :data:`SCHEMA_VERSION` (Grafana 11; Grafana migrates an older
schemaVersion up when it loads a dashboard): https://grafana.com/docs/grafana/latest/dashboards/build-dashboards/
view-dashboard-json-model/. Panel options (``lineInterpolation: stepAfter``, ``stacking.mode: percent``,
``thresholdsStyle.mode: line``) are the time series panel's: https://grafana.com/docs/grafana/latest/panels-
visualizations/visualizations/time-series/.

Queries follow the Alibaba CloudMonitor data source plugin (plugin id ``aliyun_cms_grafana_datasource``;
aliyun/aliyun-cms-grafana ``src/plugin.json``, ``src/datasource.js`` ``query()``): a target is ``project``
(the CloudMonitor namespace), ``metric``, ``period`` (seconds, as text), ``dimensions`` (a list of JSON objects
as text, sent as DescribeMetricList's ``Dimensions``), ``ycol`` (the statistics to draw), ``xcol: timestamp`` and
``describe`` (the series name's prefix). UNCONFIRMED: that ARMS Managed Grafana's own CloudMonitor data source reads
the same query model (docs/day-one.md).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from providers.metrics import to_metric

SCHEMA_VERSION: Final = 39
STATISTIC: Final = "Average"  # the statistic of every other panel (providers.metrics.READ_STATISTIC)
# Grafana unit ids (https://grafana.com/docs/grafana/latest/panels-visualizations/configure-standard-options/#unit):
# "percent" is 0-100, "percentunit" 0-1.
GRAFANA_UNITS: Final = {"microseconds": "µs", "milliseconds": "ms", "percent": "percent", "ratio": "percentunit"}
STATISTIC_WORDS: Final = {"Average": "mean", "Maximum": "max", "Minimum": "min"}
# DLC job metrics' job dimension (shared/reference/fidelity-audit.md D10: jobId, regionId, userId, workspaceId).
TRAINING_JOB_DIMENSION: Final = "jobId"
PANEL_WIDTH: Final = 8  # three panels to a line of Grafana's 24 columns
PANEL_HEIGHT: Final = 8
ROW_HEIGHT: Final = 1


@dataclass(frozen=True, kw_only=True)
class ServedModel:
    """One served model and the thresholds its release gates use."""

    name: str
    versions: tuple[tuple[str, str], ...]  # (version, EAS service name), in the config's order
    max_p95_latency_ms: float
    max_error_rate: float


@dataclass(frozen=True, kw_only=True)
class TrainingRun:
    """One GPU training run: its config names and the DLC job id (known once it is submitted)."""

    job: str
    run: str
    job_id: str


@dataclass(frozen=True, kw_only=True)
class DashboardModel:
    """Everything the dashboard shows, already resolved to plain values."""

    uid: str
    title: str
    tags: tuple[str, ...]
    datasource_type: str
    datasource_uid: str
    period_seconds: int
    # serving.metrics: the names the release gates and the alarms read
    namespace: str
    dimension: str
    latency_metric: str
    error_metric: str
    qps_metric: str
    latency_statistic: str
    latency_unit: str  # serving.metrics.latencyUnit / errorUnit: the units of the data points
    error_unit: str
    instances_metric: str | None  # None: no instance metric named yet; the panel says which key to set
    # alarms: the DLC job metric, and the workspace the runs belong to
    training_namespace: str
    gpu_metric: str
    workspace_dimension: str
    workspace_id: str
    gpu_utilization_min: float
    services: tuple[ServedModel, ...]
    runs: tuple[TrainingRun, ...]


def cms_target(
    ref: str,
    model: DashboardModel,
    namespace: str,
    metric: str,
    dimensions: Mapping[str, str],
    legend: str,
    statistic: str = STATISTIC,
) -> dict[str, Any]:
    """One CloudMonitor query of the plugin's query model (see the module docstring)."""
    return {
        "refId": ref,
        "datasource": _datasource(model),
        "project": namespace,
        "metric": metric,
        "period": str(model.period_seconds),
        "dimensions": [json.dumps(dict(dimensions), sort_keys=True)],
        "ycol": [statistic],
        "xcol": "timestamp",
        "describe": legend,
        "group": "",
        "type": "timeserie",
    }


def _datasource(model: DashboardModel) -> dict[str, str]:
    return {"type": model.datasource_type, "uid": model.datasource_uid}


def ref_id(index: int) -> str:
    """Query ids A, B, … Z, AA, AB, …"""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _thresholds(line: float | None) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
    if line is not None:
        steps.append({"color": "red", "value": line})
    return {"mode": "absolute", "steps": steps}


def timeseries(
    title: str,
    targets: Sequence[dict[str, Any]],
    *,
    model: DashboardModel,
    unit: str,
    threshold: float | None = None,
    stepped: bool = False,
    percent_stack: bool = False,
    description: str = "",
) -> dict[str, Any]:
    """A time series panel (without its id and position, which :func:`dashboard` assigns)."""
    custom: dict[str, Any] = {
        "drawStyle": "line",
        "lineInterpolation": "stepAfter" if stepped else "linear",
        "fillOpacity": 60 if percent_stack else 0,
        "stacking": {"mode": "percent" if percent_stack else "none", "group": "A"},
        "thresholdsStyle": {"mode": "line" if threshold is not None else "off"},
    }
    return {
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": _datasource(model),
        "targets": list(targets),
        "fieldConfig": {
            "defaults": {"unit": unit, "custom": custom, "thresholds": _thresholds(threshold)},
            "overrides": [],
        },
        "options": {"legend": {"displayMode": "table", "placement": "bottom", "showLegend": True}},
    }


def service_panels(service: ServedModel, model: DashboardModel) -> list[dict[str, Any]]:
    """The five panels of one served model, each with one series per served version."""

    def per_version(metric: str, statistic: str = STATISTIC) -> list[dict[str, Any]]:
        return [
            cms_target(ref_id(i), model, model.namespace, metric, {model.dimension: eas_name}, version, statistic)
            for i, (version, eas_name) in enumerate(service.versions)
        ]

    statistic = STATISTIC_WORDS.get(model.latency_statistic, model.latency_statistic)

    instances_targets = per_version(model.instances_metric) if model.instances_metric is not None else []
    name = service.name
    return [
        timeseries(
            f"{name} · latency ({model.latency_metric}, {statistic})",
            per_version(model.latency_metric, model.latency_statistic),
            model=model,
            unit=GRAFANA_UNITS[model.latency_unit],
            threshold=to_metric(service.max_p95_latency_ms, model.latency_unit),
            description=f"{model.latency_statistic} of {model.latency_metric} in {model.latency_unit}; the red line "
            "is the release gate (rollout.maxP95LatencyMs).",
        ),
        timeseries(
            f"{name} · error ratio (5xx)",
            per_version(model.error_metric),
            model=model,
            unit=GRAFANA_UNITS[model.error_unit],
            threshold=to_metric(service.max_error_rate, model.error_unit),
            description=f"{model.error_metric} in {model.error_unit}; the red line is the release gate "
            "(rollout.maxErrorRate).",
        ),
        timeseries(f"{name} · requests per second", per_version(model.qps_metric), model=model, unit="reqps"),
        timeseries(
            f"{name} · instances",
            instances_targets,
            model=model,
            unit="none",
            stepped=True,
            description=model.instances_metric
            or "No instance metric named: set pai-mlops:dashboards.instancesMetric (docs/dashboards.md).",
        ),
        timeseries(
            f"{name} · traffic share per version (%)",
            per_version(model.qps_metric),
            model=model,
            unit="percent",
            stepped=True,
            percent_stack=True,
            description=f"Each version's {model.qps_metric} as a share of the model's: every traffic step of a "
            "release is a step here.",
        ),
    ]


def training_panel(run: TrainingRun, model: DashboardModel) -> dict[str, Any]:
    """The GPU utilisation of one training run's DLC job."""
    dimensions = {model.workspace_dimension: model.workspace_id, TRAINING_JOB_DIMENSION: run.job_id}
    target = cms_target("A", model, model.training_namespace, model.gpu_metric, dimensions, f"{run.job}/{run.run}")
    return timeseries(
        f"training {run.job} run {run.run} · GPU utilisation (%)",
        [target],
        model=model,
        unit="percent",
        threshold=model.gpu_utilization_min,
        description=f"{model.gpu_metric}; below the line (alarms.gpuUtilizationMin) the input pipeline is the "
        "likely bottleneck.",
    )


def _row(title: str) -> dict[str, Any]:
    return {"type": "row", "title": title, "collapsed": False, "panels": []}


def dashboard(model: DashboardModel) -> dict[str, Any]:
    """The whole dashboard: a row per served model with its five panels, then a row of GPU training runs."""
    sections: list[tuple[dict[str, Any], list[dict[str, Any]]]] = [
        (_row(f"serving: {service.name}"), service_panels(service, model)) for service in model.services
    ]
    if model.runs:
        sections.append((_row("training: GPU utilisation"), [training_panel(run, model) for run in model.runs]))
    panels: list[dict[str, Any]] = []
    y = 0
    for row, members in sections:
        panels.append({**row, "gridPos": {"h": ROW_HEIGHT, "w": 24, "x": 0, "y": y}})
        y += ROW_HEIGHT
        for index, panel in enumerate(members):
            column, line = index % 3, index // 3
            position = {"h": PANEL_HEIGHT, "w": PANEL_WIDTH, "x": column * PANEL_WIDTH, "y": y + line * PANEL_HEIGHT}
            panels.append({**panel, "gridPos": position})
        y += PANEL_HEIGHT * -(-len(members) // 3)
    for number, panel in enumerate(panels, start=1):
        panel["id"] = number
    return {
        "uid": model.uid,
        "title": model.title,
        "tags": list(model.tags),
        "timezone": "browser",
        "editable": True,
        "graphTooltip": 1,  # a shared crosshair: the same moment on every panel
        "time": {"from": "now-24h", "to": "now"},
        "refresh": "1m",
        "schemaVersion": SCHEMA_VERSION,
        "version": 0,
        "links": [],
        "templating": {"list": []},
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                }
            ]
        },
        "panels": panels,
    }


def dashboard_json(model: DashboardModel) -> str:
    """:func:`dashboard` as the text the Grafana provider's ``config_json`` takes (stable key order)."""
    return json.dumps(dashboard(model), indent=2, sort_keys=True) + "\n"
