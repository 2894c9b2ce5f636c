"""``EasAutoscaler``: horizontal autoscaling of one EAS service, scale-to-zero included, and an optional cron scaler.

The autoscaler owns the service's instance count once it exists (nothing else in pai-mlops changes it). Inputs:
``service_name``, ``min_instances`` (0 = scale to zero), ``max_instances`` (greater than min, as EAS requires),
``qps_per_instance`` and/or ``cpu_percent`` (targets per instance), ``scale_in_cooldown_seconds`` (default 300: how
long load must stay low before instances go), ``scale_up_window_seconds`` (default 0), and for ``min_instances:
0`` the on-zero behaviour: ``zero_grace_seconds`` (idle time before the last instance goes, default 600) and
``activation_replicas`` (instances started by the first request, default 1). ``cron`` lists scheduled sizes
(``{name, schedule, target_size}``, 6-field cron: second minute hour day month weekday) for known traffic
patterns, ``exclude_dates`` cron expressions when they do not apply.

The API body is in shared/reference/eas-api.md §4 (lower-camel keys for the autoscaler, upper-camel for cron).
Whether EAS accepts ``min: 0`` on every gateway is unconfirmed; a refusal fails ``pulumi up`` with its message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeGuard

import pulumi
import pulumi.dynamic

from providers.base import ConfiguredProvider
from providers.props import is_int, is_number, plain

_CRON_FIELD = re.compile(r"^[\d*/,\-?LW#A-Za-z]+$")
CALL_BUDGET_SECONDS: Final = 300.0
DEFAULTS: Final[Mapping[str, Any]] = {
    "qps_per_instance": None,
    "cpu_percent": None,
    "scale_in_cooldown_seconds": 300,
    "scale_up_window_seconds": 0,
    "zero_grace_seconds": 600,
    "activation_replicas": 1,
    "cron": [],
    "exclude_dates": [],
}
OUTPUTS: Final = ("region",)


@dataclass(frozen=True, kw_only=True)
class CronJob:
    name: str
    schedule: str  # 6 fields: second minute hour day month weekday
    target_size: int


@dataclass(frozen=True, kw_only=True)
class EasAutoscalerArgs:
    service_name: pulumi.Input[str]
    min_instances: int
    max_instances: int
    qps_per_instance: float | None = None
    cpu_percent: int | None = None
    scale_in_cooldown_seconds: int = 300
    scale_up_window_seconds: int = 0
    zero_grace_seconds: int = 600
    activation_replicas: int = 1
    cron: Sequence[CronJob] = ()
    exclude_dates: Sequence[str] = field(default_factory=lambda: ())


def with_defaults(props: Mapping[str, Any]) -> dict[str, Any]:
    return plain({**DEFAULTS, **{k: v for k, v in props.items() if v is not None or k not in DEFAULTS}})


def _whole(value: Any, least: int) -> TypeGuard[int]:
    return is_int(value) and value >= least


def _cron_problems(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for index, job in enumerate(props.get("cron") or []):
        where = f"cron[{index}]"
        if not isinstance(job, Mapping) or not job.get("name"):
            found.append((where, f"must be {{name, schedule, target_size}}; got {job!r}"))
            continue
        fields = str(job.get("schedule", "")).split()
        if len(fields) != 6 or not all(_CRON_FIELD.match(part) for part in fields):
            found.append(
                (
                    f"{where}.schedule",
                    f"needs 6 cron fields (second minute hour day month weekday); got {job.get('schedule')!r}",
                )
            )
        if not _whole(job.get("target_size"), 0):
            found.append(
                (f"{where}.target_size", f"must be a whole number of instances; got {job.get('target_size')!r}")
            )
    for index, date in enumerate(props.get("exclude_dates") or []):
        if len(str(date).split()) != 6:
            found.append((f"exclude_dates[{index}]", f"needs 6 cron fields; got {date!r}"))
    return found


def problems(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(input, reason) for every invalid input (after :func:`with_defaults`)."""
    found: list[tuple[str, str]] = []
    if not isinstance(props.get("service_name"), str) or not props["service_name"]:
        found.append(("service_name", "is required"))
    low, high = props.get("min_instances"), props.get("max_instances")
    if not _whole(low, 0):
        found.append(("min_instances", f"must be a whole number, 0 or more; got {low!r}"))
    if not _whole(high, 1):
        found.append(("max_instances", f"must be a whole number, at least 1; got {high!r}"))
    elif _whole(low, 0) and high <= low:
        found.append(("max_instances", f"must be greater than min_instances ({low}), as EAS requires; got {high}"))
    qps, cpu = props.get("qps_per_instance"), props.get("cpu_percent")
    if qps is None and cpu is None:
        found.append(("qps_per_instance", "give qps_per_instance, cpu_percent or both: the autoscaler needs a target"))
    if qps is not None and (not is_number(qps) or qps <= 0):
        found.append(("qps_per_instance", f"must be a positive number; got {qps!r}"))
    if cpu is not None and (not _whole(cpu, 1) or cpu > 100):
        found.append(("cpu_percent", f"must be a whole percentage from 1 to 100; got {cpu!r}"))
    for name, least in (
        ("scale_in_cooldown_seconds", 0),
        ("scale_up_window_seconds", 0),
        ("zero_grace_seconds", 0),
        ("activation_replicas", 1),
    ):
        if not _whole(props.get(name), least):
            found.append((name, f"must be a whole number, at least {least}; got {props.get(name)!r}"))
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


