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

Scale to zero and the second ``pulumi up``: UpdateServiceAutoScaler documents ``min`` "must be greater than 0"
(https://help.aliyun.com/zh/pai/user-guide/api-eas-2021-07-01-updateserviceautoscaler; SDK 7.0.0
``UpdateServiceAutoScalerRequest.min``: "The value must be greater than 0"), while CreateServiceAutoScaler states
no bound (``CreateServiceAutoScalerRequest``) and its ``behavior.onZero`` exists only for ``min: 0``. So a change
that leaves ``min_instances`` at 0 never goes through Update: the scaler is deleted and created again with the
new settings (the service keeps its instances in between; nothing else in pai-mlops changes them). Any ``min >
0`` goes through Update. Whether EAS accepts ``min: 0`` on every gateway is unconfirmed (a dedicated gateway may
refuse it); a refusal fails ``pulumi up`` with EAS's message.

Every ``pulumi up`` reads the scaler and the cron scaler first and asks only for what differs, so a change made
by hand (thresholds, strategies, a deleted cron scaler) is put back, and a change whose answer was lost is
confirmed by reading it back rather than sent again. ``read`` records what it found under ``observed`` (input
names; only what Describe reports), leaving the declared inputs as they are, so ``pulumi refresh`` then
``pulumi preview`` shows the drift; a scaler deleted by hand reads as gone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import pulumi
import pulumi.dynamic

from providers.autoscaler_spec import (
    DEFAULTS,
    EasAutoscalerInputs,
    autoscaler_body,
    cron_body,
    cron_differs,
    cron_view,
    problems,
    scaler_differs,
    scaler_view,
    with_defaults,
)
from providers.base import OBSERVED, ConfiguredProvider, EasWorker, check_inputs, confirmed
from providers.props import props_of

CALL_BUDGET_SECONDS: Final = 300.0
OUTPUTS: Final = ("region", OBSERVED)


@dataclass(frozen=True, kw_only=True)
class CronJob:
    name: str
    schedule: str  # 6 fields: second minute hour day month weekday
    target_size: int


@dataclass(frozen=True, kw_only=True)
class EasAutoscalerArgs:
    """What the component passes; the names and defaults are :class:`EasAutoscalerInputs`'s (a test holds them)."""

    service_name: pulumi.Input[str]
    min_instances: int
    max_instances: int
    qps_per_instance: float | None = DEFAULTS["qps_per_instance"]
    cpu_percent: int | None = DEFAULTS["cpu_percent"]
    scale_in_cooldown_seconds: int = DEFAULTS["scale_in_cooldown_seconds"]
    scale_up_window_seconds: int = DEFAULTS["scale_up_window_seconds"]
    zero_grace_seconds: int = DEFAULTS["zero_grace_seconds"]
    activation_replicas: int = DEFAULTS["activation_replicas"]
    cron: Sequence[CronJob] = ()
    exclude_dates: Sequence[str] = field(default_factory=lambda: ())


