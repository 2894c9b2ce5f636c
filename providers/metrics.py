"""Serving metrics of one EAS service for traffic-shift gates: CloudMonitor or a Prometheus HTTP API.

A reader answers "what are this service's latency, error ratio and request rate right now", or None when there
is no data (no traffic, or the metrics backend did not answer). None never passes a gate: the shift treats it as
inconclusive (see providers/traffic.py).

Readings fail safe. A value that is not a finite number (NaN, infinity, null, a missing field, a string, a bool) is
no data for that metric: it can never pass a gate, while a finite value of another metric in the same reading can
still breach one. A query the backend refuses (a 4xx other than throttling: wrong namespace, metric or dimension, no
permission; or CloudMonitor's HTTP 200 with ``Success: false``, whose ``Code`` carries the HTTP status, see
``DescribeMetricLastResponseBody``) raises :class:`MetricsRefused`, naming the config keys to fix: the shift
restores the previous weights at once. Transient failures (throttling, 5xx, lost answers) are retried within the
check interval and are no data if they persist.

CloudMonitor: the defaults are the IDs of CloudMonitor's metric appendix for EAS (AlibabaCloudDocs/cms,
``intl.en-US/Appendix 1: Metrics/Artificial intelligence/Machine learning platform/PAI-EAS inference service.md``,
2020-10): namespace ``acs_learn``, dimensions ``userId`` (filled in by CloudMonitor, so left out of queries, per the
appendix overview https://www.alibabacloud.com/help/doc-detail/165008.htm) and ``serviceName``; ``qps_total``
(Value, Average, Maximum), ``rps_status_5xx_ratio`` (unit %, Average, Maximum, Minimum, Value) and ``rt``
(microseconds, Average, Maximum, Minimum: the MEAN latency, not a percentile; no TPxx metric ID is documented).
Readings are converted to the gates' units (a ratio 0-1, milliseconds) here, by :data:`GATE_SCALE`, the one table
the alarms and the dashboard use too. A state's ``metrics`` written before the units existed (see
:func:`written_before_units`) is read as it was then: :data:`LEGACY_CLOUDMONITOR` (the display names, a ratio,
milliseconds, Average).
Prometheus: the queries are inputs with a ``{service}`` placeholder, answering in the gates' units.
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

from pai_facts import EAS_METRIC_DEFAULTS

READ_STATISTIC: Final = "Average"  # what error and qps readings use; both metrics list it (appendix above)
CLOUDMONITOR_DEFAULTS: Final[Mapping[str, Any]] = {
    "source": "cloudmonitor",
    **EAS_METRIC_DEFAULTS,
    "period_seconds": 60,
}
# What a cloudmonitor ``metrics`` input without ``error_unit`` (a state written before units existed) meant.
LEGACY_CLOUDMONITOR: Final[Mapping[str, Any]] = {
    **CLOUDMONITOR_DEFAULTS,
    "namespace": "acs_pai_eas",
    "latency_metric": "TP95ResponseTime",
    "latency_unit": "milliseconds",
    "error_metric": "5xxResponseRatio",
    "error_unit": "ratio",
    "qps_metric": "QueryPerSecondTotal",
}
# How many of a metric unit make one gate unit (a ratio 0-1; a millisecond): readings are divided by it, thresholds
# written to CloudMonitor (alarms, dashboard lines) multiplied.
GATE_SCALE: Final[Mapping[str, float]] = {"percent": 100.0, "ratio": 1.0, "microseconds": 1000.0, "milliseconds": 1.0}
UNITS: Final[Mapping[str, tuple[str, ...]]] = {
    "error_unit": ("percent", "ratio"),
    "latency_unit": ("microseconds", "milliseconds"),
}


def to_gate(value: float, unit: str) -> float:
    """A reading in ``unit`` in the gates' unit (a ratio, milliseconds)."""
    return value / GATE_SCALE[unit]


def to_metric(threshold: float, unit: str) -> float:
    """A gate threshold (a ratio, milliseconds) in the metric's ``unit``, as CloudMonitor compares it."""
    return threshold * GATE_SCALE[unit]


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
    "latency_statistic": "serving.metrics.latencyStatistic",
    "latency_unit": "serving.metrics.latencyUnit",
    "error_metric": "serving.metrics.errorMetric",
    "error_unit": "serving.metrics.errorUnit",
    "qps_metric": "serving.metrics.qpsMetric",
    "endpoint": "serving.metrics.endpoint",
}


@dataclass(frozen=True)
class Sample:
    """One reading; a metric that had no trustworthy value is None."""

    p95_latency_ms: float | None
    error_ratio: float | None
    qps: float | None
    latency_label: str = "P95 latency"  # what the latency reading is, as gate verdicts name it

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


def _sample(values: list[float | None], latency_label: str = "P95 latency") -> Sample | None:
    if all(value is None for value in values):
        return None
    latency, errors, qps = values
    return Sample(latency, errors, qps, latency_label)


def written_before_units(settings: Mapping[str, Any]) -> bool:
    """A state's cloudmonitor ``metrics`` from before the units: none at all (the first TrafficShift stored none), or
    the metric names an earlier ``check`` filled in without a unit. A bare ``{source: cloudmonitor}`` is an input."""
    if any(settings.get(name) is not None for name in (*UNITS, "latency_statistic")):
        return False
    return not {k: v for k, v in settings.items() if v is not None} or "latency_metric" in settings


def with_defaults(settings: Mapping[str, Any] | None) -> dict[str, Any]:
    settings = dict(settings or {})
    if settings.get("source") == "prometheus":
        base = PROMETHEUS_DEFAULTS
    else:
        base = LEGACY_CLOUDMONITOR if written_before_units(settings) else CLOUDMONITOR_DEFAULTS
    return {**base, **{k: v for k, v in settings.items() if v is not None}}


def for_new_inputs(settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """``settings`` of a new input (not a state): what it leaves out takes today's defaults, units included. Only
    :func:`with_defaults` reads a state, where no ``error_unit`` means :data:`LEGACY_CLOUDMONITOR`."""
    settings = dict(settings or {})
    if settings.get("source") == "prometheus":
        return settings
    return {**CLOUDMONITOR_DEFAULTS, **{k: v for k, v in settings.items() if v is not None}}


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
    found = [
        (f"metrics.{k}", "is required") for k in ("namespace", "dimension", "latency_statistic") if not settings.get(k)
    ]
    for name, allowed in UNITS.items():
        if settings.get(name) not in allowed:
            found.append((f"metrics.{name}", f"must be {' or '.join(allowed)}; got {settings.get(name)!r}"))
    return found


class CloudMonitorReader:
    """``DescribeMetricLast`` per metric: the latest data point's statistic (``latency_statistic`` for latency,
    :data:`READ_STATISTIC` for the others; the request has no statistic, every data point carries the ones the metric
    lists, ``alibabacloud_cms20190101/models/_describe_metric_last_request.py``), converted to the gates' units."""

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

    def _last(self, setting: str, service: str, statistic: str = READ_STATISTIC) -> float | None:
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
        return finite(latest.get(statistic))

    def read(self, service: str) -> Sample | None:
        settings = self._settings
        latency = self._last("latency_metric", service, settings["latency_statistic"])
        errors = self._last("error_metric", service)
        label = f"{settings['latency_statistic']} latency ({settings['latency_metric']})"
        return _sample(
            [
                None if latency is None else to_gate(latency, settings["latency_unit"]),
                None if errors is None else to_gate(errors, settings["error_unit"]),
                self._last("qps_metric", service),
            ],
            label,
        )


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
