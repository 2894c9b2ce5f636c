"""The TrafficShift provider's worker: one release of a service group, step by step (look, set every weight, bake,
judge by the metrics, extend or revert), with its history and progress on stderr. providers/traffic.py has the
contract; the provider there calls :class:`Shift`. What it looks at before every move, and how it stops or reverts,
is :class:`providers.traffic_watch.GroupWatch`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from providers import metrics
from providers import traffic_spec as spec
from providers.traffic_spec import Verdict
from providers.traffic_watch import GroupWatch, ShiftFailed

__all__ = ["Shift", "ShiftFailed"]


class Shift(GroupWatch):
    """A release of ``live``: readiness and the proofs first, then shadow, steps and bakes, each gated."""

    def __init__(self, config: Any, props: dict[str, Any]) -> None:
        super().__init__(config, props)
        self.reader = metrics.reader(self.factory, props["metrics"], self._metrics_call)

    def _metrics_call(self, what: str, operation: Callable[[], Any]) -> Any:
        """A metrics query: transient failures are retried within one check interval (at least a second)."""
        from providers import retry
        from providers.waiting import Deadline

        interval = max(float(self.props["check_interval_seconds"]), 1.0)
        budget = Deadline(min(interval, max(self.deadline.remaining(), 1.0)))
        return retry.call(operation, what=f"traffic {self.group}: {what}", deadline=budget)

    # -- the release --------------------------------------------------------------------------------------------

    def converge(self, previous_live: str | None = None) -> None:
        reported_group = self.ensure_ready()
        observed = self.look()
        self.prove_membership(observed, reported_group, previous_live)
        self.members = dict(observed.members)
        observed = self.ensure_customized(observed)
        shares = observed.shares
        current = shares.get(self.target, 0.0)
        self.sources = {service: share for service, share in shares.items() if service != self.target and share > 0}
        self.names = list(self.members)
        self.states = observed.states
        if not self.sources:
            if current < 100:
                self.apply(spec.plan(self.target, 100, {}, self.names))
                self._event("initial", 100, "applied", "no version took traffic: nobody to protect", {})
                self.report(f"traffic {self.group}: {self.target_version} takes all traffic (nothing took any)")
            self._became_live()
            return
        if self.target_version in self.previous_lives and self.props["rollback_without_bake"]:
            self.apply(spec.plan(self.target, 100, {}, self.names))
            self._event("rollback", 100, "applied", "back to a version that was live before, without bakes", {})
            self.report(f"traffic {self.group}: rolled back to {self.target_version} (100%, no bake)")
            self._became_live()
            return
        # A gated release restores the sources when a gate fails: they must be able to serve before anything moves.
        # (A rollback, above, moves everything to a Running version at once, whatever state the others are in.)
        empty = self.empties_group(spec.plan(self.target, 0, self.sources, self.names))
        if empty is not None:
            raise ShiftFailed(
                f"traffic {self.group}: refusing the release to {self.target_version} before anything moves: "
                f"restoring the current weights after a failed gate would fail, as {empty}. Start that version, or "
                f"set live back to a version that was live before (a rollback moves at once), and run pulumi up again."
            )
        steps = [int(step) for step in self.props["steps"] if step > current]
        first = int(self.props["steps"][0])
        resumed = current > 0
        if current >= first:
            self.report(f"traffic {self.group}: {self.target_version} already takes {current:.0f}%; resuming there")
            steps = [round(current), *steps]
        elif resumed:  # a sliver below the first step: the first step is where the release resumes
            self.report(
                f"traffic {self.group}: {self.target_version} already takes {current:.1f}%, below the first step; "
                f"resuming at {first}%"
            )
        elif self.props["shadow_percent"]:
            self._shadow()
        try:
            for index, step in enumerate(steps):
                self._step(step, resumed=resumed and index == 0)
        except ShiftFailed:
            raise
        except Exception as error:  # no failure may leave traffic split between versions
            from providers import retry

            self._fail_reverted(f"an error: {retry.describe(error)}")
        self._became_live()

    def _became_live(self) -> None:
        self.previous_lives = [v for v in self.previous_lives if v != self.target_version] + [self.target_version]

    def _step(self, step: int, *, resumed: bool) -> None:
        self.where = f"step {step}%"
        self.guard()
        self.apply(spec.plan(self.target, step, self.sources, self.names))
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
        self._fail_reverted(self._reason(verdict))

    def _reason(self, verdict: Verdict) -> str:
        if verdict.outcome == "breach":
            return f"{verdict.metric} of {self.target} was {verdict.value:g}, above its threshold {verdict.threshold:g}"
        return f"{verdict.detail} after {self.props['max_bake_extensions']} extension(s), and no_data is 'fail'"

    def _check(self) -> metrics.Sample | None:
        """One metric check: read the new version's metrics, then look at the group before acting on them."""
        self._check_deadline()
        try:
            sample, refused = self.reader.read(self.target), None
        except metrics.MetricsRefused as error:
            sample, refused = None, error
        self.guard()
        if refused is not None:
            self._fail_reverted(f"the metrics service refused a query: {refused}")
        return sample

    def _bake(self, bake: float) -> tuple[Verdict, dict[str, float]]:
        """Watch the new version for ``bake`` seconds (extended while inconclusive); stop at the first breach."""
        interval = min(float(self.props["check_interval_seconds"]), bake) if bake else 0.0
        samples: list[metrics.Sample] = []
        started = time.monotonic()
        end, extensions = started + bake, 0
        while True:
            if bake:
                time.sleep(max(0.0, min(interval, end - time.monotonic())))
            sample = self._check()
            if sample is not None:
                samples.append(sample)
                breach = spec.breach(sample, self.props["max_p95_latency_ms"], self.props["max_error_rate"])
                if breach is not None:
                    return breach, spec.summary(samples)
            if not bake:
                verdict = spec.settled(samples, 1.0, 0)
                if verdict.outcome == "pass":
                    verdict = Verdict("pass", "no bake configured: one reading within the gates")
                return verdict, spec.summary(samples)
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
            self._fail_reverted(
                f"the release ran past deadline_seconds ({self.deadline.seconds:.0f}s); run pulumi up again to resume"
            )

    def _shadow(self) -> None:
        """Mirror a share of the live version's requests to the new one and gate on them; no user is served."""
        from alibabacloud_eas20210701 import models as eas

        from providers import retry

        self.where = "the shadow phase"
        source = max(self.sources, key=lambda s: self.sources[s])
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
            self._fail_reverted(self._reason(verdict))
