"""A TrainingJob run's attempts as DLC reports them: job statuses, preemption, timestamps, the ``Attempt``
record kept in the resource's ``attempts`` output, and the order of checkpoint directories.

Pure, so table-tested (tests/providers/test_training_attempts.py). Status values follow
``shared/reference/dlc-dsw-oss-api.md`` §2.2; the worker that polls DLC is ``training_run.py``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Final

from providers.props import is_number, plain

# Status values (dlc-dsw-oss-api.md §2.2). *Reserving = finished, pods kept a while. Unknown values keep polling.
SUCCEEDED: Final = frozenset({"Succeeded", "SucceededReserving"})
FAILED: Final = frozenset({"Failed", "FailedReserving", "SubmitFailed"})
STOPPED: Final = frozenset({"Stopped", "Deleted"})
TERMINAL: Final = SUCCEEDED | FAILED | STOPPED
STARTED: Final = frozenset({"Running", "Restarting", "Stopping"}) | TERMINAL
# Preemption is read from documented signals only (GetJob, alibabacloud_pai_dlc20201203/models/
# _get_job_response_body.py): a pod's SubStatus "such as the preemption status. Valid values: Normal, Evicted", and
# the job's SubStatus "such as the preemption retry status". DLC documents no ReasonCode list, so no ReasonCode is
# trusted (wordings such as SpotInstanceReclaimed come from other clouds' vocabularies, e.g. AWS Batch).
EVICTED: Final = "Evicted"

_NUMBER_RUN: Final = re.compile(r"(\d+)")


# -- jobs as they end --------------------------------------------------------------------------------------------


def is_preemption(job: Mapping[str, Any]) -> bool:
    """A failed job whose instance was taken away (spot reclaimed, pod evicted), not one whose code failed."""
    if job.get("Status") not in FAILED:
        return False
    if any((pod or {}).get("SubStatus") == EVICTED for pod in job.get("Pods") or []):
        return True
    return "preempt" in str(job.get("SubStatus") or "").lower()


def parse_time(text: Any) -> float | None:
    """An API timestamp (``2026-11-24T10:15:00Z``, with or without fractions) as epoch seconds; None if absent."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def format_time(epoch: float | None) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if epoch is not None else ""


@dataclass
class Attempt:
    """One DLC job of the run, as recorded in the resource's ``attempts`` output."""

    attempt: int
    job_id: str
    status: str = "Submitted"
    reason: str = ""
    checkpoint: str = ""  # the OSS URI it resumed from; empty for a fresh start
    submitted: str = ""
    started: str = ""
    ended: str = ""
    duration_seconds: int = 0
    # Failed by preemption (is_preemption), as last read. State written before this field reads as False: such an
    # attempt was recorded by a create that returned, so it had not failed, and the next refresh reads it again.
    preempted: bool = False

    def observe(self, job: Mapping[str, Any]) -> None:
        self.status = str(job.get("Status") or self.status)
        self.preempted = is_preemption(job)
        code, message = job.get("ReasonCode") or "", job.get("ReasonMessage") or ""
        self.reason = f"{code}: {message}" if code and message else str(code or message)
        self.submitted = str(job.get("GmtSubmittedTime") or job.get("GmtCreateTime") or self.submitted)
        self.started = str(job.get("GmtRunningTime") or self.started)
        self.ended = str(job.get("GmtFinishTime") or self.ended) if self.status in TERMINAL else ""
        duration = job.get("Duration")
        if is_number(duration):
            self.duration_seconds = int(duration)

    def line(self) -> str:
        reason = f" ({self.reason})" if self.reason else ""
        resumed = f", resumed from {self.checkpoint}" if self.checkpoint else ", fresh start"
        span = f", {self.started or self.submitted or '?'} to {self.ended or 'now'}"
        return f"attempt {self.attempt} {self.job_id}: {self.status}{reason}{resumed}{span}"

    def as_output(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_output(cls, value: Mapping[str, Any]) -> Attempt:
        known = {name: value[name] for name in cls.__dataclass_fields__ if name in value}
        return cls(**plain(known))


@dataclass(frozen=True)
class FollowUp:
    """What the next ``pulumi up`` does with a run it no longer watches (see :func:`follow_up`)."""

    resubmit: bool
    warning: str = ""


def follow_up(label: str, attempts: Sequence[Attempt], props: Mapping[str, Any]) -> FollowUp:
    """Whether a run that ``pulumi up`` stopped watching (``wait`` none or running) is due a resubmission, from its
    attempts as the last refresh read them and the inputs (with defaults) of this ``pulumi up``.

    Due when the current attempt failed by preemption (or by any failure with ``resubmit_on: any_failure``) and
    fewer than ``max_resubmits`` resubmissions are used; a failure that will not be resubmitted comes with a
    warning. ``wait: completed`` runs are watched to their end by the ``pulumi up`` that submits them.
    """
    if props.get("wait") == "completed" or not attempts or attempts[-1].status not in FAILED:
        return FollowUp(resubmit=False)
    current = attempts[-1]
    cause = "was preempted" if current.preempted else "failed"
    reason = f" ({current.reason})" if current.reason else ""
    if not current.preempted and props.get("resubmit_on") != "any_failure":
        return FollowUp(
            resubmit=False,
            warning=f"{label}: attempt {current.attempt} ({current.job_id}) {cause}{reason}; resubmit_on is "
            f"'preemption', so it is not resubmitted. Give the run a new id to train again.",
        )
    allowed = int(props.get("max_resubmits") or 0)
    if len(attempts) - 1 >= allowed:
        return FollowUp(
            resubmit=False,
            warning=f"{label}: attempt {current.attempt} ({current.job_id}) {cause}{reason} and all {allowed} "
            f"resubmission(s) (max_resubmits) are spent; not resubmitting. Raise max_resubmits or give the run a "
            f"new id to train again.",
        )
    return FollowUp(resubmit=True)


def attempts_text(attempts: Sequence[Attempt]) -> str:
    return "\n".join(f"  - {attempt.line()}" for attempt in attempts)


def checkpoint_order(name: str) -> tuple[Any, ...]:
    """Natural order of checkpoint directory names: step-99 before step-100, epoch-2 before epoch-10."""
    return tuple(int(part) if part.isdigit() else part for part in _NUMBER_RUN.split(name))