class EasAutoscalerProvider(ConfiguredProvider):
    """Stateless: SDK imports and clients live inside the methods (the object is pickled into state)."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        inputs = with_defaults(news)
        failures = [pulumi.dynamic.CheckFailure(prop, reason) for prop, reason in problems(inputs)]
        return pulumi.dynamic.CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        olds, news = with_defaults(olds), with_defaults(news)
        keys = ("service_name", "min_instances", "max_instances", *DEFAULTS)
        changed = [key for key in keys if olds.get(key) != news.get(key)]
        replaces = ["service_name"] if "service_name" in changed else []
        return pulumi.dynamic.DiffResult(
            changes=bool(changed), replaces=replaces, stables=[], delete_before_replace=False
        )

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        props = with_defaults(props)
        scaler = _Scaler(self._config, props)
        scaler.apply(creating=True, previous_cron=None)
        return pulumi.dynamic.CreateResult(f"{scaler.region}/{props['service_name']}", scaler.outputs())

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        news = with_defaults(news)
        scaler = _Scaler(self._config, news)
        scaler.apply(creating=False, previous_cron=cron_body(with_defaults(olds)))
        return pulumi.dynamic.UpdateResult(scaler.outputs())

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        props = with_defaults(props)
        scaler = _Scaler(self._config, props)
        current = scaler.describe()
        if current is None:
            return pulumi.dynamic.ReadResult("", {})
        return pulumi.dynamic.ReadResult(id_, {**scaler.outputs(), **current})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        props = with_defaults(props)
        scaler = _Scaler(self._config, props)
        scaler.remove()


class _Scaler:
    def __init__(self, config: Any, props: dict[str, Any]) -> None:
        from providers.clients import ClientFactory

        self.props = props
        self.factory = ClientFactory.from_config(config)
        self.client = self.factory.eas()
        self.region = self.factory.region
        self.name = str(props["service_name"])

    def outputs(self) -> dict[str, Any]:
        return {**self.props, "region": self.region}

    def _call(self, what: str, operation: Callable[[], Any]) -> Any:
        from providers import retry
        from providers.waiting import Deadline

        return retry.call(operation, what=f"autoscaler of {self.name}: {what}", deadline=Deadline(CALL_BUDGET_SECONDS))

    def _absent(self, what: str, operation: Callable[[], Any]) -> bool:
        """Run ``operation``; True if EAS answered that the thing it acts on does not exist."""
        from providers import retry

        try:
            self._call(what, operation)
        except Exception as error:
            if retry.is_not_found(error):
                return True
            raise
        return False

    def apply(self, *, creating: bool, previous_cron: dict[str, Any] | None) -> None:
        """Create (adopting one that exists) or update the autoscaler, then the cron scaler to match."""
        from alibabacloud_eas20210701 import models as eas

        from providers import retry
        from providers.waiting import progress

        body = autoscaler_body(self.props)
        create = eas.CreateServiceAutoScalerRequest().from_map(body)
        update = eas.UpdateServiceAutoScalerRequest().from_map(body)

        def create_it() -> None:
            try:
                self._call("create", lambda: self.client.create_service_auto_scaler(self.region, self.name, create))
            except Exception as error:
                if not str(retry.code_of(error)).endswith("AlreadyExists"):
                    raise
                self._call("update", lambda: self.client.update_service_auto_scaler(self.region, self.name, update))

        if creating or self._absent(
            "update", lambda: self.client.update_service_auto_scaler(self.region, self.name, update)
        ):
            create_it()
        progress(
            f"autoscaler of {self.name}: {body['min']}-{body['max']} instances"
            + (" (scales to zero)" if body["min"] == 0 else "")
        )
        cron = cron_body(self.props)
        if cron is None:
            if previous_cron is not None:
                self._absent("remove cron", lambda: self.client.delete_service_cron_scaler(self.region, self.name))
            return
        update_cron = eas.UpdateServiceCronScalerRequest().from_map(cron)
        create_cron = eas.CreateServiceCronScalerRequest().from_map(cron)
        if previous_cron is None:
            try:
                self._call(
                    "create cron", lambda: self.client.create_service_cron_scaler(self.region, self.name, create_cron)
                )
                return
            except Exception as error:
                if not str(retry.code_of(error)).endswith("AlreadyExists"):
                    raise
        if self._absent(
            "update cron", lambda: self.client.update_service_cron_scaler(self.region, self.name, update_cron)
        ):
            self._call(
                "create cron", lambda: self.client.create_service_cron_scaler(self.region, self.name, create_cron)
            )

    def describe(self) -> dict[str, Any] | None:
        from providers import retry

        try:
            body = self._call("read", lambda: self.client.describe_service_auto_scaler(self.region, self.name)).body
        except Exception as error:
            if retry.is_not_found(error):
                return None
            raise
        behavior = body.behavior or {}
        return plain(
            {
                "min_instances": body.min_replica,
                "max_instances": body.max_replica,
                "scale_in_cooldown_seconds": (behavior.get("scaleDown") or {}).get(
                    "stabilizationWindowSeconds", self.props["scale_in_cooldown_seconds"]
                ),
            }
        )

    def remove(self) -> None:
        self._absent("delete", lambda: self.client.delete_service_auto_scaler(self.region, self.name))
        if self.props.get("cron"):
            self._absent("delete cron", lambda: self.client.delete_service_cron_scaler(self.region, self.name))


class EasAutoscaler(pulumi.dynamic.Resource, module="pai", name="EasAutoscaler"):
    """Registers as ``pulumi-python:dynamic/pai:EasAutoscaler``; its id is ``<region>/<service>``."""

    region: pulumi.Output[str]

    def __init__(self, name: str, args: EasAutoscalerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props: dict[str, Any] = {
            "service_name": args.service_name,
            "min_instances": args.min_instances,
            "max_instances": args.max_instances,
            "qps_per_instance": args.qps_per_instance,
            "cpu_percent": args.cpu_percent,
            "scale_in_cooldown_seconds": args.scale_in_cooldown_seconds,
            "scale_up_window_seconds": args.scale_up_window_seconds,
            "zero_grace_seconds": args.zero_grace_seconds,
            "activation_replicas": args.activation_replicas,
            "cron": [{"name": j.name, "schedule": j.schedule, "target_size": j.target_size} for j in args.cron],
            "exclude_dates": list(args.exclude_dates),
            **dict.fromkeys(OUTPUTS),
        }
        super().__init__(EasAutoscalerProvider(), name, props, opts)
