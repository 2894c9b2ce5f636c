"""Per-service serving metrics for traffic-shift gates, served two ways from one table that tests set.

- CloudMonitor 2019-01-01 ``DescribeMetricLast`` (RPC style, what ``alibabacloud_cms20190101`` sends):
  ``Namespace`` ``acs_learn``, ``MetricName`` one of :data:`CMS_METRICS`, ``Dimensions`` a JSON list or object with
  ``serviceName``; ``Datapoints`` is a JSON *string*, as in the real API. The namespace, IDs, units and statistics
  are CloudMonitor's EAS metric appendix (AlibabaCloudDocs/cms, ``intl.en-US/Appendix 1: Metrics/Artificial
  intelligence/Machine learning platform/PAI-EAS inference service.md``, 2020-10): ``rt`` in microseconds with
  Average, Maximum, Minimum (no percentile); ``rps_status_5xx_ratio`` in % with Average, Maximum, Minimum, Value;
  ``qps_total`` with Value, Average, Maximum. The table tests set is in the gates' units (milliseconds, a ratio
  0-1); CloudMonitor serves it in the documented ones (x1000, x100). A data point carries only the statistics its
  metric lists, so a reader asking for another (a p95 of ``rt``) gets no value: the less forgiving reading of
  "Statistics verification" (PutResourceMetricRule, since 2024-08-15). The display names of the PAI alert page
  (``rt``, ``rps_status_5xx_ratio``, ``qps_total``) and the namespace ``acs_learn`` appear in
  no CloudMonitor source, so they answer ``ResourceNotFound``.
- Prometheus HTTP API ``/api/v1/query`` (GET or POST): instant selectors ``name{service="…"}`` over the gauges in
  :data:`PROMETHEUS_METRICS`; anything else in PromQL is refused with ``bad_data`` rather than guessed at.

A service with no metrics set, or with ``qps`` 0, has no traffic: both APIs answer with no data points.
Metrics can depend on the traffic a version takes: values set ``from_share`` N apply once the service takes at
least N% of its group's traffic (a version that breaks under load), the others below that.

Metrics that lie: a value set to one of :data:`LIES` is served as it (``"NaN"``, ``"Infinity"`` and
``"-Infinity"`` as the JSON tokens Python writes for them, ``null``, the field left out with ``"missing"``, any
other string as that string). Refusals, as the DescribeMetricLast doc and SDK model describe them: an unknown
namespace or metric answers HTTP 404 ``ResourceNotFound`` ("The specified resource is not found.",
https://help.aliyun.com/document_detail/51939.htm, error code table); a dimension other than ``serviceName``
answers 400; ``refuse`` arms any other refusal, either as an HTTP error or, the less forgiving form, as HTTP 200
with ``Success: false`` and the status in ``Code`` (``DescribeMetricLastResponseBody.code``: "The HTTP status
code"; ``success``). Operators: ``schedule`` runs a console action (see ``EasApi.operate``) when the N-th metrics
query arrives, before it is answered: a release changed by hand, or a version failing, in the middle of a bake.
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
    # A float, or one of LIES: a value the backend serves as it is (see the module docstring).
    p95_latency_ms: Any
    error_ratio: Any
    qps: Any


LIES = frozenset({"NaN", "Infinity", "-Infinity", "null", "missing"})
_MISSING, _NULL = object(), object()


def _served(value: Any) -> Any:
    """The value a data point carries: a float, a non-finite float, None, a string, or _MISSING (left out)."""
    if not isinstance(value, str):
        return float(value)
    lies: dict[str, Any] = {
        "NaN": float("nan"),
        "Infinity": float("inf"),
        "-Infinity": float("-inf"),
        "null": _NULL,
        "missing": _MISSING,
    }
    return lies.get(value, value)


@dataclass(frozen=True)
class CmsMetric:
    """One EAS metric of CloudMonitor's appendix: the table field it serves, how many of its unit make one of the
    table's, its unit as the catalogue writes it, and the statistics it lists."""

    field: str
    scale: float
    unit: str
    statistics: tuple[str, ...]


CMS_METRICS = {
    "rt": CmsMetric("p95_latency_ms", 1000.0, "microseconds", ("Average", "Maximum", "Minimum")),
    "rps_status_5xx_ratio": CmsMetric("error_ratio", 100.0, "%", ("Average", "Maximum", "Minimum", "Value")),
    "qps_total": CmsMetric("qps", 1.0, "frequency", ("Value", "Average", "Maximum")),
}
PROMETHEUS_METRICS = {
    "pai_eas_latency_p95_ms": "p95_latency_ms",
    "pai_eas_error_ratio": "error_ratio",
    "pai_eas_qps": "qps",
}
# The metric catalogue DescribeMetricMetaList serves: only what the emulator's own data stands for. EAS: the appendix's
# metrics above, with their units and statistics; DLC: the GPU metric and job-level dimensions a third-party DLC
# client queries (audit D10; its unit unknown, so none is listed). Anything else is not listed, so a stack watching it
# fails its check.
METRIC_META: dict[str, dict[str, str]] = {
    **{
        f"acs_learn/{name}": {
            "Dimensions": "userId,serviceName",
            "Statistics": ",".join(metric.statistics),
            "Unit": metric.unit,
        }
        for name, metric in CMS_METRICS.items()
    },
    "acs_pai_dlc/JOB_GPU_ACCELERATOR_DUTTY_UTIL": {
        "Dimensions": "userId,regionId,workspaceId,jobId",
        "Statistics": "Average,Minimum,Maximum",
    },
}
_SELECTOR = re.compile(r"^\s*(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{(?P<labels>[^}]*)\})?\s*$")
_MATCHER = re.compile(r'\s*(?P<key>[a-zA-Z_]\w*)\s*=\s*"(?P<value>[^"]*)"\s*')


