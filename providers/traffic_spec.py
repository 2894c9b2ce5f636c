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
from typing import Annotated, Any, Final

import pulumi.dynamic
from pydantic import ConfigDict, Field, Strict, StrictBool, StrictInt, StrictStr
from pydantic.dataclasses import dataclass as input_model

from config_problems import MISSING, Problem, key
from pai_facts import RELEASE_DEFAULTS, contract_major
from providers import metrics
from providers.base import check_inputs, model_defaults
from providers.props import plain

TOTAL: Final = 1000
RESOURCE: Final = "TrafficShift"
OUTPUTS: Final = ("weights", "history", "previous_lives")

# Seconds and thresholds: finite numbers (a NaN threshold would let every reading pass: ``x > nan`` is False).
Seconds = Annotated[float, Strict(), Field(allow_inf_nan=False)]
Percent = Annotated[StrictInt, Field(ge=1, le=100)]


@input_model(config=ConfigDict(extra="forbid"), kw_only=True)
class TrafficShiftInputs:
    """The one declaration of TrafficShift's inputs: the component builds it from validated config
    (components/blue_green.py), its fields are the resource's props, ``check`` validates against it and its
    defaults (the release's from :data:`pai_facts.RELEASE_DEFAULTS`) decode a state that lacks a key.
    Strict: nothing is coerced (``"60"`` is no number, ``True`` no count). Rules across inputs:
    :func:`release_problems`."""

    group: StrictStr = key("Name the EAS service group the versions serve in", min_length=1)
    services: dict[StrictStr, StrictStr] = key(
        "Map each version to its EAS service name, e.g. {v6: fraud_scorer_v6}", min_length=1
    )
    live: StrictStr = key("Name the version that should take all traffic, one of the keys of services")
    max_p95_latency_ms: Seconds = key("Give the P95 latency in ms above which a step is reverted, e.g. 250", gt=0)
    max_error_rate: Seconds = key("Give the error ratio (0-1) above which a step is reverted, e.g. 0.01", ge=0, le=1)
    bake_seconds: Seconds = key("Give the seconds each step is watched, 0 or more, e.g. 300", ge=0)
    steps: list[Percent] = key(
        "List ascending whole percentages ending at 100, e.g. [10, 50, 100]",
        default=list(RELEASE_DEFAULTS["steps"]),
        min_length=1,
    )
    check_interval_seconds: Seconds = key(
        "Give how often the metrics are read during a bake, more than 0 seconds, e.g. 30",
        default=RELEASE_DEFAULTS["check_interval_seconds"],
        gt=0,
    )
    min_requests: StrictInt = key(
        "Give the fewest requests a bake needs to be conclusive, 0 or more, e.g. 100",
        default=RELEASE_DEFAULTS["min_requests"],
        ge=0,
    )
    no_data: StrictStr = key(
        "Write fail (revert when a bake sees too little traffic) or proceed",
        default=RELEASE_DEFAULTS["no_data"],
        rule="fail or proceed",
        pattern=r"^(fail|proceed)$",
    )
    max_bake_extensions: StrictInt = key(
        "Give how many times an inconclusive bake is extended, 0 or more, e.g. 2",
        default=RELEASE_DEFAULTS["max_bake_extensions"],
        ge=0,
    )
    rollback_without_bake: StrictBool = key(
        "Write true to go back to a previously live version at once, false to bake it",
        default=RELEASE_DEFAULTS["rollback_without_bake"],
    )
    shadow_percent: StrictInt = key(
        "Give the whole percentage of live requests mirrored before the first step, 0 to 100",
        default=RELEASE_DEFAULTS["shadow_percent"],
        ge=0,
        le=100,
    )
    shadow_seconds: Seconds = key(
        "Give how long the shadow phase lasts, 0 or more seconds", default=RELEASE_DEFAULTS["shadow_seconds"], ge=0
    )
    contracts: dict[StrictStr, StrictStr] = key(
        "Map versions to their API contract versions, e.g. {v6: v1.4}", default_factory=dict
    )
    allow_breaking_change: StrictBool = key(
        "Write true only if every client handles both API contracts of a release",
        default=RELEASE_DEFAULTS["allow_breaking_change"],
    )
    ready_timeout_seconds: Seconds = key(
        "Give the seconds to wait for the new version to run, 0 or more", default=900, ge=0
    )
    deadline_seconds: Seconds | None = key(
        "Give the whole operation's budget in seconds, or leave it out to derive it from the bakes", default=None, gt=0
    )
    metrics: dict[StrictStr, Any] | None = key(
        "Give {source: cloudmonitor, namespace, dimension, ...} or {source: prometheus, endpoint, ...}", default=None
    )


