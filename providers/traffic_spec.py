"""The pure half of TrafficShift: inputs, weight plans, gate verdicts and API contracts (table-tested).

Weights: EAS ``ReleaseService`` takes a ``Weight`` in [-1, 1000] and a ``TrafficState``. Whether weights are
relative or per-mille is unconfirmed (shared/reference/eas-api.md §3.1), so a plan always sets every member
explicitly with weights that sum to 1000: the split is the same under either reading. A member that should take
nothing is ``standalone`` with weight 0.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pai_facts import contract_major
from providers import metrics
from providers.props import is_number, plain

TOTAL: Final = 1000
NO_DATA: Final = ("fail", "proceed")
# The provider's defaults decode inputs a stack's state may lack; TrafficShiftArgs takes its defaults from here,
# and the config's RolloutConfig keeps the same values (tests/providers/test_inputs.py holds the three equal).
# bake_seconds has none: the config's dev default (60) is its one default, a prod stack sets it, and every
# state ever written holds it.
DEFAULTS: Final[Mapping[str, Any]] = {
    "steps": [10, 50, 100],
    "check_interval_seconds": 30,
    "min_requests": 50,
    "no_data": "fail",
    "max_bake_extensions": 2,
    "rollback_without_bake": True,
    "shadow_percent": 0,
    "shadow_seconds": 0,
    "contracts": {},
    "allow_breaking_change": False,
    "ready_timeout_seconds": 900,
    "deadline_seconds": None,
    "metrics": None,
}


def with_defaults(props: Mapping[str, Any]) -> dict[str, Any]:
    merged = plain({**DEFAULTS, **{k: v for k, v in props.items() if v is not None or k not in DEFAULTS}})
    merged["metrics"] = metrics.with_defaults(merged.get("metrics"))
    return merged


def deadline_seconds(props: Mapping[str, Any]) -> float:
    """The whole operation's budget: given, or every bake with its extensions plus readiness and slack."""
    if props.get("deadline_seconds"):
        return float(props["deadline_seconds"])
    bakes = len(props["steps"]) * props["bake_seconds"] * (1 + props["max_bake_extensions"])
    return float(bakes + props["shadow_seconds"] + props["ready_timeout_seconds"] + 600)


def contract_problem(contracts: Mapping[str, str], source: str, target: str, allow: bool) -> str | None:
    """Why a shift from ``source`` to ``target`` would break clients, or None."""
    if allow or source == target or source not in contracts or target not in contracts:
        return None
    old, new = contract_major(contracts[source]), contract_major(contracts[target])
    if old is None or new is None or old == new:
        return None
    return (
        f"{target} speaks API {contracts[target]} and {source} speaks {contracts[source]}: clients of the group "
        f"would meet an incompatible schema mid-release. Serve {target} from a new service group, or set "
        f"allow_breaking_change if every client handles both."
    )


def _steps_problem(steps: Any) -> str | None:
    if (
        not isinstance(steps, list)
        or not steps
        or not all(isinstance(s, int) and not isinstance(s, bool) for s in steps)
    ):
        return f"must list whole percentages, e.g. [10, 50, 100]; got {steps!r}"
    if any(s < 1 or s > 100 for s in steps) or any(b <= a for a, b in itertools.pairwise(steps)):
        return f"must ascend strictly from 1 to 100; got {steps!r}"
    if steps[-1] != 100:
        return f"must end at 100; got {steps!r}"
    return None


