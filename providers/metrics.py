"""Serving metrics of one EAS service for traffic-shift gates: CloudMonitor or a Prometheus HTTP API.

A reader answers "what are this service's P95 latency, error ratio and request rate right now", or None when there
is no data (no traffic, or the metrics backend did not answer). None never passes a gate: the shift treats it as
inconclusive (see providers/traffic.py).

CloudMonitor: the namespace and dimension key of EAS metrics are UNCONFIRMED in public docs
(shared/reference/eas-api.md §5), so both are inputs; the defaults (``acs_pai_eas``, ``serviceName``) are the
common assumption. Prometheus: the queries are inputs with a ``{service}`` placeholder.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

CLOUDMONITOR_DEFAULTS: Final[Mapping[str, Any]] = {
    "source": "cloudmonitor",
    "namespace": "acs_pai_eas",
    "dimension": "serviceName",
    "latency_metric": "TP95ResponseTime",
    "error_metric": "5xxResponseRatio",
    "qps_metric": "QueryPerSecondTotal",
    "period_seconds": 60,
}
PROMETHEUS_DEFAULTS: Final[Mapping[str, Any]] = {
    "source": "prometheus",
    "endpoint": "",
    "latency_query": 'pai_eas_latency_p95_ms{{service="{service}"}}',
    "error_query": 'pai_eas_error_ratio{{service="{service}"}}',
    "qps_query": 'pai_eas_qps{{service="{service}"}}',
}
SOURCES: Final = ("cloudmonitor", "prometheus")


@dataclass(frozen=True)
class Sample:
    p95_latency_ms: float
    error_ratio: float
    qps: float


class MetricsReader(Protocol):
    def read(self, service: str) -> Sample | None: ...


def with_defaults(settings: Mapping[str, Any] | None) -> dict[str, Any]:
    settings = dict(settings or {})
    base = PROMETHEUS_DEFAULTS if settings.get("source") == "prometheus" else CLOUDMONITOR_DEFAULTS
    return {**base, **{k: v for k, v in settings.items() if v is not None}}


def problems(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    if settings.get("source") not in SOURCES:
        return [("metrics.source", f"must be cloudmonitor or prometheus; got {settings.get('source')!r}")]
    if settings["source"] == "prometheus":
        found: list[tuple[str, str]] = []
        if not str(settings.get("endpoint") or "").startswith(("http://", "https://")):
            found.append(("metrics.endpoint", "the Prometheus HTTP API needs an http(s):// base URL"))
        for name in ("latency_query", "error_query", "qps_query"):
            if "{service}" not in str(settings.get(name) or ""):
                found.append((f"metrics.{name}", "must contain {service}, where the service name goes"))
        return found
    return [(f"metrics.{k}", "is required") for k in ("namespace", "dimension") if not settings.get(k)]


class CloudMonitorReader:
    """``DescribeMetricLast`` per metric; the latest data point's Average."""

    def __init__(self, factory: Any, settings: Mapping[str, Any], call: Callable[[str, Callable[[], Any]], Any]):
        self._client = factory.cloudmonitor()
        self._settings = settings
        self._call = call

    def _last(self, metric: str, service: str) -> float | None:
        from alibabacloud_cms20190101 import models as cms

        request = cms.DescribeMetricLastRequest(
            namespace=self._settings["namespace"],
            metric_name=metric,
            dimensions=json.dumps([{self._settings["dimension"]: service}]),
            period=str(self._settings["period_seconds"]),
        )
        body = self._call(f"read {metric} of {service}", lambda: self._client.describe_metric_last(request)).body
        raw = json.loads(body.datapoints or "[]") if isinstance(body.datapoints, str) else body.datapoints or []
        points: list[dict[str, Any]] = [point for point in raw if isinstance(point, dict)]
        if not points:
            return None

        def moment(point: dict[str, Any]) -> float:
            stamp = point.get("timestamp", 0)
            return float(stamp) if isinstance(stamp, int | float) else 0.0

        latest = max(points, key=moment)
        value = latest.get("Average", latest.get("Value"))
        return float(value) if isinstance(value, int | float) else None

    def read(self, service: str) -> Sample | None:
        settings = self._settings
        values = [self._last(settings[k], service) for k in ("latency_metric", "error_metric", "qps_metric")]
        if any(value is None for value in values):
            return None
        latency, errors, qps = (float(value or 0.0) for value in values)
        return Sample(latency, errors, qps)


class PrometheusReader:
    """Instant queries against ``<endpoint>/api/v1/query``; a single-series answer per query."""

    def __init__(self, base_url: str, settings: Mapping[str, Any], timeout: float = 10.0) -> None:
        self._base = base_url.rstrip("/")
        self._settings = settings
        self._timeout = timeout

    def _query(self, query: str) -> float | None:
        url = f"{self._base}/api/v1/query?{urllib.parse.urlencode({'query': query})}"
        try:
            with urllib.request.urlopen(url, timeout=self._timeout) as response:
                body = json.loads(response.read())
        except (urllib.error.URLError, TimeoutError, ValueError):
            return None  # the backend did not answer: no data, which never passes a gate
        result = (body.get("data") or {}).get("result") or [] if body.get("status") == "success" else []
        if len(result) != 1:
            return None
        try:
            return float(result[0]["value"][1])
        except (KeyError, IndexError, TypeError, ValueError):
            return None

    def read(self, service: str) -> Sample | None:
        queries = [self._settings[k].format(service=service) for k in ("latency_query", "error_query", "qps_query")]
        values = [self._query(query) for query in queries]
        if any(value is None for value in values):
            return None
        latency, errors, qps = (float(value or 0.0) for value in values)
        return Sample(latency, errors, qps)


def reader(factory: Any, settings: Mapping[str, Any], call: Callable[[str, Callable[[], Any]], Any]) -> MetricsReader:
    if settings["source"] == "prometheus":
        return PrometheusReader(factory.prometheus_url(settings["endpoint"]), settings)
    return CloudMonitorReader(factory, settings, call)