# What a state that lacks an input means (and what the component leaves out); bake_seconds has none.
DEFAULTS: Final[Mapping[str, Any]] = model_defaults(TrafficShiftInputs)


def with_defaults(props: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs as the operations read them: every default filled in (a state written by any earlier version holds
    the same names; numbers that crossed gRPC as floats are whole again), metrics with their source's defaults."""
    merged = plain({**DEFAULTS, **{k: v for k, v in props.items() if v is not None or k not in DEFAULTS}})
    if merged.get("metrics") is None or isinstance(merged["metrics"], Mapping):
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


def _problem(name: str, problem: str, value: Any, fix: str) -> tuple[str, str]:
    """One failure worded as :func:`providers.base.check_inputs` words a type's: input, problem, value, fix."""
    return name, str(Problem(RESOURCE, name, problem, value, fix))


def release_problems(inputs: Mapping[str, Any], olds: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
    """The rules across typed inputs (each already passed :class:`TrafficShiftInputs`), as (input, reason):
    ``live`` among the services, steps that ascend to 100, the metrics source's settings, and, given the previous
    inputs ``olds``, the release itself (no jump across API contract majors)."""
    found: list[tuple[str, str]] = []
    services, live, steps = inputs["services"], inputs["live"], inputs["steps"]
    if live not in services:
        versions = ", ".join(services)
        found.append(
            _problem(
                "live",
                f"must be one of the versions in services ({versions})",
                live,
                "Set live to a version listed in services",
            )
        )
    if any(b <= a for a, b in itertools.pairwise(steps)):
        found.append(_problem("steps", "must ascend strictly", steps, "Order the percentages without repeats"))
    elif steps[-1] != 100:
        found.append(_problem("steps", "must end at 100", steps, "Make the last step 100"))
    settings = metrics.with_defaults(inputs.get("metrics"))
    for name, reason in metrics.problems(settings):
        value = settings.get(name.removeprefix("metrics."), MISSING)
        found.append(_problem(name, reason.split("; got ")[0], value, "Fix serving.metrics in the stack config"))
    if olds is not None and olds.get("live") in services and live in services:
        contracts = inputs.get("contracts") or {}
        problem = contract_problem(contracts, olds["live"], live, bool(inputs.get("allow_breaking_change")))
        if problem:
            found.append(("live", f"{RESOURCE} [live]: {problem}"))
    return found


def check_result(news: Mapping[str, Any], olds: Mapping[str, Any] | None = None) -> pulumi.dynamic.CheckResult:
    """``check``: every input typed by :class:`TrafficShiftInputs` (a failure names the input, the value and the
    fix), then :func:`release_problems` against the previous inputs ``olds`` (a state's, any earlier shape)."""
    previous = with_defaults(olds) if olds and olds.get("live") else None
    if news.get("metrics") is None or isinstance(news["metrics"], Mapping):  # new inputs: today's defaults and units
        news = {**news, "metrics": metrics.for_new_inputs(news.get("metrics"))}
    result = check_inputs(
        TrafficShiftInputs,
        news,
        resource=RESOURCE,
        outputs=OUTPUTS,
        semantic=lambda inputs: release_problems(inputs, previous),
    )
    if result.failures:
        return result
    return pulumi.dynamic.CheckResult(with_defaults(result.inputs or {}), [])


def check_failures(news: Mapping[str, Any], olds: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
    """(input, reason) for every invalid input, as ``check`` reports them."""
    return [(failure.property, failure.reason) for failure in check_result(news, olds).failures or []]


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
            f"{sample.latency_label} {sample.p95_latency_ms:g} ms is above max_p95_latency_ms {max_p95_latency_ms:g}",
            sample.latency_label,
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
