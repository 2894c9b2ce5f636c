"""Serving metrics of one EAS service for traffic-shift gates: CloudMonitor or a Prometheus HTTP API.

A reader answers "what are this service's P95 latency, error ratio and request rate right now", or None when there
is no data (no traffic, or the metrics backend did not answer). None never passes a gate: the shift treats it as
inconclusive (see providers/traffic.py).

Readings fail safe. A value that is not a finite number (NaN, infinity, null, a missing field, a string, a bool) is
no data for that metric: it can never pass a gate, while a finite value of another metric in the same reading can
still breach one. A query the backend refuses (a 4xx other than throttling: wrong namespace, metric or dimension, no
permission; or CloudMonitor's HTTP 200 with ``Success: false``, whose ``Code`` carries the HTTP status, see
``DescribeMetricLastResponseBody``) raises :class:`MetricsRefused`, naming the config keys to fix: the shift
restores the previous weights at once. Transient failures (throttling, 5xx, lost answers) are retried within the
check interval and are no data if they persist.

CloudMonitor: the namespace and dimension key of EAS metrics are UNCONFIRMED in public docs
(shared/reference/eas-api.md §5), so both are inputs; the defaults (``acs_pai_eas``, ``serviceName``) are the
common assumption. Prometheus: the queries are inputs with a ``{service}`` placeholder.
"""

from __future__ import annotations

import json
import math
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


# The stack config key (``serving.metrics.*``, camelCase) behind each TrafficShift ``metrics`` setting.
CONFIG_KEYS: Final[Mapping[str, str]] = {
    "namespace": "serving.metrics.namespace",
    "dimension": "serving.metrics.dimension",
    "latency_metric": "serving.metrics.latencyMetric",
    "error_metric": "serving.metrics.errorMetric",
    "qps_metric": "serving.metrics.qpsMetric",
    "endpoint": "serving.metrics.endpoint",
}


@dataclass(frozen=True)
class Sample:
    """One reading; a metric that had no trustworthy value is None."""

    p95_latency_ms: float | None
    error_ratio: float | None
    qps: float | None

    @property
    def complete(self) -> bool:
        return None not in (self.p95_latency_ms, self.error_ratio, self.qps)


class MetricsRefused(Exception):
    """The metrics backend refused a query: retrying cannot help, a config key (or a permission) must change."""


class MetricsReader(Protocol):
    def read(self, service: str) -> Sample | None: ...


def finite(value: Any) -> float | None:
    """``value`` as a float if it is a finite number (not a bool, not a numeric string), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _sample(values: list[float | None]) -> Sample | None:
    if all(value is None for value in values):
        return None
    latency, errors, qps = values
    return Sample(latency, errors, qps)


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

    def _refused(self, setting: str, metric: str, service: str, detail: str) -> MetricsRefused:
        settings = self._settings
        keys = ", ".join(CONFIG_KEYS[k] for k in ("namespace", "dimension", setting))
        return MetricsRefused(
            f"CloudMonitor refused the query for {metric} of {service} (namespace {settings['namespace']!r}, "
            f"dimension {settings['dimension']!r}): {detail}. Fix {keys} (the TrafficShift input metrics.*) to the "
            f"names the CloudMonitor console shows for EAS, or grant the deploying identity cms:QueryMetricLast"
        )

    def _last(self, setting: str, service: str) -> float | None:
        from alibabacloud_cms20190101 import models as cms

        from providers import retry

        metric = str(self._settings[setting])
        request = cms.DescribeMetricLastRequest(
            namespace=self._settings["namespace"],
            metric_name=metric,
            dimensions=json.dumps([{self._settings["dimension"]: service}]),
            period=str(self._settings["period_seconds"]),
        )
        try:
            body = self._call(f"read {metric} of {service}", lambda: self._client.describe_metric_last(request)).body
        except Exception as error:
            if retry.is_transient(error):
                return None  # still failing after the retries the check interval allows: no data this time
            raise self._refused(setting, metric, service, retry.describe(error)) from error
        if body.success is False or str(body.code or "200") != "200":
            raise self._refused(setting, metric, service, f"Code {body.code}, Success {body.success}: {body.message}")
        try:
            raw = json.loads(body.datapoints or "[]") if isinstance(body.datapoints, str) else body.datapoints or []
        except ValueError:
            return None
        points: list[dict[str, Any]] = (
            [point for point in raw if isinstance(point, dict)] if isinstance(raw, list) else []
        )
        if not points:
            return None
        latest = max(points, key=lambda point: finite(point.get("timestamp")) or 0.0)
        return finite(latest.get("Average", latest.get("Value")))

    def read(self, service: str) -> Sample | None:
        return _sample([self._last(k, service) for k in ("latency_metric", "error_metric", "qps_metric")])


class PrometheusReader:
    """Instant queries against ``<endpoint>/api/v1/query``; a single-series answer per query."""

    def __init__(self, base_url: str, settings: Mapping[str, Any], timeout: float = 10.0) -> None:
        self._base = base_url.rstrip("/")
        self._settings = settings
        self._timeout = timeout

    def _query(self, setting: str, service: str) -> float | None:
        query = self._settings[setting].format(service=service)
        url = f"{self._base}/api/v1/query?{urllib.parse.urlencode({'query': query})}"
        try:
            with urllib.request.urlopen(url, timeout=self._timeout) as response:
                body = json.loads(response.read())
        except urllib.error.HTTPError as error:
            if error.code == 429 or error.code >= 500:
                return None  # transient: the next check asks again
            raise MetricsRefused(
                f"Prometheus refused the query {query!r} for {service} (HTTP {error.code}). Fix "
                f"{CONFIG_KEYS['endpoint']} or the TrafficShift input metrics.{setting}"
            ) from error
        except (urllib.error.URLError, TimeoutError, ValueError):
            return None  # the backend did not answer: no data, which never passes a gate
        if not isinstance(body, dict):
            return None
        if body.get("status") == "error":
            raise MetricsRefused(
                f"Prometheus refused the query {query!r} for {service}: {body.get('errorType')}: {body.get('error')}. "
                f"Fix the TrafficShift input metrics.{setting}"
            )
        result = (body.get("data") or {}).get("result") or [] if body.get("status") == "success" else []
        if not isinstance(result, list) or len(result) != 1:
            return None
        try:
            text = result[0]["value"][1]
        except (KeyError, IndexError, TypeError):
            return None
        try:
            return finite(float(text)) if isinstance(text, str) else None  # the API writes values as strings
        except ValueError:
            return None

    def read(self, service: str) -> Sample | None:
        return _sample([self._query(k, service) for k in ("latency_query", "error_query", "qps_query")])


def reader(factory: Any, settings: Mapping[str, Any], call: Callable[[str, Callable[[], Any]], Any]) -> MetricsReader:
    if settings["source"] == "prometheus":
        return PrometheusReader(factory.prometheus_url(settings["endpoint"]), settings)
    return CloudMonitorReader(factory, settings, call)
