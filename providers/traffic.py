"""``TrafficShift``: gated blue-green releases for an EAS service group, with automatic revert.

When ``live`` changes, ``pulumi up`` moves the group's traffic to the new version step by step (``steps``, default
10 → 50 → 100 %). At every step it sets every member's weight explicitly, then bakes: for ``bake_seconds`` it reads
the new version's P95 latency and error ratio every ``check_interval_seconds``. A reading above
``max_p95_latency_ms`` or ``max_error_rate`` restores the previous weights at once and fails the update, naming the
metric, the value, the threshold and the step, so the stack keeps the old ``live``. A bake without enough traffic
(``min_requests``) is inconclusive: it is extended up to ``max_bake_extensions`` times, then ``no_data`` decides
(``fail`` reverts, ``proceed`` moves on and records that it did). Nothing passes silently.

Every operation starts from the group's actual weights (``ListServices``), not from the state: a shift that was
interrupted half-way is resumed (the step it stopped at is baked again) or, if ``live`` was set back, reverted; a
group created outside Pulumi is adopted the same way. Going back to a version that was fully live before is a
rollback and skips the bakes (``rollback_without_bake``). With ``shadow_percent`` the new version first receives
a mirrored share of the live version's requests (EAS service mirror) for ``shadow_seconds``, gated the same way
while it answers no user. The shift never changes instance counts (the autoscaler owns them) and waits for the new
version to be ``Running`` before any traffic moves.

Outputs: ``live``, ``weights`` (version → % of the group's traffic), ``history`` (every step: weights, metrics,
verdict, time) and ``previous_lives``. The rules are in :mod:`providers.traffic_spec`; metrics in
:mod:`providers.metrics`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import pulumi
import pulumi.dynamic

from providers import traffic_spec as spec
from providers.base import ConfiguredProvider
from providers.traffic_spec import Member, Verdict

CALL_BUDGET_SECONDS: Final = 120.0
HISTORY_LIMIT: Final = 100
INPUTS: Final = (
    "group",
    "services",
    "live",
    "steps",
    "bake_seconds",
    "check_interval_seconds",
    "max_p95_latency_ms",
    "max_error_rate",
    "min_requests",
    "no_data",
    "max_bake_extensions",
    "rollback_without_bake",
    "shadow_percent",
    "shadow_seconds",
    "contracts",
    "allow_breaking_change",
    "ready_timeout_seconds",
    "deadline_seconds",
    "metrics",
)
OUTPUTS: Final = ("weights", "history", "previous_lives")


class ShiftFailed(Exception):
    """The release was reverted or could not run; the message says why and what the weights are now."""


@dataclass(frozen=True, kw_only=True)
class TrafficShiftArgs:
    group: str
    services: Mapping[str, pulumi.Input[str]]  # version → EAS service name
    live: str
    max_p95_latency_ms: float
    max_error_rate: float
    steps: Sequence[int] = (10, 50, 100)
    bake_seconds: float = 300
    check_interval_seconds: float = 30
    min_requests: int = 50
    no_data: str = "fail"
    max_bake_extensions: int = 2
    rollback_without_bake: bool = True
    shadow_percent: int = 0
    shadow_seconds: float = 0
    contracts: Mapping[str, str] = field(default_factory=lambda: {})
    allow_breaking_change: bool = False
    ready_timeout_seconds: float = 900
    deadline_seconds: float | None = None
    metrics: Mapping[str, Any] | None = None


class TrafficShiftProvider(ConfiguredProvider):
    """Stateless: SDK imports and clients live inside the methods (the object is pickled into state)."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        inputs = spec.with_defaults(news)
        previous = spec.with_defaults(olds) if olds.get("live") else None
        failures = [pulumi.dynamic.CheckFailure(p, reason) for p, reason in spec.problems(inputs, previous)]
        return pulumi.dynamic.CheckResult(inputs, failures)

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
            actual = _Shift(self._config, props).weights()
        except Exception:  # a read that fails must not fail a preview; the next operation reads again
            return False
        return actual != {version: int(share) for version, share in recorded.items()}

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        shift = _Shift(self._config, spec.with_defaults(props))
        shift.converge()
        return pulumi.dynamic.CreateResult(f"{shift.region}/{shift.group}", shift.outputs())

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        olds, news = spec.with_defaults(olds), spec.with_defaults(news)
        shift = _Shift(self._config, news)
        shift.restore(olds)
        shift.refuse_removing_live_traffic(olds)
        shift.converge()
        return pulumi.dynamic.UpdateResult(shift.outputs())

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        props = spec.with_defaults(props)
        shift = _Shift(self._config, props)
        shift.restore(props)
        return pulumi.dynamic.ReadResult(id_, {**shift.outputs(), "live": props["live"]})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None  # weights stay as they are; the services go with their own resources


