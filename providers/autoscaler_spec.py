"""The pure half of the EasAutoscaler provider: its typed inputs, their defaults and rules, the EAS request bodies,
and how an answer is read back and compared. Nothing here talks to a cloud; providers/autoscaler.py has the
contract (and keeps every name importable from there)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Final

from pydantic import ConfigDict, Strict, StrictInt, StrictStr
from pydantic.dataclasses import dataclass as input_model

from config_problems import key
from providers.base import model_defaults
from providers.props import plain

_CRON_FIELD = re.compile(r"^[\d*/,\-?LW#A-Za-z]+$")


_INPUTS: Final = ConfigDict(extra="forbid")


Number = Annotated[float, Strict()]


# What Describe reports about the autoscaler itself (the cron scaler is compared separately).
SCALER_KEYS: Final = (
    "min_instances",
    "max_instances",
    "qps_per_instance",
    "cpu_percent",
    "scale_in_cooldown_seconds",
    "scale_up_window_seconds",
    "zero_grace_seconds",
    "activation_replicas",
)


@input_model(config=_INPUTS, kw_only=True)
class CronJobInput:
    name: StrictStr = key("Name the scheduled size, e.g. 'weekday-morning'", min_length=1)
    schedule: StrictStr = key("Give 6 cron fields (second minute hour day month weekday), e.g. '0 0 8 * * 1-5'")
    target_size: StrictInt = key("Set the instances to run from then on, 0 or more", ge=0)


@input_model(config=_INPUTS, kw_only=True)
class EasAutoscalerInputs:
    """The inputs of an ``EasAutoscaler``: ``check``, the defaults and :class:`EasAutoscalerArgs` follow it."""

    service_name: StrictStr = key("Give the EAS service the autoscaler sizes", min_length=1)
    min_instances: StrictInt = key("Set the fewest instances, 0 to scale to zero, e.g. 1", ge=0)
    max_instances: StrictInt = key("Set the most instances, greater than min_instances, e.g. 4", ge=1)
    qps_per_instance: Number | None = key(
        "Give the target requests per second per instance, e.g. 20", default=None, gt=0
    )
    cpu_percent: StrictInt | None = key("Give the target CPU percentage, 1-100, e.g. 70", default=None, ge=1, le=100)
    scale_in_cooldown_seconds: StrictInt = key("Give the scale-in cooldown in whole seconds", default=300, ge=0)
    scale_up_window_seconds: StrictInt = key("Give the scale-up window in whole seconds", default=0, ge=0)
    zero_grace_seconds: StrictInt = key("Give the idle seconds before the last instance goes", default=600, ge=0)
    activation_replicas: StrictInt = key("Give the instances the first request starts, at least 1", default=1, ge=1)
    cron: tuple[CronJobInput, ...] = key("List scheduled sizes as {name, schedule, target_size}", default=())
    exclude_dates: tuple[StrictStr, ...] = key("List 6-field cron expressions when the schedules pause", default=())


DEFAULTS: Final[Mapping[str, Any]] = model_defaults(EasAutoscalerInputs)


def with_defaults(props: Mapping[str, Any]) -> dict[str, Any]:
    return plain({**DEFAULTS, **{k: v for k, v in props.items() if v is not None or k not in DEFAULTS}})


def _cron_problems(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for index, job in enumerate(props.get("cron") or []):
        fields = str(job["schedule"]).split()
        if len(fields) != 6 or not all(_CRON_FIELD.match(part) for part in fields):
            found.append(
                (
                    f"cron[{index}].schedule",
                    f"needs 6 cron fields (second minute hour day month weekday); got {job['schedule']!r}",
                )
            )
    for index, date in enumerate(props.get("exclude_dates") or []):
        if len(str(date).split()) != 6:
            found.append((f"exclude_dates[{index}]", f"needs 6 cron fields; got {date!r}"))
    return found


def problems(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(input, reason) for the rules across inputs (after the typed model passed them)."""
    found: list[tuple[str, str]] = []
    low, high = props["min_instances"], props["max_instances"]
    if high <= low:
        found.append(("max_instances", f"must be greater than min_instances ({low}), as EAS requires; got {high}"))
    if props.get("qps_per_instance") is None and props.get("cpu_percent") is None:
        found.append(("qps_per_instance", "give qps_per_instance, cpu_percent or both: the autoscaler needs a target"))
    return found + _cron_problems(props)


