"""``MetricMetaCheck``: at ``pulumi up``, proves the CloudMonitor metrics the stack watches exist.

The EAS namespace and metric names the release gates and alarms read are not confirmed by public docs
(shared/reference/fidelity-audit.md E10), and the DLC GPU metric comes from a third-party client (D10). A wrong name
does not fail anywhere: the alarm never fires and the gate sees no data. So the stack registers one of these, and
``pulumi up`` asks CloudMonitor's metric catalogue (``DescribeMetricMetaList`` with ``Namespace`` and
``MetricName``, cms 2019-01-01; ``alibabacloud_cms20190101/models/_describe_metric_meta_list_request.py``) for every
watched metric. It fails, naming the config key to change, when the catalogue lists no such metric, when the
metric has none of the dimension keys the stack filters on, when it does not offer the statistic the stack reads
(PutResourceMetricRule refuses such a rule since 2024-08-15,
https://www.alibabacloud.com/help/en/cms/cloudmonitor-1-0/developer-reference/api-cms-2019-01-01-putresourcemetricrule),
or when the catalogue's ``Unit`` is not the unit the config says the data points are in (a gate reading percent as a
ratio would be off a hundredfold). ``Statistics`` and ``Unit`` are fields of the response's ``Resource``
(``alibabacloud_cms20190101/models/_describe_metric_meta_list_response_body.py``).

Inputs: ``checks`` (a list of ``{namespace, metric, dimensions, statistic, key, namespace_key, dimension_key,
statistic_key, unit, unit_key}``; the ``*key`` fields are the config keys named in errors; the last three are
optional, and a check written before them checks no unit), ``deadline_seconds``. Outputs: ``verified`` (one
``<namespace>/<metric>`` per check). Nothing secret goes in or out.

The response's ``Dimensions`` and ``Statistics`` are strings; the SDK does not say how they are joined, so they are
read as comma-separated (JSON lists are accepted too), and a metric that lists none is not checked for them. The
``Unit`` spellings are not documented either: :data:`UNIT_SPELLINGS` holds the appendix's (``%``, ``microseconds``)
and the usual abbreviations; any other returned unit is refused (the less forgiving reading), naming the unit key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import pulumi
import pulumi.dynamic
from pydantic import ConfigDict, StrictInt, StrictStr
from pydantic.dataclasses import dataclass as input_model

from config_problems import key as config_key
from providers.base import ConfiguredProvider, check_inputs

DEFAULT_DEADLINE_SECONDS: Final = 60
CHECK_FIELDS: Final = (
    "namespace",
    "metric",
    "dimensions",
    "statistic",
    "key",
    "namespace_key",
    "dimension_key",
    "statistic_key",
    "unit",
    "unit_key",
)
# A configured unit (serving.metrics.errorUnit / latencyUnit) → how DescribeMetricMetaList may write it (lower case).
UNIT_SPELLINGS: Final = {
    "percent": frozenset({"%", "percent", "percentage"}),
    "ratio": frozenset({"ratio", "fraction"}),
    "microseconds": frozenset({"microseconds", "microsecond", "us", "µs", "μs"}),
    "milliseconds": frozenset({"milliseconds", "millisecond", "ms"}),
}


@dataclass(frozen=True, kw_only=True)
class MetricCheck:
    """One watched metric, and the config keys that set its namespace, name and dimension."""

    namespace: str
    metric: str
    dimensions: tuple[str, ...]
    statistic: str
    key: str
    namespace_key: str
    dimension_key: str
    statistic_key: str | None = None  # the key that sets the statistic; None: it is fixed by the code
    unit: str | None = None  # a key of UNIT_SPELLINGS; None: the unit is not checked
    unit_key: str | None = None

    def as_input(self) -> dict[str, Any]:
        return {name: list(value) if isinstance(value, tuple) else value for name, value in self.__dict__.items()}


@dataclass(frozen=True, kw_only=True)
class MetricMetaCheckArgs:
    checks: Sequence[MetricCheck]
    deadline_seconds: int = DEFAULT_DEADLINE_SECONDS


@input_model(config=ConfigDict(extra="forbid"), kw_only=True)
class MetricCheckInput:
    """One entry of ``checks``, as :meth:`MetricCheck.as_input` writes it."""

    namespace: StrictStr = config_key("Give the CloudMonitor namespace, e.g. acs_learn", min_length=1)
    metric: StrictStr = config_key("Give the metric ID, e.g. rt", min_length=1)
    dimensions: list[StrictStr] = config_key("List the dimensions the stack filters on, e.g. [serviceName]")
    statistic: StrictStr = config_key("Give the statistic the alarms evaluate, e.g. Average", min_length=1)
    key: StrictStr = config_key("Give the config key that names the metric", min_length=1)
    namespace_key: StrictStr = config_key("Give the config key that names the namespace", min_length=1)
    dimension_key: StrictStr = config_key("Give the config key that names the dimension", min_length=1)
    statistic_key: StrictStr | None = config_key("Give the config key that names the statistic", default=None)
    unit: Literal["percent", "ratio", "microseconds", "milliseconds"] | None = config_key(
        "Give the unit the data points are in: percent, ratio, microseconds or milliseconds", default=None
    )
    unit_key: StrictStr | None = config_key("Give the config key that names the unit", default=None)


@input_model(config=ConfigDict(extra="forbid"), kw_only=True)
class MetricMetaCheckInputs:
    """What ``check()`` accepts (typed, strict, through ``providers.base.check_inputs``)."""

    checks: list[MetricCheckInput] = config_key("List at least one metric to check", min_length=1)
    deadline_seconds: StrictInt = config_key(
        "Give a positive number of seconds", default=DEFAULT_DEADLINE_SECONDS, gt=0
    )


def listed(text: Any) -> list[str]:
    """A ``Dimensions`` / ``Statistics`` string of the metric meta as names."""
    if isinstance(text, list):
        return [str(item).strip() for item in text if str(item).strip()]  # pyright: ignore[reportUnknownVariableType]
    raw = str(text or "").strip()
    if raw.startswith("["):
        try:
            return listed(json.loads(raw))
        except ValueError:
            pass
    return [part.strip() for part in raw.split(",") if part.strip()]


def verdict(check: Mapping[str, Any], metas: Sequence[Mapping[str, Any]]) -> str | None:
    """Why CloudMonitor's catalogue (``metas``, wire names) does not back ``check``; None when it does."""
    namespace, metric = check["namespace"], check["metric"]
    meta = next(
        (m for m in metas if m.get("MetricName") == metric and m.get("Namespace", namespace) == namespace), None
    )
    if meta is None:
        return (
            f"{check['key']}: CloudMonitor lists no metric {metric!r} in namespace {namespace!r} "
            f"(DescribeMetricMetaList); alarms on it would never fire and release gates would see no data. Set "
            f"{check['key']} (and {check['namespace_key']} if the namespace is wrong) to a metric the CloudMonitor "
            "console lists under Cloud Service Monitoring"
        )
    offered = listed(meta.get("Dimensions"))
    absent = [d for d in check["dimensions"] if offered and d not in offered]
    if absent:
        return (
            f"{check['dimension_key']}: metric {namespace}/{metric} has no dimension {', '.join(absent)}; it has "
            f"{', '.join(offered)}. Set {check['dimension_key']} to one of those"
        )
    statistics = listed(meta.get("Statistics"))
    if statistics and check["statistic"] not in statistics:
        fix = f"set {check['statistic_key']} to one of those" if check.get("statistic_key") else "choose a metric"
        return (
            f"{check.get('statistic_key') or check['key']}: metric {namespace}/{metric} offers the statistics "
            f"{', '.join(statistics)}, not {check['statistic']} (what the gates, alarms and dashboard read); {fix}"
        )
    unit, reported = check.get("unit"), str(meta.get("Unit") or "").strip()
    if unit and reported and reported.lower() not in UNIT_SPELLINGS[unit]:
        return (
            f"{check['unit_key']}: metric {namespace}/{metric} is in {reported!r} by CloudMonitor's catalogue, not "
            f"{unit}; gates and alarms would compare it with thresholds in the wrong unit. Set {check['unit_key']} "
            f"to the unit CloudMonitor reports ({', '.join(sorted(UNIT_SPELLINGS))})"
        )
    return None