class EasAutoscalerProvider(ConfiguredProvider):
    """Stateless: SDK imports and clients live inside the methods (the object is pickled into state)."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        return check_inputs(EasAutoscalerInputs, news, resource="EasAutoscaler", outputs=OUTPUTS, semantic=problems)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        olds, news = with_defaults(olds), with_defaults(news)
        keys = ("service_name", "min_instances", "max_instances", *DEFAULTS)
        changed = [key for key in keys if olds.get(key) != news.get(key)]
        observed = olds.get(OBSERVED)
        if isinstance(observed, Mapping):  # what the last read or up found: a change made by hand shows here
            changed += scaler_differs(observed, news)
            if cron_differs(observed if observed.get("cron") else None, news):
                changed.append("cron")
        replaces = ["service_name"] if "service_name" in changed else []
        return pulumi.dynamic.DiffResult(
            changes=bool(changed), replaces=replaces, stables=[], delete_before_replace=False
        )

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        scaler = _Scaler(self._config, with_defaults(props))
        observed = scaler.apply()
        return pulumi.dynamic.CreateResult(f"{scaler.region}/{scaler.name}", scaler.outputs(observed))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        # What to call is decided from what is there now, not from the previous inputs: a change made by hand or
        # an update that stopped half-way is completed the same way.
        scaler = _Scaler(self._config, with_defaults(news))
        return pulumi.dynamic.UpdateResult(scaler.outputs(scaler.apply()))

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        scaler = _Scaler(self._config, with_defaults(props))
        observed = scaler.observe()
        if observed is None:
            return pulumi.dynamic.ReadResult("", {})  # deleted by hand: refresh drops it, the next up creates it
        return pulumi.dynamic.ReadResult(id_, scaler.outputs(observed))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        _Scaler(self._config, with_defaults(props)).remove()


class _Scaler(EasWorker):
    call_budget_seconds = CALL_BUDGET_SECONDS

    def subject(self) -> str:
        return f"autoscaler of {self.name}"

    def outputs(self, observed: Mapping[str, Any]) -> dict[str, Any]:
        declared = {k: v for k, v in self.props.items() if k != OBSERVED}
        return {**declared, "region": self.region, OBSERVED: dict(observed)}

    def _absent(self, what: str, operation: Callable[[], Any], *, idempotent: bool = True) -> bool:
        """Run ``operation``; True if EAS answered that the thing it acts on does not exist."""
        from providers import retry

        try:
            self._call(what, operation, idempotent=idempotent)
        except Exception as error:
            if retry.is_not_found(error):
                return True
            raise
        return False

    # -- what is there -------------------------------------------------------------------------------------------

    def _describe(self, what: str, operation: Callable[[], Any]) -> Any | None:
        from providers import retry

        try:
            return self._call(what, operation).body
        except Exception as error:
            if retry.is_not_found(error):  # the scaler, or the whole service, is gone
                return None
            raise

    def scaler(self) -> dict[str, Any] | None:
        body = self._describe("read", lambda: self.client.describe_service_auto_scaler(self.region, self.name))
        return None if body is None else scaler_view(body)

    def cron(self) -> dict[str, Any] | None:
        body = self._describe("read cron", lambda: self.client.describe_service_cron_scaler(self.region, self.name))
        return None if body is None else cron_view(body)

    def observe(self) -> dict[str, Any] | None:
        """What EAS has, in input names; None when the autoscaler is gone. No cron scaler reads as ``cron: []``."""
        scaler = self.scaler()
        if scaler is None:
            return None
        return {**scaler, **(self.cron() or {"cron": [], "exclude_dates": []})}

    # -- changes -------------------------------------------------------------------------------------------------

    def apply(self) -> dict[str, Any]:
        """Make the autoscaler and cron scaler what the inputs say, asking only for what differs; returns what is
        there afterwards."""
        from providers.waiting import progress

        body = autoscaler_body(self.props)
        current = self.scaler()
        if current is None:
            self._create(body)
        elif differs := scaler_differs(current, self.props):
            progress(f"autoscaler of {self.name}: {', '.join(differs)} differ from the stack")
            if body["min"] == 0:
                # UpdateServiceAutoScaler refuses min 0 (documented min > 0); Create takes it.
                progress(f"autoscaler of {self.name}: min 0 cannot go through Update; recreating the autoscaler")
                self._delete_scaler()
                self._create(body)
            else:
                self._update(body)
        progress(
            f"autoscaler of {self.name}: {body['min']}-{body['max']} instances"
            + (" (scales to zero)" if body["min"] == 0 else "")
        )
        self._apply_cron()
        observed = self.observe()
        if observed is None:
            raise RuntimeError(f"autoscaler of {self.name}: EAS does not show the autoscaler it just accepted")
        return observed

    def _matches(self) -> bool:
        current = self.scaler()
        return current is not None and not scaler_differs(current, self.props)

    def _create(self, body: dict[str, Any]) -> None:
        from alibabacloud_eas20210701 import models as eas

        from providers import retry

        request = eas.CreateServiceAutoScalerRequest().from_map(body)

        def create() -> None:
            try:
                self._call(
                    "create",
                    lambda: self.client.create_service_auto_scaler(self.region, self.name, request),
                    idempotent=False,
                )
            except Exception as error:
                # Created since it was read (the code is UNCONFIRMED: fidelity-audit E13): read what is there.
                if not str(retry.code_of(error)).endswith("AlreadyExists") or not self._matches():
                    raise

        confirmed(create, self._matches, what=f"autoscaler of {self.name}: create")

    def _update(self, body: dict[str, Any]) -> None:
        from alibabacloud_eas20210701 import models as eas

        request = eas.UpdateServiceAutoScalerRequest().from_map(body)
        confirmed(
            lambda: self._call(
                "update",
                lambda: self.client.update_service_auto_scaler(self.region, self.name, request),
                idempotent=False,
            ),
            self._matches,
            what=f"autoscaler of {self.name}: update",
        )

    def _delete_scaler(self) -> None:
        confirmed(
            lambda: self._absent(
                "delete", lambda: self.client.delete_service_auto_scaler(self.region, self.name), idempotent=False
            ),
            lambda: self.scaler() is None,
            what=f"autoscaler of {self.name}: delete",
        )

    def _apply_cron(self) -> None:
        from alibabacloud_eas20210701 import models as eas

        from providers.waiting import progress

        current = self.cron()
        if not cron_differs(current, self.props):
            return
        wanted = cron_body(self.props)

        def cron_matches() -> bool:
            return not cron_differs(self.cron(), self.props)

        if wanted is None:
            progress(f"autoscaler of {self.name}: removing the cron scaler the stack does not declare")

        def change() -> None:
            if wanted is None:
                self._absent(
                    "remove cron",
                    lambda: self.client.delete_service_cron_scaler(self.region, self.name),
                    idempotent=False,
                )
            elif current is None:
                create = eas.CreateServiceCronScalerRequest().from_map(wanted)
                self._call(
                    "create cron",
                    lambda: self.client.create_service_cron_scaler(self.region, self.name, create),
                    idempotent=False,
                )
            else:
                update = eas.UpdateServiceCronScalerRequest().from_map(wanted)
                self._call(
                    "update cron",
                    lambda: self.client.update_service_cron_scaler(self.region, self.name, update),
                    idempotent=False,
                )

        confirmed(change, cron_matches, what=f"autoscaler of {self.name}: cron scaler")

    def remove(self) -> None:
        self._absent("delete", lambda: self.client.delete_service_auto_scaler(self.region, self.name))
        self._absent("delete cron", lambda: self.client.delete_service_cron_scaler(self.region, self.name))


class EasAutoscaler(pulumi.dynamic.Resource, module="pai", name="EasAutoscaler"):
    """Registers as ``pulumi-python:dynamic/pai:EasAutoscaler``; its id is ``<region>/<service>``."""

    region: pulumi.Output[str]

    def __init__(self, name: str, args: EasAutoscalerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props: dict[str, Any] = {**props_of(args), **dict.fromkeys(OUTPUTS)}
        super().__init__(EasAutoscalerProvider(), name, props, opts)
