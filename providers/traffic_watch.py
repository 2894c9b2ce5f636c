"""The half of TrafficShift's worker that looks before it moves: the group as EAS has it (members, weights, traffic
mode, states), every weight set explicitly, the proofs made before anything moves (readiness, membership, a
``customized`` group, no live traffic removed), the guard re-read before every step and metric check, and the two
ways a release ends early: stopped (someone else acted: their change is left as it is) or reverted (the weights the
release started from are restored). It keeps the history and the outputs. The release itself (steps, bakes, gates,
shadow) is :class:`providers.traffic_run.Shift`, built on :class:`GroupWatch`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from providers import eas_group
from providers import traffic_spec as spec
from providers.eas_group import MEMBERSHIP_KEY, Observed, ServiceState
from providers.traffic_spec import Member

CALL_BUDGET_SECONDS: Final = 120.0


HISTORY_LIMIT: Final = 100


class ShiftFailed(Exception):
    """The release was reverted or could not run; the message says why and what the weights are now."""


class GroupWatch:
    """One operation on one service group: its clients, the inputs, what the operation has seen and set."""

    def __init__(self, config: Any, props: dict[str, Any]) -> None:
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
        self.deadline = Deadline(spec.deadline_seconds(props))
        self.report: Callable[[str], None] = progress
        self.history: list[dict[str, Any]] = []
        self.previous_lives: list[str] = []
        self.members: dict[str, Member] = {}  # what the shift last read or set: anything else is someone else's
        self.sources: dict[str, float] = {}  # the members that held the traffic before, and their shares
        self.names: list[str] = []
        self.where = "the start"
        self.states: dict[str, ServiceState] = {}  # the members as last seen: only those can be set
        self.target_ran = False  # the new version was seen with running instances during this release

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

    def _history_text(self) -> str:
        return "\n".join(
            f"  - {e['phase']} {e['step']}%: {e['verdict']} {e['weights']} {e['metrics']}" for e in self.history
        )

    # -- calls ------------------------------------------------------------------------------------------------

    def _call(self, what: str, operation: Callable[[], Any]) -> Any:
        from providers import retry
        from providers.waiting import Deadline

        budget = Deadline(min(CALL_BUDGET_SECONDS, max(self.deadline.remaining(), 1.0)))
        return retry.call(operation, what=f"traffic {self.group}: {what}", deadline=budget)

    def look(self) -> Observed:
        """The group as EAS has it now: traffic mode, members, weights and states."""
        return eas_group.read(self.client, self.region, self.group, self._call)

    def weights(self) -> dict[str, int]:
        return {self.versions.get(s, s): round(share) for s, share in self.look().shares.items()}

    def drifted(self, recorded: Mapping[str, Any]) -> bool:
        observed = self.look()
        actual = {self.versions.get(s, s): round(share) for s, share in observed.shares.items()}
        return observed.mode != "customized" or actual != {v: int(share) for v, share in recorded.items()}

    def ensure_ready(self) -> str:
        """Wait until the new version is Running: no traffic moves to a version that cannot answer.

        Returns the service group the version reports (``ServiceGroup``), for the membership check.
        """
        from providers.waiting import Deadline, Poll, wait_for

        seen: dict[str, str] = {}

        def read() -> str:
            body = self._call(f"read {self.target}", lambda: self.client.describe_service(self.region, self.target))
            seen["group"] = str(body.body.service_group or "")
            return str(body.body.status)

        def done(status: str) -> bool:
            if status in ("Failed", "Stopped"):
                raise ShiftFailed(f"traffic {self.group}: {self.target} is {status}; no traffic was moved to it.")
            return status == "Running"

        budget = Deadline(max(1.0, min(self.props["ready_timeout_seconds"], self.deadline.remaining())))
        poll = Poll(interval=min(10.0, max(0.05, self.props["check_interval_seconds"])))
        wait_for(read, done=done, describe=str, what=f"{self.target} before traffic moves", deadline=budget, poll=poll)
        return seen.get("group", "")

    def apply(self, members: Mapping[str, Member]) -> None:
        """Set every member in ``members`` explicitly (idempotent: a retried call sets the same weight)."""
        from alibabacloud_eas20210701 import models as eas

        for service, member in members.items():
            request = eas.ReleaseServiceRequest(weight=member.weight, traffic_state=member.state)
            self._call(
                f"set {service} to {member.weight} ({member.state})",
                lambda s=service, r=request: self.client.release_service(self.region, s, r),
            )
            self.members[service] = member

    # -- before anything moves -------------------------------------------------------------------------------

    def prove_membership(self, observed: Observed, reported_group: str, previous_live: str | None) -> None:
        """Every version must be a member of the group: the new one and the live one first, by name."""
        if observed.mode == "" or self.target not in observed.members:
            raise ShiftFailed(
                f"traffic {self.group}: {self.target} ({self.target_version}) is not a member of EAS service group "
                f"{self.group}: ListServices(GroupName={self.group}) does not list it"
                f"{'' if observed.mode else ' and DescribeGroup finds no such group'}; the service reports "
                f"ServiceGroup {reported_group!r}. The project joins a version to its group with the service config "
                f"key {MEMBERSHIP_KEY} (components/eas_config.py), which is UNCONFIRMED for the real EAS API: compare "
                f"the service's JSON in the EAS console and set the key it uses. No weight was moved."
            )
        live = self.services.get(previous_live or "")
        if live and live != self.target and live not in observed.members:
            raise ShiftFailed(
                f"traffic {self.group}: refusing the release before anything moves: the live version {previous_live} "
                f"({live}) is not a member of EAS service group {self.group} (ListServices(GroupName={self.group}) "
                f"does not list it), so the group's weights do not say what serves its clients, and moving them "
                f"could leave the group with no serving member. Check the service config key {MEMBERSHIP_KEY} of "
                f"{live} (UNCONFIRMED, see components/eas_config.py) in the EAS console."
            )
        strays = [f"{v} ({s})" for v, s in self.services.items() if s not in observed.members]
        if strays:  # a version whose weight the shift could never set: say so on the up that deploys it
            verb = "is not a member" if len(strays) == 1 else "are not members"
            raise ShiftFailed(
                f"traffic {self.group}: {', '.join(strays)} {verb} of EAS service group {self.group} "
                f"(ListServices(GroupName={self.group}) does not list it), so no release could move traffic to or "
                f"from it. Check its service config key {MEMBERSHIP_KEY} (UNCONFIRMED, see "
                f"components/eas_config.py) against the service's JSON in the EAS console. No weight was moved."
            )

    def ensure_customized(self, observed: Observed) -> Observed:
        """Only ``customized`` honours weights: switch an ``auto`` group after pinning the split it makes now."""
        if observed.mode == "customized":
            return observed
        pinned = spec.spread(spec.TOTAL, {s: v for s, v in observed.shares.items() if v > 0}, list(observed.members))
        self.apply(pinned)  # in auto mode weights carry no traffic: this changes nothing until the switch
        self._call(
            "set traffic mode customized",
            lambda: eas_group.update_traffic_mode(self.client, self.region, self.group, "customized"),
        )
        after = self.look()
        if after.mode != "customized":
            raise ShiftFailed(
                f"traffic {self.group}: UpdateGroup TrafficMode=customized did not take effect (DescribeGroup says "
                f"{after.mode!r}); in any other mode EAS ignores weights. No release step ran."
            )
        self.members = dict(after.members)
        split = ", ".join(f"{self.versions.get(s, s)} {p:.0f}%" for s, p in observed.shares.items() if p)
        detail = f"group was in {observed.mode or 'an unknown'} traffic mode; pinned its split ({split}) as weights"
        self._event("traffic_mode", 0, "customized", detail, {})
        self.report(f"traffic {self.group}: traffic mode {observed.mode or 'unknown'} -> customized ({detail})")
        return after

    def refuse_removing_live_traffic(self, olds: Mapping[str, Any]) -> None:
        removed = {str(v): str(s) for v, s in (olds.get("services") or {}).items() if v not in self.services}
        if not removed or olds.get("live") != self.target_version:
            return  # a release drains the versions it removes, through its gates
        shares = self.look().shares
        busy = [f"{version} ({shares[service]:.0f}%)" for version, service in removed.items() if shares.get(service)]
        if busy:
            raise ShiftFailed(
                f"traffic {self.group}: refusing to remove {', '.join(busy)}: it still takes traffic. Release "
                f"another version first (set live), then remove it in a later change."
            )

    # -- looking before every move ------------------------------------------------------------------------------

    def guard(self) -> Observed:
        """Re-read the group: someone else's change stops the shift as it is; a version that stopped serving is
        reverted."""
        observed = self.look()
        if observed.mode != "customized":
            self._stop(
                f"the group's traffic mode is now {observed.mode or 'unknown'} instead of customized: EAS splits its "
                f"traffic by instance count and ignores the weights. The next pulumi up pins the split it finds and "
                f"sets customized again"
            )
        changed = spec.changes(self.members, observed.members, ignore_missing=self.target)
        if changed:
            self._stop(f"its weights are not what the shift set: {'; '.join(changed)}", observed)
        self.states = observed.states
        state = observed.states.get(self.target)
        holds_traffic = self.members.get(self.target, Member(0, "standalone")).active
        if state is not None and state.running:
            self.target_ran = True
        if self.target not in observed.members or state is None:
            self._fail_reverted(f"{self.target} is no longer a member of the group (deleted or moved)")
        elif state.status != "Running" or (holds_traffic and self.target_ran and not state.serving):
            # A version scaled to zero may sit at 0 instances until its first requests wake it; one that had
            # instances and lost them all while taking traffic was scaled away.
            self._fail_reverted(f"{self.target} is no longer serving: {state.describe()}")
        return observed

    def empties_group(self, plan: Mapping[str, Member]) -> str | None:
        """Why ``plan`` would leave the group with no serving member (none of its active members Running), or None."""
        active = [service for service, member in plan.items() if member.active]
        if any(self.states.get(service, ServiceState("", "", "", None)).status == "Running" for service in active):
            return None
        down = ", ".join(
            f"{self.versions.get(s, s)} ({self.states[s].describe() if s in self.states else 'not in the group'})"
            for s in active
        )
        return f"it would leave the group with no serving member: traffic would go to {down or 'no member at all'}"

    def _stop(self, what: str, observed: Observed | None = None) -> None:
        members = observed.members if observed else self.members
        now = ", ".join(f"{self.versions.get(s, s)} {m.weight} ({m.state})" for s, m in members.items())
        self._event("stopped", 0, "changed_by_someone_else", what, {})
        self.report(f"traffic {self.group}: STOPPED at {self.where}: someone else changed the group: {what}")
        raise ShiftFailed(
            f"traffic shift of group {self.group} to {self.target_version} stopped at {self.where}: someone else "
            f"changed the group during the release: {what}. The shift leaves their change as it is (it never "
            f"undoes a manual move); weights now: {now}. If it was a rollback, set live to the version that now "
            f"takes the traffic; otherwise run pulumi up again to release from the weights as they are.\n"
            f"{self._history_text()}"
        )

    def _fail_reverted(self, reason: str) -> None:
        """Restore the weights the release started from, then fail naming ``reason``."""
        plan = spec.plan(self.target, 0, self.sources, self.names)
        restore = {service: member for service, member in plan.items() if service in self.states}  # still members
        empty = self.empties_group(restore)
        if empty is None:
            self.apply(restore)
        restored = ", ".join(f"{v} {p}%" for v, p in self._percentages(self.members).items())
        if empty is not None:
            restored = f"NOT restored, as {empty}; they stay {restored}"
        self._event("revert", 0, "applied", f"at {self.where}: {reason}", {})
        self.report(f"traffic {self.group}: REVERTED at {self.where}: {reason}; weights restored: {restored}")
        raise ShiftFailed(
            f"traffic shift of group {self.group} to {self.target_version} reverted at {self.where}: {reason}. "
            f"Weights restored: {restored}. The stack keeps its previous live version; fix the model or the gates "
            f"and run pulumi up again.\n{self._history_text()}"
        )