class _Shift:
    def __init__(self, config: Any, props: dict[str, Any]) -> None:
        from providers import metrics
        from providers.clients import ClientFactory
        from providers.waiting import Deadline, progress

        self.props = props
        self.factory = ClientFactory.from_config(config)
        self.client = self.factory.eas()
        self.region = self.factory.region
        self.group = str(props["group"])
        self.services: dict[str, str] = {str(v): str(s) for v, s in props["services"].items()}
        self.versions: dict[str, str] = {s: v for v, s in self.services.items()}
        self.target_version = str(props["live"])
        self.target = self.services[self.target_version]
        self.reader = metrics.reader(self.factory, props["metrics"], self._call)
        self.deadline = Deadline(spec.deadline_seconds(props))
        self.report: Callable[[str], None] = progress
        self.history: list[dict[str, Any]] = []
        self.previous_lives: list[str] = []
        self.members: dict[str, Member] = {}

    # -- state ------------------------------------------------------------------------------------------------

    def restore(self, outputs: Mapping[str, Any]) -> None:
        self.history = list(outputs.get("history") or [])
        self.previous_lives = [str(v) for v in outputs.get("previous_lives") or []]
        if outputs.get("live") and outputs["live"] not in self.previous_lives:
            self.previous_lives.append(str(outputs["live"]))

    def outputs(self) -> dict[str, Any]:
        return {
            **self.props,
            "weights": self.weights() if not self.members else self._percentages(self.members),
            "history": self.history[-HISTORY_LIMIT:],
            "previous_lives": self.previous_lives[-10:],
        }

    def _percentages(self, members: Mapping[str, Member]) -> dict[str, int]:
        return spec.percentages(members, self.versions)

    def _event(self, phase: str, step: int, verdict: str, detail: str, values: Mapping[str, float]) -> None:
        self.history.append(
            {
                "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "phase": phase,
                "step": step,
                "to": self.target_version,
                "weights": self._percentages(self.members),
                "metrics": dict(values),
                "verdict": verdict,
                "detail": detail,
            }
        )

    # -- calls ------------------------------------------------------------------------------------------------

    def _call(self, what: str, operation: Callable[[], Any]) -> Any:
        from providers import retry
        from providers.waiting import Deadline

        budget = Deadline(min(CALL_BUDGET_SECONDS, max(self.deadline.remaining(), 1.0)))
        return retry.call(operation, what=f"traffic {self.group}: {what}", deadline=budget)

    def actual(self) -> dict[str, Member]:
        """The group's members and their weights, as EAS has them now."""
        from alibabacloud_eas20210701 import models as eas

        members: dict[str, Member] = {}
        page = 1
        while True:
            request = eas.ListServicesRequest(group_name=self.group, page_number=page, page_size=100)
            body = self._call("read weights", lambda r=request: self.client.list_services(r)).body
            for service in body.services or []:
                if service.service_group == self.group:
                    members[str(service.service_name)] = Member(int(service.weight or 0), str(service.traffic_state))
            if page * 100 >= int(body.total_count or 0):
                break
            page += 1
        return members

    def weights(self) -> dict[str, int]:
        return self._percentages(self.actual())

    def ensure_ready(self) -> None:
        """Wait until the new version is Running: no traffic moves to a version that cannot answer."""
        from providers.waiting import Deadline, Poll, wait_for

        def read() -> str:
            body = self._call(f"read {self.target}", lambda: self.client.describe_service(self.region, self.target))
            return str(body.body.status)

        def done(status: str) -> bool:
            if status == "Failed":
                raise ShiftFailed(f"traffic {self.group}: {self.target} is Failed; no traffic was moved to it.")
            return status == "Running"

        budget = Deadline(max(1.0, min(self.props["ready_timeout_seconds"], self.deadline.remaining())))
        poll = Poll(interval=min(10.0, max(0.05, self.props["check_interval_seconds"])))
        wait_for(read, done=done, describe=str, what=f"{self.target} before traffic moves", deadline=budget, poll=poll)

    def apply(self, members: Mapping[str, Member]) -> None:
        """Set every member in ``members`` explicitly (idempotent: a retried call sets the same weight)."""
        from alibabacloud_eas20210701 import models as eas

        for service, member in members.items():
            request = eas.ReleaseServiceRequest(weight=member.weight, traffic_state=member.state)
            self._call(
                f"set {service} to {member.weight} ({member.state})",
                lambda s=service, r=request: self.client.release_service(self.region, s, r),
            )
        self.members = {**self.members, **members}

    # -- the release --------------------------------------------------------------------------------------------

    def refuse_removing_live_traffic(self, olds: Mapping[str, Any]) -> None:
        removed = {str(v): str(s) for v, s in (olds.get("services") or {}).items() if v not in self.services}
        if not removed or olds.get("live") != self.target_version:
            return  # a release drains the versions it removes, through its gates
        shares = spec.shares(self.actual())
        busy = [f"{version} ({shares[service]:.0f}%)" for version, service in removed.items() if shares.get(service)]
        if busy:
            raise ShiftFailed(
                f"traffic {self.group}: refusing to remove {', '.join(busy)}: it still takes traffic. Release "
                f"another version first (set live), then remove it in a later change."
            )

    def converge(self) -> None:
        self.ensure_ready()
        self.members = self.actual()
        shares = spec.shares(self.members)
        current = shares.get(self.target, 0.0)
        sources = {service: share for service, share in shares.items() if service != self.target and share > 0}
        names = list(self.members) if self.target in self.members else [*self.members, self.target]
        if not sources:
            if current < 100:
                self.apply(spec.plan(self.target, 100, {}, names))
                self._event("initial", 100, "applied", "no version took traffic: nobody to protect", {})
                self.report(f"traffic {self.group}: {self.target_version} takes all traffic (nothing took any)")
            self._became_live()
            return
        if self.target_version in self.previous_lives and self.props["rollback_without_bake"]:
            self.apply(spec.plan(self.target, 100, {}, names))
            self._event("rollback", 100, "applied", "back to a version that was live before, without bakes", {})
            self.report(f"traffic {self.group}: rolled back to {self.target_version} (100%, no bake)")
            self._became_live()
            return
        steps = [step for step in self.props["steps"] if step > current]
        if current > 0:
            self.report(f"traffic {self.group}: {self.target_version} already takes {current:.0f}%; resuming there")
            steps = [round(current), *steps]
        elif self.props["shadow_percent"]:
            self._shadow(sources, names)
        for step in steps:
            self._step(step, sources, names, resumed=current > 0 and step == round(current))
        self._became_live()

    def _became_live(self) -> None:
        self.previous_lives = [v for v in self.previous_lives if v != self.target_version] + [self.target_version]

    def _step(self, step: int, sources: Mapping[str, float], names: Sequence[str], *, resumed: bool) -> None:
        self.apply(spec.plan(self.target, step, sources, names))
        split = ", ".join(f"{v} {p}%" for v, p in self._percentages(self.members).items() if p)
        self.report(f"traffic {self.group}: step {step}% ({split}), baking {self.props['bake_seconds']:g}s")
        verdict, values = self._bake(float(self.props["bake_seconds"]))
        phase = "resume" if resumed else "step"
        if verdict.outcome == "pass" or (verdict.outcome == "inconclusive" and self.props["no_data"] == "proceed"):
            outcome = "pass" if verdict.outcome == "pass" else "proceeded_without_data"
            self._event(phase, step, outcome, verdict.detail, values)
            self.report(f"traffic {self.group}: step {step}% {outcome}: {verdict.detail}")
            return
        self._event(phase, step, verdict.outcome, verdict.detail, values)
        self._revert(sources, names, f"step {step}%", verdict)

    def _revert(self, sources: Mapping[str, float], names: Sequence[str], where: str, verdict: Verdict) -> None:
        self.apply(spec.plan(self.target, 0, sources, names))
        restored = ", ".join(f"{v} {p}%" for v, p in self._percentages(self.members).items())
        self._event("revert", 0, "applied", f"after {verdict.outcome} at {where}", {})
        self.report(f"traffic {self.group}: REVERTED at {where}: {verdict.detail}; weights restored: {restored}")
        reason = (
            f"{verdict.metric} of {self.target} was {verdict.value:g}, above its threshold {verdict.threshold:g}"
            if verdict.outcome == "breach"
            else f"{verdict.detail} after {self.props['max_bake_extensions']} extension(s), and no_data is 'fail'"
        )
        history = "\n".join(
            f"  - {e['phase']} {e['step']}%: {e['verdict']} {e['weights']} {e['metrics']}" for e in self.history
        )
        raise ShiftFailed(
            f"traffic shift of group {self.group} to {self.target_version} reverted at {where}: {reason}. Weights "
            f"restored: {restored}. The stack keeps its previous live version; fix the model or the gates and run "
            f"pulumi up again.\n{history}"
        )

    def _bake(self, bake: float) -> tuple[Verdict, dict[str, float]]:
        """Watch the new version for ``bake`` seconds (extended while inconclusive); stop at the first breach."""
        interval = min(float(self.props["check_interval_seconds"]), bake) if bake else 0.0
        samples: list[Any] = []
        started = time.monotonic()
        end, extensions = started + bake, 0
        while True:
            if bake:
                time.sleep(max(0.0, min(interval, end - time.monotonic())))
            self._check_deadline()
            sample = self.reader.read(self.target)
            if sample is not None:
                samples.append(sample)
                breach = spec.breach(sample, self.props["max_p95_latency_ms"], self.props["max_error_rate"])
                if breach is not None:
                    return breach, spec.summary(samples)
            if not bake:
                return Verdict("pass", "no bake configured: one reading within the gates"), spec.summary(samples)
            if time.monotonic() < end:
                continue
            verdict = spec.settled(samples, time.monotonic() - started, self.props["min_requests"])
            if verdict.outcome == "pass" or extensions >= self.props["max_bake_extensions"]:
                return verdict, spec.summary(samples)
            extensions += 1
            end += bake
            self.report(f"traffic {self.group}: inconclusive ({verdict.detail}); extending the bake {extensions}")

    def _check_deadline(self) -> None:
        if self.deadline.expired():
            raise ShiftFailed(
                f"traffic {self.group}: the release to {self.target_version} ran past deadline_seconds "
                f"({self.deadline.seconds:.0f}s); weights are {self._percentages(self.members)}. Run pulumi up again "
                f"to resume from them."
            )

    def _shadow(self, sources: Mapping[str, float], names: Sequence[str]) -> None:
        """Mirror a share of the live version's requests to the new one and gate on them; no user is served."""
        from alibabacloud_eas20210701 import models as eas

        from providers import retry

        source = max(sources, key=lambda s: sources[s])
        percent = int(self.props["shadow_percent"])
        create = eas.CreateServiceMirrorRequest(ratio=percent, target=[self.target])
        try:
            self._call(
                f"mirror {percent}% of {source}", lambda: self.client.create_service_mirror(self.region, source, create)
            )
        except Exception as error:
            if not str(retry.code_of(error)).endswith("AlreadyExists"):
                raise
            update = eas.UpdateServiceMirrorRequest(ratio=percent, target=[self.target])
            self._call("update mirror", lambda: self.client.update_service_mirror(self.region, source, update))
        self.report(f"traffic {self.group}: shadow: {percent}% of {source}'s requests mirrored to {self.target}")
        try:
            verdict, values = self._bake(float(self.props["shadow_seconds"]))
        finally:
            self._call("remove mirror", lambda: self.client.delete_service_mirror(self.region, source))
        proceed = verdict.outcome == "inconclusive" and self.props["no_data"] == "proceed"
        outcome = "proceeded_without_data" if proceed else verdict.outcome
        self._event("shadow", 0, outcome, verdict.detail, values)
        self.report(f"traffic {self.group}: shadow {outcome}: {verdict.detail}")
        if outcome not in ("pass", "proceeded_without_data"):
            self._revert(sources, names, "the shadow phase", verdict)