class MetricMetaCheckProvider(ConfiguredProvider):
    """Stateless: the SDK imports and clients live inside the methods (the object is pickled into state)."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        return check_inputs(MetricMetaCheckInputs, news, resource="MetricMetaCheck")

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        changed = [key for key in ("checks", "deadline_seconds") if olds.get(key) != news.get(key)]
        return pulumi.dynamic.DiffResult(changes=bool(changed), replaces=[], stables=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        return pulumi.dynamic.CreateResult("metric-meta", self._verify(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        return pulumi.dynamic.UpdateResult(self._verify(news))

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        return pulumi.dynamic.ReadResult(id_, props)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None  # nothing was created

    def _verify(self, props: dict[str, Any]) -> dict[str, Any]:
        from alibabacloud_cms20190101 import models as cms

        from providers import retry
        from providers.clients import ClientFactory
        from providers.waiting import Deadline

        factory = ClientFactory.from_config(self._config)
        client = factory.cloudmonitor()
        deadline = Deadline(float(props.get("deadline_seconds", DEFAULT_DEADLINE_SECONDS)))
        refused: list[str] = []
        verified: list[str] = []
        for check in props["checks"]:
            request = cms.DescribeMetricMetaListRequest(
                namespace=check["namespace"], metric_name=check["metric"], page_size=100
            )
            what = f"look up CloudMonitor metric {check['namespace']}/{check['metric']}"
            try:
                body = retry.call(lambda r=request: client.describe_metric_meta_list(r), what=what, deadline=deadline)
            except Exception as error:
                refused.append(f"{check['key']}: could not {what}: {retry.describe(error)}")
                continue
            resources = (body.body.to_map().get("Resources") or {}).get("Resource") or []
            problem = verdict(check, [item for item in resources if isinstance(item, Mapping)])
            if problem is None:
                verified.append(f"{check['namespace']}/{check['metric']}")
            else:
                refused.append(problem)
        if refused:
            raise RuntimeError("the metrics this stack watches are not all in CloudMonitor: " + "; ".join(refused))
        return {**props, "verified": verified}


class MetricMetaCheck(pulumi.dynamic.Resource, module="pai", name="MetricMetaCheck"):
    """Registers as ``pulumi-python:dynamic/pai:MetricMetaCheck``."""

    verified: pulumi.Output[list[str]]

    def __init__(self, name: str, args: MetricMetaCheckArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props = {
            "checks": [check.as_input() for check in args.checks],
            "deadline_seconds": args.deadline_seconds,
            "verified": None,
        }
        super().__init__(MetricMetaCheckProvider(), name, props, opts)