class MetricsApi:
    name = "metrics"
    version = "2019-01-01"
    routes: ClassVar[list[tuple[str, str, str]]] = []  # RPC style: POST / named by x-acs-action

    NAMESPACES: ClassVar[frozenset[str]] = frozenset({"acs_learn"})  # CloudMonitor's EAS appendix (2020-10)

    def __init__(
        self,
        share_of: Callable[[str], float] = lambda _name: 100.0,
        operate: Callable[[dict[str, Any]], Any] = lambda _action: None,
    ) -> None:
        self.share_of = share_of
        self.operate = operate
        # service → {from_share: metrics}; the tier with the highest from_share the service has reached applies.
        self.tiers: dict[str, dict[float, ServiceMetrics]] = {}
        self.queries = 0  # metrics queries answered so far (both APIs)
        self.scheduled: list[tuple[int, dict[str, Any]]] = []  # (at query number, operator action)
        self.refusal: dict[str, Any] | None = None

    def reset(self) -> None:
        self.__init__(self.share_of, self.operate)

    def schedule(self, spec: Any) -> list[dict[str, Any]]:
        """Run ``spec["do"]`` (an operator action) when query number ``queries + spec["after_queries"] + 1`` comes."""
        if not isinstance(spec, dict) or not isinstance(spec.get("do"), dict):
            raise invalid(f"schedule takes {{after_queries: N, do: {{operator action}}}}; got {spec!r}")
        after = spec.get("after_queries", 0)
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            raise invalid(f"after_queries must be a whole number, 0 or more; got {after!r}")
        self.scheduled.append((self.queries + after + 1, dict(spec["do"])))
        return [{"at_query": at, "do": action} for at, action in self.scheduled]

    def refuse(self, spec: Any) -> dict[str, Any]:
        """Refuse every query from now on: ``{status, code, message, in_body}`` (in_body: HTTP 200, Success false)."""
        if not isinstance(spec, dict) or not isinstance(spec.get("status"), int) or not 400 <= spec["status"] <= 599:
            raise invalid(f"a refusal needs an HTTP status from 400 to 599; got {spec!r}")
        self.refusal = {
            "status": spec["status"],
            "code": str(spec.get("code") or "Forbidden"),
            "message": str(spec.get("message") or "You are not authorized to operate on this resource."),
            "in_body": bool(spec.get("in_body")),
        }
        return self.refusal

    def _arrive(self) -> None:
        """One more query: run what was scheduled for it, then apply an armed refusal."""
        self.queries += 1
        due = [action for at, action in self.scheduled if at == self.queries]
        self.scheduled = [(at, action) for at, action in self.scheduled if at != self.queries]
        for action in due:
            self.operate(action)

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
            if isinstance(value, str) or value is None:  # a lie, served as it is
                values[key] = "null" if value is None else value
                continue
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

    def _value(self, service: str, field: str) -> Any:
        """The value served, or None for no data point at all."""
        metrics = self.current(service)
        if metrics is None or (not isinstance(metrics.qps, str) and metrics.qps == 0):
            return None  # no traffic, no data point
        return _served(getattr(metrics, field))

    # -- CloudMonitor ----------------------------------------------------------------------------------------

    def handle(self, action: str, context: Context) -> dict[str, Any]:
        if action == "DescribeMetricMetaList":
            return self._metric_meta(context)
        if action != "DescribeMetricLast":
            raise ApiError(404, "InvalidAction.NotFound", f"CloudMonitor action {action} is not emulated")
        self._arrive()
        refusal = self.refusal
        if refusal is not None and refusal["in_body"]:
            return {"Code": str(refusal["status"]), "Success": False, "Message": refusal["message"]}
        if refusal is not None:
            raise ApiError(refusal["status"], refusal["code"], refusal["message"])
        query = context.query
        for key in ("Namespace", "MetricName"):
            if not query.get(key):
                raise invalid(f"{key} is mandatory for this action.", "MissingParameter")
        metric = CMS_METRICS.get(query["MetricName"])
        if metric is None or query["Namespace"] not in self.NAMESPACES:
            raise ApiError(404, "ResourceNotFound", "The specified resource is not found.")
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
            value = self._value(service, metric.field)
            if value is not None:
                point: dict[str, Any] = {"timestamp": timestamp, "serviceName": service}
                if value is not _MISSING:
                    served = None if value is _NULL else value * metric.scale if isinstance(value, float) else value
                    point.update(dict.fromkeys(metric.statistics, served))
                points.append(point)
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
                "Periods": "60,300",
                **meta,
            }
            for key, meta in sorted(METRIC_META.items())
            if (not namespace or key.split("/", 1)[0] == namespace) and (not metric or key.split("/", 1)[1] == metric)
        ]
        return {"Code": "200", "Success": True, "TotalCount": len(found), "Resources": {"Resource": found}}

    # -- Prometheus ------------------------------------------------------------------------------------------

    def prometheus(self, request: Request, now: float) -> Response:
        self._arrive()
        if self.refusal is not None:
            raise ApiError(self.refusal["status"], self.refusal["code"], self.refusal["message"])
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
            if value is None or value is _MISSING:
                continue
            # Prometheus writes sample values as strings: NaN, +Inf and -Inf included.
            special = {"inf": "+Inf", "-inf": "-Inf", "nan": "NaN"}
            text = (
                None if value is _NULL else value if isinstance(value, str) else special.get(repr(value), repr(value))
            )
            result.append({"metric": {"__name__": match["name"], "service": service}, "value": [at, text]})
        body = {"status": "success", "data": {"resultType": "vector", "result": result}}
        return Response(json.dumps(body), 200, content_type="application/json")