def autoscaler_body(props: Mapping[str, Any]) -> dict[str, Any]:
    """The Create/UpdateServiceAutoScaler body (wire keys)."""
    strategies: list[dict[str, Any]] = []
    if props.get("qps_per_instance") is not None:
        strategies.append({"metricName": "qps", "threshold": props["qps_per_instance"]})
    if props.get("cpu_percent") is not None:
        strategies.append({"metricName": "cpu", "threshold": props["cpu_percent"]})
    behavior: dict[str, Any] = {
        "scaleUp": {"stabilizationWindowSeconds": props["scale_up_window_seconds"]},
        "scaleDown": {"stabilizationWindowSeconds": props["scale_in_cooldown_seconds"]},
    }
    if props["min_instances"] == 0:
        behavior["onZero"] = {
            "scaleDownGracePeriodSeconds": props["zero_grace_seconds"],
            "scaleUpActivationReplicas": props["activation_replicas"],
        }
    return {
        "min": props["min_instances"],
        "max": props["max_instances"],
        "scaleStrategies": strategies,
        "behavior": behavior,
    }


def cron_body(props: Mapping[str, Any]) -> dict[str, Any] | None:
    jobs = props.get("cron") or []
    if not jobs:
        return None
    return {
        "ScaleJobs": [{"Name": j["name"], "Schedule": j["schedule"], "TargetSize": j["target_size"]} for j in jobs],
        "ExcludeDates": list(props.get("exclude_dates") or []),
    }


def scaler_view(body: Any) -> dict[str, Any]:
    """DescribeServiceAutoScaler in input names; a setting Describe does not report is left out, never guessed.

    Describe answers ``MinReplica``/``MaxReplica`` and a free-form ``Behavior`` (eas-api.md §4); metric names are
    compared in lower case (the Describe docs write ``QPS``/``CPU``).
    """
    view: dict[str, Any] = {"min_instances": body.min_replica, "max_instances": body.max_replica}
    targets = {str(s.metric_name or "").lower(): s.threshold for s in body.scale_strategies or []}
    view["qps_per_instance"] = targets.get("qps")
    view["cpu_percent"] = targets.get("cpu")
    behavior = body.behavior if isinstance(body.behavior, Mapping) else {}
    for name, path in (
        ("scale_in_cooldown_seconds", ("scaleDown", "stabilizationWindowSeconds")),
        ("scale_up_window_seconds", ("scaleUp", "stabilizationWindowSeconds")),
        ("zero_grace_seconds", ("onZero", "scaleDownGracePeriodSeconds")),
        ("activation_replicas", ("onZero", "scaleUpActivationReplicas")),
    ):
        section = behavior.get(path[0])
        if isinstance(section, Mapping) and path[1] in section:
            view[name] = section[path[1]]
    return plain(view)


def cron_view(body: Any) -> dict[str, Any]:
    """DescribeServiceCronScaler in input names."""
    jobs = [{"name": j.name, "schedule": j.schedule, "target_size": j.target_size} for j in body.scale_jobs or []]
    return plain({"cron": jobs, "exclude_dates": list(body.exclude_dates or [])})


def scaler_differs(observed: Mapping[str, Any], props: Mapping[str, Any]) -> list[str]:
    """Autoscaler settings that differ from the declared ones (on-zero settings only matter for min 0).

    A strategy Describe does not list is absent (None values do not survive gRPC, so a missing key means none);
    a behaviour setting it does not report is not judged.
    """
    keys = [
        k for k in SCALER_KEYS if props["min_instances"] == 0 or k not in ("zero_grace_seconds", "activation_replicas")
    ]
    return [
        k
        for k in keys
        if (k in observed or k in ("qps_per_instance", "cpu_percent")) and plain(observed.get(k)) != plain(props.get(k))
    ]


def cron_differs(observed: Mapping[str, Any] | None, props: Mapping[str, Any]) -> bool:
    wanted = cron_body(props)
    if wanted is None or observed is None:
        return (wanted is None) != (observed is None)
    return plain(observed["cron"]) != plain(props["cron"]) or plain(observed["exclude_dates"]) != plain(
        props["exclude_dates"]
    )
