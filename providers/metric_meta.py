"""``MetricMetaCheck``: at ``pulumi up``, proves the CloudMonitor metrics the stack watches exist.

The EAS namespace and metric names the release gates and alarms read are not confirmed by public docs
(shared/reference/fidelity-audit.md E10), and the DLC GPU metric comes from a third-party client (D10). A wrong name
does not fail anywhere: the alarm never fires and the gate sees no data. So the stack registers one of these, and
``pulumi up`` asks CloudMonitor's metric catalogue (``DescribeMetricMetaList`` with ``Namespace`` and
``MetricName``, cms 2019-01-01; ``alibabacloud_cms20190101/models/_describe_metric_meta_list_request.py``) for every
watched metric. It fails, naming the config key to change, when the catalogue lists no such metric, when the
metric has none of the dimension keys the stack filters on, or when it does not offer the statistic the alarms use.

Inputs: ``checks`` (a list of ``{namespace, metric, dimensions, statistic, key, namespace_key, dimension_key}``;
the ``*key`` fields are the config keys named in errors), ``deadline_seconds``. Outputs: ``verified`` (one
``<namespace>/<metric>`` per check). Nothing secret goes in or out.

The response's ``Dimensions`` and ``Statistics`` are strings; the SDK does not say how they are joined, so they are
read as comma-separated (JSON lists are accepted too), and a metric that lists none is not checked for them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import pulumi
import pulumi.dynamic

from providers.base import ConfiguredProvider

DEFAULT_DEADLINE_SECONDS: Final = 60
CHECK_FIELDS: Final = ("namespace", "metric", "dimensions", "statistic", "key", "namespace_key", "dimension_key")


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

    def as_input(self) -> dict[str, Any]:
        return {name: list(value) if isinstance(value, tuple) else value for name, value in self.__dict__.items()}


@dataclass(frozen=True, kw_only=True)
class MetricMetaCheckArgs:
    checks: Sequence[MetricCheck]
    deadline_seconds: int = DEFAULT_DEADLINE_SECONDS


def problems(inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
    checks = inputs.get("checks")
    if not isinstance(checks, Sequence) or isinstance(checks, str) or not checks:
        return [("checks", f"list at least one metric to check; got {checks!r}")]
    found: list[tuple[str, str]] = []
    for index, check in enumerate(checks):
        missing = [f for f in CHECK_FIELDS if not isinstance(check, Mapping) or check.get(f) in (None, "")]
        if missing:
            found.append((f"checks[{index}]", f"needs {', '.join(missing)}; got {check!r}"))
    deadline = inputs.get("deadline_seconds", DEFAULT_DEADLINE_SECONDS)
    if not isinstance(deadline, int | float) or isinstance(deadline, bool) or deadline <= 0:
        found.append(("deadline_seconds", f"must be a positive number of seconds; got {deadline!r}"))
    return found


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
        return (
            f"{check['key']}: metric {namespace}/{metric} offers the statistics {', '.join(statistics)}, not "
            f"{check['statistic']} (what the alarms evaluate); choose a metric that offers it"
        )
    return None


class MetricMetaCheckProvider(ConfiguredProvider):
    """Stateless: the SDK imports and clients live inside the methods (the object is pickled into state)."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        return pulumi.dynamic.CheckResult(news, [pulumi.dynamic.CheckFailure(p, r) for p, r in problems(news)])

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