class TrafficShift(pulumi.dynamic.Resource, module="pai", name="TrafficShift"):
    """Registers as ``pulumi-python:dynamic/pai:TrafficShift``; its id is ``<region>/<group>``."""

    live: pulumi.Output[str]
    weights: pulumi.Output[dict[str, int]]
    history: pulumi.Output[list[dict[str, Any]]]

    def __init__(self, name: str, args: TrafficShiftArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props: dict[str, Any] = {
            "group": args.group,
            "services": dict(args.services),
            "live": args.live,
            "steps": list(args.steps),
            "bake_seconds": args.bake_seconds,
            "check_interval_seconds": args.check_interval_seconds,
            "max_p95_latency_ms": args.max_p95_latency_ms,
            "max_error_rate": args.max_error_rate,
            "min_requests": args.min_requests,
            "no_data": args.no_data,
            "max_bake_extensions": args.max_bake_extensions,
            "rollback_without_bake": args.rollback_without_bake,
            "shadow_percent": args.shadow_percent,
            "shadow_seconds": args.shadow_seconds,
            "contracts": dict(args.contracts),
            "allow_breaking_change": args.allow_breaking_change,
            "ready_timeout_seconds": args.ready_timeout_seconds,
            "deadline_seconds": args.deadline_seconds,
            "metrics": dict(args.metrics) if args.metrics is not None else None,
            **dict.fromkeys(OUTPUTS),
        }
        super().__init__(TrafficShiftProvider(), name, props, opts)
