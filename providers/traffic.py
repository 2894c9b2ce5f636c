"""``TrafficShift``: gated blue-green releases for an EAS service group, with automatic revert.

When ``live`` changes, ``pulumi up`` moves the group's traffic to the new version step by step (``steps``, default
10 → 50 → 100 %). At every step it sets every member's weight explicitly, then bakes: for ``bake_seconds`` it reads
the new version's P95 latency and error ratio every ``check_interval_seconds``. A reading above
``max_p95_latency_ms`` or ``max_error_rate`` restores the previous weights at once and fails the update, naming the
metric, the value, the threshold and the step, so the stack keeps the old ``live``. A bake without enough traffic
(``min_requests``) is inconclusive: it is extended up to ``max_bake_extensions`` times, then ``no_data`` decides
(``fail`` reverts, ``proceed`` moves on and records that it did). Nothing passes silently.

Every operation starts from the group's actual weights (``ListServices``), not from the state: a shift that was
interrupted half-way is resumed (the step it stopped at is baked again; a sliver below the first step resumes at
the first step) or, if ``live`` was set back, reverted; a group created outside Pulumi is adopted the same way.
Going back to a version that was fully live before is a rollback and skips the bakes (``rollback_without_bake``).
With ``shadow_percent`` the new version first receives a mirrored share of the live version's requests (EAS
service mirror) for ``shadow_seconds``, gated the same way while it answers no user. The shift never changes
instance counts (the autoscaler owns them) and waits for the new version to be ``Running`` before any traffic moves.

Before anything moves it proves the release possible (:mod:`providers.eas_group`): the new version and the live
one are members of the group; the versions a failed gate would restore can serve; and the group is in
``customized`` traffic mode, the only one that honours weights (an ``auto`` group is switched by UpdateGroup after
its current instance-count split is pinned as weights). Then it looks before every move: before each step and at
every metric check it re-reads the group and the new version. Weights it did not set, or a group back in ``auto``,
mean someone else is acting: it stops at once and leaves their change. A new version that is no longer Running (or
was scaled to no instance while taking traffic) is reverted. Readings that are not finite numbers never pass, and a
refused metrics query reverts at once; no failure path leaves traffic split between versions (except the
operator's own weights, which are kept).

Outputs: ``live``, ``weights`` (version → % of the group's traffic), ``history`` (every step: weights, metrics,
verdict, time) and ``previous_lives``. The rules are in :mod:`providers.traffic_spec`; metrics in
:mod:`providers.metrics`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import pulumi
import pulumi.dynamic

from providers import traffic_spec as spec
from providers.base import ConfiguredProvider
from providers.props import plain, props_of
from providers.traffic_run import Shift
from providers.traffic_spec import OUTPUTS, TrafficShiftInputs

INPUTS: Final = tuple(getattr(TrafficShiftInputs, "__pydantic_fields__"))  # noqa: B009 - set by pydantic

# The component builds the input model itself (components/blue_green.py): it is the one declaration of the inputs,
# their props and their defaults. The name is the one stacks' programs and the state contract know.
TrafficShiftArgs = TrafficShiftInputs


class TrafficShiftProvider(ConfiguredProvider):
    """Stateless: SDK imports and clients live inside the methods (the object is pickled into state)."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        return spec.check_result(news, olds)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        olds, news = spec.with_defaults(olds), spec.with_defaults(news)
        changed = [name for name in INPUTS if olds.get(name) != news.get(name)]
        if not changed and olds.get("weights") and self._drifted(news, olds["weights"]):
            changed.append("weights")  # the group's real weights are not what the last operation left
        return pulumi.dynamic.DiffResult(
            changes=bool(changed),
            replaces=["group"] if "group" in changed else [],
            stables=[],
            delete_before_replace=False,
        )

    def _drifted(self, props: dict[str, Any], recorded: Mapping[str, Any]) -> bool:
        try:
            return Shift(self._config, props).drifted(recorded)
        except Exception:  # a read that fails must not fail a preview; the next operation reads again
            return False

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        shift = Shift(self._config, spec.with_defaults(props))
        shift.converge()
        return pulumi.dynamic.CreateResult(f"{shift.region}/{shift.group}", shift.outputs())

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        olds, news = spec.with_defaults(olds), spec.with_defaults(news)
        shift = Shift(self._config, news)
        shift.restore(olds)
        shift.refuse_removing_live_traffic(olds)
        shift.converge(previous_live=olds.get("live"))
        return pulumi.dynamic.UpdateResult(shift.outputs())

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        props = spec.with_defaults(props)
        shift = Shift(self._config, props)
        shift.restore(props)
        return pulumi.dynamic.ReadResult(id_, {**shift.outputs(), "live": props["live"]})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None  # weights stay as they are; the services go with their own resources


class TrafficShift(pulumi.dynamic.Resource, module="pai", name="TrafficShift"):
    """Registers as ``pulumi-python:dynamic/pai:TrafficShift``; its id is ``<region>/<group>``."""

    live: pulumi.Output[str]
    weights: pulumi.Output[dict[str, int]]
    history: pulumi.Output[list[dict[str, Any]]]

    def __init__(self, name: str, args: TrafficShiftArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        # plain: the model holds numbers as floats; whole ones go as the program wrote them (300, not 300.0).
        props: dict[str, Any] = {**plain(props_of(args)), **dict.fromkeys(OUTPUTS)}
        super().__init__(TrafficShiftProvider(), name, props, opts)
