"""``serving.metrics``: where the release gates, the alarms and the dashboards read a service version's latency,
error ratio and request rate, and the rule across its keys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import StrictStr
from pydantic.dataclasses import dataclass

from config_problems import MISSING, Problem, key
from pai_facts import EAS_METRIC_DEFAULTS
from stack_config.fields import MODEL


@dataclass(frozen=True, kw_only=True, config=MODEL)
class MetricsConfig:
    """Where release gates read the new version's latency and error ratio."""

    source: Literal["cloudmonitor", "prometheus"] = key("Write cloudmonitor or prometheus", default="cloudmonitor")
    # Defaults: pai_facts.EAS_METRIC_DEFAULTS, from CloudMonitor's metric appendix for EAS, the only source that gives
    # namespace, metric IDs, units and statistics; the PAI alert page's names (TP95ResponseTime, ...) are display
    # names, not IDs. Confirm on day one with DescribeMetricMetaList (docs/day-one.md).
    namespace: StrictStr = key(
        "Give the CloudMonitor namespace of EAS metrics (acs_learn per CloudMonitor's EAS metric appendix, 2020)",
        default=EAS_METRIC_DEFAULTS["namespace"],
    )
    dimension: StrictStr = key(
        "Give the CloudMonitor dimension that names the service (serviceName; userId is filled in by CloudMonitor)",
        default=EAS_METRIC_DEFAULTS["dimension"],
    )
    latency_metric: StrictStr = key(
        "Name the latency metric. The default rt (CloudMonitor's EAS appendix, 2020) is the MEAN response time: "
        "no percentile metric ID is documented, so the gate compares latencyStatistic (Average) of rt with "
        "rollout.maxP95LatencyMs. To gate on TP95, confirm its ID, statistics and unit with DescribeMetricMetaList "
        "and set latencyMetric, latencyStatistic and latencyUnit",
        default=EAS_METRIC_DEFAULTS["latency_metric"],
    )
    latency_statistic: StrictStr = key(
        "Name the statistic of latencyMetric the gates, alarms and dashboard read; rt lists Average, Maximum and "
        "Minimum (CloudMonitor checks an alarm's statistic against that list since 2024-08-15)",
        default=EAS_METRIC_DEFAULTS["latency_statistic"],
        min_length=1,
    )
    latency_unit: Literal["microseconds", "milliseconds"] = key(
        "Write microseconds (rt's unit per CloudMonitor's EAS appendix) or milliseconds: the unit latencyMetric's "
        "data points are in; readings are converted to the gate's milliseconds",
        default=EAS_METRIC_DEFAULTS["latency_unit"],
    )
    error_metric: StrictStr = key(
        "Name the 5xx-ratio metric (rps_status_5xx_ratio per CloudMonitor's EAS appendix, 2020)",
        default=EAS_METRIC_DEFAULTS["error_metric"],
    )
    error_unit: Literal["percent", "ratio"] = key(
        "Write percent (0-100, rps_status_5xx_ratio's unit % per CloudMonitor's EAS appendix) or ratio (0-1): the "
        "unit errorMetric's data points are in; rollout.maxErrorRate stays a ratio and is converted",
        default=EAS_METRIC_DEFAULTS["error_unit"],
    )
    qps_metric: StrictStr = key(
        "Name the request-rate metric (qps_total per CloudMonitor's EAS appendix, 2020)",
        default=EAS_METRIC_DEFAULTS["qps_metric"],
    )
    endpoint: StrictStr | None = key(
        "Give the Prometheus HTTP API base URL, e.g. 'https://prometheus.example.com'",
        default=None,
        rule="an http(s):// URL",
        pattern=r"^https?://\S+$",
    )


# A metric named in config other than the default must say its unit: the defaults' units are the default metrics'
# (rt in microseconds, rps_status_5xx_ratio in percent), and a stack that named the metrics of an earlier release
# (TP95ResponseTime in ms, 5xxResponseRatio as 0-1) would otherwise compare them 1000 or 100 times too small, and
# its gates would never trip. MetricMetaCheck compares the unit with CloudMonitor's catalogue only when it reports one.
_UNIT_OF: dict[str, tuple[str, str]] = {
    "latencyMetric": ("latencyUnit", EAS_METRIC_DEFAULTS["latency_metric"]),
    "errorMetric": ("errorUnit", EAS_METRIC_DEFAULTS["error_metric"]),
}


def metrics_problems(raw: Mapping[str, Any]) -> list[Problem]:
    serving = raw.get("serving")
    metrics = serving.get("metrics") if isinstance(serving, dict) else None
    if not isinstance(metrics, dict):
        return []
    if metrics.get("source") == "prometheus":
        if metrics.get("endpoint"):
            return []
        return [
            Problem(
                "pai-mlops:serving.metrics",
                "endpoint",
                "is required with source prometheus",
                MISSING,
                "Give the Prometheus HTTP API base URL, e.g. 'https://prometheus.example.com'",
            )
        ]
    problems: list[Problem] = []
    for metric_key, (unit_key, default) in _UNIT_OF.items():
        metric = metrics.get(metric_key)
        if isinstance(metric, str) and metric != default and unit_key not in metrics:
            problems.append(
                Problem(
                    "pai-mlops:serving.metrics",
                    unit_key,
                    f"is required when {metric_key} is not the default {default}",
                    MISSING,
                    f"Write the unit {metric}'s data points are in (DescribeMetricMetaList shows it; docs/day-one.md)",
                )
            )
    return problems
