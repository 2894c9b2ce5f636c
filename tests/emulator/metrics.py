"""Per-service serving metrics for traffic-shift gates, served two ways from one table that tests set.

- CloudMonitor 2019-01-01 ``DescribeMetricLast`` (RPC style, what ``alibabacloud_cms20190101`` sends):
  ``Namespace`` (any; the real EAS namespace is unconfirmed), ``MetricName`` one of :data:`CMS_METRICS`,
  ``Dimensions`` a JSON list or object with ``serviceName``; ``Datapoints`` is a JSON *string*, as in the real API.
- Prometheus HTTP API ``/api/v1/query`` (GET or POST): instant selectors ``name{service="…"}`` over the gauges in
  :data:`PROMETHEUS_METRICS`; anything else in PromQL is refused with ``bad_data`` rather than guessed at.

A service with no metrics set, or with ``qps`` 0, has no traffic: both APIs answer with no data points.
Metrics can depend on the traffic a version takes: values set ``from_share`` N apply once the service takes at
least N% of its group's traffic (a version that breaks under load), the others below that.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from werkzeug.wrappers import Request, Response

from tests.emulator.core import ApiError, invalid

if TYPE_CHECKING:
    from tests.emulator.app import Context


@dataclass
class ServiceMetrics:
    p95_latency_ms: float
    error_ratio: float
    qps: float


# CloudMonitor metric name → field (EAS metric names from the monitoring doc; TP95 is assumed to exist).
CMS_METRICS = {"TP95ResponseTime": "p95_latency_ms", "5xxResponseRatio": "error_ratio", "QueryPerSecondTotal": "qps"}
PROMETHEUS_METRICS = {
    "pai_eas_latency_p95_ms": "p95_latency_ms",
    "pai_eas_error_ratio": "error_ratio",
    "pai_eas_qps": "qps",
}
# The metric catalogue DescribeMetricMetaList serves: only what the emulator's own data stands for. EAS: the metric
# names above (namespace and TP95 unconfirmed, fidelity-audit E10); DLC: the GPU metric and job-level dimensions a
# third-party DLC client queries (audit D10). Anything else is not listed, so a stack watching it fails its check.
METRIC_META: dict[str, dict[str, str]] = {
    **{f"acs_pai_eas/{name}": {"Dimensions": "userId,serviceName"} for name in CMS_METRICS},
    "acs_pai_dlc/JOB_GPU_ACCELERATOR_DUTTY_UTIL": {"Dimensions": "userId,regionId,workspaceId,jobId"},
}
_SELECTOR = re.compile(r"^\s*(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{(?P<labels>[^}]*)\})?\s*$")
_MATCHER = re.compile(r'\s*(?P<key>[a-zA-Z_]\w*)\s*=\s*"(?P<value>[^"]*)"\s*')


class MetricsApi:
    name = "metrics"
    version = "2019-01-01"
    routes: ClassVar[list[tuple[str, str, str]]] = []  # RPC style: POST / named by x-acs-action

    def __init__(self, share_of: Callable[[str], float] = lambda _name: 100.0) -> None:
        self.share_of = share_of
        # service → {from_share: metrics}; the tier with the highest from_share the service has reached applies.
        self.tiers: dict[str, dict[float, ServiceMetrics]] = {}

    def reset(self) -> None:
        self.__init__(self.share_of)

    @property
    def services(self) -> dict[str, ServiceMetrics]:
        """The metrics each service shows at no traffic share (its base tier)."""
        return {name: tiers[min(tiers)] for name, tiers in self.tiers.items()}

    def set(self, service: str, spec: Any) -> ServiceMetrics:
        if not isinstance(spec, dict):
            raise invalid(f"metrics are an object of p95_latency_ms, error_ratio, qps[, from_share]; got {spec!r}")
        spec = dict(spec)
        from_share = spec.pop("from_share", 0)
        if not isinstance(from_share, int | float) or isinstance(from_share, bool) or not 0 <= from_share <= 100:
            raise invalid(f"from_share must be a percentage from 0 to 100; got {from_share!r}")
        tiers = self.tiers.setdefault(service, {})
        below = [share for share in tiers if share <= from_share]
        current = tiers[max(below)] if below else ServiceMetrics(0.0, 0.0, 0.0)
        values = {**current.__dict__}
        for key, value in spec.items():
            if key not in values:
                raise invalid(f"unknown metric {key!r}; set p95_latency_ms, error_ratio, qps or from_share")
            if not isinstance(value, int | float) or value < 0 or (key == "error_ratio" and value > 1):
                raise invalid(f"{key} must be a non-negative number (error_ratio at most 1); got {value!r}")
            values[key] = float(value)
        tiers[float(from_share)] = ServiceMetrics(**values)
        return tiers[float(from_share)]

    def current(self, service: str) -> ServiceMetrics | None:
        tiers = self.tiers.get(service)
        if not tiers:
            return None
        share = self.share_of(service)
        reached = [threshold for threshold in tiers if threshold <= share]
        return tiers[max(reached)] if reached else tiers[min(tiers)]

    def _value(self, service: str, field: str) -> float | None:
        metrics = self.current(service)
        if metrics is None or metrics.qps == 0:
            return None  # no traffic, no data point
        return float(getattr(metrics, field))

    # -- CloudMonitor ----------------------------------------------------------------------------------------

    def handle(self, action: str, context: Context) -> dict[str, Any]:
        if action == "DescribeMetricMetaList":
            return self._metric_meta(context)
        if action != "DescribeMetricLast":
            raise ApiError(404, "InvalidAction.NotFound", f"CloudMonitor action {action} is not emulated")
        query = context.query
        for key in ("Namespace", "MetricName"):
            if not query.get(key):
                raise invalid(f"{key} is mandatory for this action.", "MissingParameter")
        field = CMS_METRICS.get(query["MetricName"])
        if field is None:
            raise invalid(f"MetricName must be one of {', '.join(CMS_METRICS)}; got {query['MetricName']!r}")
        try:
            dimensions = json.loads(query.get("Dimensions") or "[]")
        except ValueError as error:
            raise invalid(f"Dimensions must be JSON: {error}") from error
        wanted = dimensions if isinstance(dimensions, list) else [dimensions]
        names = [str(d["serviceName"]) for d in wanted if isinstance(d, dict) and d.get("serviceName")]
        if not names:
            raise invalid('Dimensions must name the service: [{"serviceName": "<service>"}]')
        period = int(query.get("Period") or 60)
        timestamp = int(context.now // period * period * 1000)
        points = []
        for service in names:
            value = self._value(service, field)
            if value is not None:
                points.append(
                    {
                        "timestamp": timestamp,
                        "serviceName": service,
                        "Average": value,
                        "Maximum": value,
                        "Minimum": value,
                    }
                )
        return {"Code": "200", "Success": True, "Period": str(period), "Datapoints": json.dumps(points)}

    @staticmethod
    def _metric_meta(context: Context) -> dict[str, Any]:
        """DescribeMetricMetaList (cms 2019-01-01): the catalogue entries matching Namespace and MetricName."""
        query = context.query
        namespace, metric = query.get("Namespace") or "", query.get("MetricName") or ""
        found = [
            {
                "Namespace": key.split("/", 1)[0],
                "MetricName": key.split("/", 1)[1],
                "Statistics": "Average,Minimum,Maximum",
                "Periods": "60,300",
                **meta,
            }
            for key, meta in sorted(METRIC_META.items())
            if (not namespace or key.split("/", 1)[0] == namespace) and (not metric or key.split("/", 1)[1] == metric)
        ]
        return {"Code": "200", "Success": True, "TotalCount": len(found), "Resources": {"Resource": found}}

    # -- Prometheus ------------------------------------------------------------------------------------------

    def prometheus(self, request: Request, now: float) -> Response:
        query = (request.values.get("query") or "").strip()
        match = _SELECTOR.match(query)
        if match is None or match["name"] not in PROMETHEUS_METRICS:
            raise ApiError(
                400,
                "bad_data",
                f"only instant selectors of {', '.join(PROMETHEUS_METRICS)} are emulated; got {query!r}",
            )
        labels = {m["key"]: m["value"] for m in _MATCHER.finditer(match["labels"] or "")}
        field = PROMETHEUS_METRICS[match["name"]]
        at = float(request.values.get("time") or now)
        result = []
        for service in sorted(self.tiers):
            if labels.get("service", service) != service:
                continue
            value = self._value(service, field)
            if value is not None:
                result.append({"metric": {"__name__": match["name"], "service": service}, "value": [at, repr(value)]})
        body = {"status": "success", "data": {"resultType": "vector", "result": result}}
        return Response(json.dumps(body), 200, content_type="application/json")