def problems(props: Mapping[str, Any], olds: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
    """(input, reason) for every invalid input (after :func:`with_defaults`); ``olds`` checks the release itself."""
    found: list[tuple[str, str]] = []
    if not isinstance(props.get("group"), str) or not props["group"]:
        found.append(("group", "is required"))
    services = props.get("services")
    if not isinstance(services, Mapping) or not services:
        found.append(("services", f"must map each version to its EAS service name; got {services!r}"))
        services = {}
    if props.get("live") not in services:
        found.append(
            ("live", f"must be one of the versions in services ({', '.join(services)}); got {props.get('live')!r}")
        )
    problem = _steps_problem(props.get("steps"))
    if problem:
        found.append(("steps", problem))
    for name in ("bake_seconds", "check_interval_seconds", "shadow_seconds", "ready_timeout_seconds"):
        if not is_number(props.get(name)) or props[name] < 0:
            found.append((name, f"must be a number of seconds, 0 or more; got {props.get(name)!r}"))
    if is_number(props.get("check_interval_seconds")) and props["check_interval_seconds"] <= 0:
        found.append(("check_interval_seconds", "must be more than 0"))
    if not is_number(props.get("max_p95_latency_ms")) or props["max_p95_latency_ms"] <= 0:
        found.append(("max_p95_latency_ms", f"must be a positive number; got {props.get('max_p95_latency_ms')!r}"))
    if not is_number(props.get("max_error_rate")) or not 0 <= props["max_error_rate"] <= 1:
        found.append(("max_error_rate", f"must be a ratio from 0 to 1; got {props.get('max_error_rate')!r}"))
    if not isinstance(props.get("min_requests"), int) or props["min_requests"] < 0:
        found.append(("min_requests", f"must be a whole number, 0 or more; got {props.get('min_requests')!r}"))
    if props.get("no_data") not in NO_DATA:
        found.append(("no_data", f"must be fail or proceed; got {props.get('no_data')!r}"))
    shadow = props.get("shadow_percent")
    if not isinstance(shadow, int) or not 0 <= shadow <= 100:
        found.append(("shadow_percent", f"must be a whole percentage from 0 to 100; got {shadow!r}"))
    found += metrics.problems(props.get("metrics") or {})
    if olds and olds.get("live") in services and props.get("live") in services:
        contracts = props.get("contracts") or {}
        problem = contract_problem(contracts, olds["live"], props["live"], bool(props.get("allow_breaking_change")))
        if problem:
            found.append(("live", problem))
    return found


# -- weights ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    weight: int
    state: str  # "grouping" takes group traffic, "standalone" takes none

    @property
    def active(self) -> bool:
        return self.state == "grouping" and self.weight > 0


def shares(members: Mapping[str, Member]) -> dict[str, float]:
    """Each member's percentage of the group's traffic (relative weights of the members in grouping)."""
    total = sum(m.weight for m in members.values() if m.active)
    return {name: (100.0 * m.weight / total if m.active and total else 0.0) for name, m in members.items()}


def spread(total: int, sources: Mapping[str, float], members: Sequence[str]) -> dict[str, Member]:
    """``total`` weight split over ``sources`` by their shares (largest first takes the rounding rest); the other
    ``members`` get nothing."""
    plan_: dict[str, Member] = dict.fromkeys(members, Member(0, "standalone"))
    shares_total = sum(sources.values())
    if total and shares_total:
        ordered = sorted(sources.items(), key=lambda item: (-item[1], item[0]))
        given = 0
        for index, (name, share) in enumerate(ordered):
            weight = total - given if index == len(ordered) - 1 else math.floor(total * share / shares_total)
            given += weight
            plan_[name] = Member(weight, "grouping") if weight else Member(0, "standalone")
    return plan_


def plan(target: str, percent: int, sources: Mapping[str, float], members: Sequence[str]) -> dict[str, Member]:
    """Every member's weight when ``target`` takes ``percent``% and ``sources`` share the rest as they did.

    ``sources`` maps the members that held the traffic before to their shares; the rest of the group gets nothing.
    Weights sum to 1000.
    """
    target_weight = round(TOTAL * percent / 100)
    plan_ = spread(TOTAL - target_weight, {k: v for k, v in sources.items() if k != target}, members)
    plan_[target] = Member(target_weight, "grouping") if target_weight else Member(0, "standalone")
    return plan_


def instance_shares(members: Mapping[str, Member], instances: Mapping[str, int]) -> dict[str, float]:
    """Each member's percentage in a group in ``auto`` traffic mode: weights are ignored, "auto mode allocates
    weights by each service's share of the instance count" (UpdateGroup,
    https://help.aliyun.com/zh/pai/developer-reference/api-eas-2021-07-01-updategroup). Members in ``standalone``
    take no group traffic (ReleaseService ``TrafficState``)."""
    counts = {name: max(0, instances.get(name, 0)) if m.state == "grouping" else 0 for name, m in members.items()}
    total = sum(counts.values())
    return {name: 100.0 * count / total if total else 0.0 for name, count in counts.items()}


def changes(expected: Mapping[str, Member], observed: Mapping[str, Member], ignore_missing: str = "") -> list[str]:
    """What someone else changed: every member whose weight or state is not what the shift last set, and every
    newcomer that takes traffic. ``ignore_missing`` is a member whose absence is judged elsewhere."""
    found: list[str] = []
    for name in sorted(set(expected) | set(observed)):
        before, after = expected.get(name), observed.get(name)
        if before == after or (after is None and name == ignore_missing):
            continue
        if before is None:
            if after is not None and after.active:
                found.append(f"{name} joined with weight {after.weight} ({after.state})")
        elif after is None:
            found.append(f"{name} left the group (it had weight {before.weight}, {before.state})")
        else:
            found.append(f"{name} {before.weight} ({before.state}) -> {after.weight} ({after.state})")
    return found


def percentages(members: Mapping[str, Member], names: Mapping[str, str]) -> dict[str, int]:
    """Shares by version (``names`` maps service → version), rounded to whole percent."""
    return {names.get(service, service): round(share) for service, share in shares(members).items()}


# -- gates ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    outcome: str  # pass | breach | inconclusive
    detail: str
    metric: str = ""
    value: float = 0.0
    threshold: float = 0.0


def breach(sample: metrics.Sample, max_p95_latency_ms: float, max_error_rate: float) -> Verdict | None:
    """The gate a reading breaks, or None. A metric without a finite value breaks nothing and passes nothing."""
    if sample.error_ratio is not None and sample.error_ratio > max_error_rate:
        return Verdict(
            "breach",
            f"error ratio {sample.error_ratio:.4f} is above max_error_rate {max_error_rate:g}",
            "error ratio",
            sample.error_ratio,
            max_error_rate,
        )
    if sample.p95_latency_ms is not None and sample.p95_latency_ms > max_p95_latency_ms:
        return Verdict(
            "breach",
            f"P95 latency {sample.p95_latency_ms:g} ms is above max_p95_latency_ms {max_p95_latency_ms:g}",
            "P95 latency",
            sample.p95_latency_ms,
            max_p95_latency_ms,
        )
    return None


def _complete(samples: Sequence[metrics.Sample]) -> list[tuple[float, float, float]]:
    """The readings where every metric had a finite value: only those can count towards a pass."""
    return [
        (s.p95_latency_ms, s.error_ratio, s.qps)
        for s in samples
        if s.p95_latency_ms is not None and s.error_ratio is not None and s.qps is not None
    ]


def settled(samples: Sequence[metrics.Sample], elapsed: float, min_requests: int) -> Verdict:
    """The verdict of a bake that saw no breach: pass with enough requests, else inconclusive."""
    complete = _complete(samples)
    if not complete:
        return Verdict("inconclusive", "no metric data: the new version took no traffic or the metrics did not answer")
    requests = sum(qps for _, _, qps in complete) / len(complete) * elapsed
    if requests < min_requests:
        return Verdict("inconclusive", f"about {requests:.0f} requests, fewer than min_requests {min_requests}")
    return Verdict("pass", f"about {requests:.0f} requests within the gates")


def summary(samples: Sequence[metrics.Sample]) -> dict[str, float]:
    """The worst latency and error ratio, and the mean request rate, of a bake's complete readings."""
    complete = _complete(samples)
    if not complete:
        return {}
    return {
        "p95_latency_ms": max(latency for latency, _, _ in complete),
        "error_ratio": max(errors for _, errors, _ in complete),
        "qps": sum(qps for _, _, qps in complete) / len(complete),
    }
