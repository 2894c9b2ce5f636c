"""``serving.metrics``: where the release gates, the alarms and the dashboards read a service version's latency,
error ratio and request rate, and the rule across its keys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import StrictStr
from pydantic.dataclasses import dataclass

from config_problems import MISSING, Problem, key
from stack_config.fields import MODEL


@dataclass(frozen=True, kw_only=True, config=MODEL)
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


def metrics_problems(raw: Mapping[str, Any]) -> list[Problem]:
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
