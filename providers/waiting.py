"""Deadlines and the poll loop: every wait a provider does has an explicit budget and shows its progress.

The dynamic provider host ignores ``custom_timeouts`` and cancellation, so a provider that waits without its own
deadline can hold ``pulumi up`` forever. Progress goes to stderr (dynamic providers cannot write to the engine's
log stream): one line when the watched thing changes state, and a heartbeat while it does not.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO, TypeVar

T = TypeVar("T")

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class DeadlineExceeded(Exception):
    """A wait ran out of its budget. The message says what was awaited, the last state seen and the budget."""


@dataclass
class Deadline:
    """A point in time ``seconds`` from creation, on a monotonic clock."""

    seconds: float
    clock: Clock = time.monotonic
    started: float = field(init=False)

    def __post_init__(self) -> None:
        if self.seconds <= 0:
            raise ValueError(f"a deadline needs a positive budget; got {self.seconds!r} seconds")
        self.started = self.clock()

    def elapsed(self) -> float:
        return self.clock() - self.started

    def remaining(self) -> float:
        return max(0.0, self.seconds - self.elapsed())

    def expired(self) -> bool:
        return self.remaining() <= 0


def progress(message: str, stream: TextIO | None = None) -> None:
    """One progress line on stderr, prefixed so it stands out in ``pulumi up`` output."""
    print(f"[pai-mlops] {message}", file=stream or sys.stderr, flush=True)


@dataclass(frozen=True, kw_only=True)
class Poll:
    """How a wait polls: the interval between reads and how often to repeat an unchanged state."""

    interval: float = 10.0
    heartbeat: float = 60.0
    sleep: Sleep = time.sleep


def wait_for(
    read: Callable[[], T],
    *,
    done: Callable[[T], bool],
    describe: Callable[[T], str],
    what: str,
    deadline: Deadline,
    poll: Poll | None = None,
    report: Callable[[str], None] = progress,
) -> T:
    """Call ``read`` until ``done`` says the value is final, and return that value.

    ``describe`` turns a value into the state shown in progress lines (``Queuing``, ``Running 2/4``); a line is
    reported whenever it changes, and every ``heartbeat`` seconds while it does not. ``read`` is expected to
    handle its own transient errors (see :func:`providers.retry.call`); anything it raises ends the wait.
    Raises :class:`DeadlineExceeded` naming ``what``, the last state and the budget when time runs out.
    """
    poll = poll or Poll()
    last_state: str | None = None
    last_report = deadline.elapsed()
    while True:
        value = read()
        state = describe(value)
        now = deadline.elapsed()
        if state != last_state or now - last_report >= poll.heartbeat:
            report(f"{what}: {state} ({now:.0f}s)")
            last_state, last_report = state, now
        if done(value):
            return value
        remaining = deadline.remaining()
        if remaining <= 0:
            raise DeadlineExceeded(
                f"{what}: still {state} after {now:.0f}s, past its deadline of {deadline.seconds:.0f}s. "
                "Raise the budget in its inputs if the work legitimately takes longer, "
                "or look at the resource in the console to see why it does not progress."
            )
        poll.sleep(min(poll.interval, remaining))
