"""providers/waiting.py: deadlines and polling, with progress lines and a heartbeat while nothing changes."""

from __future__ import annotations

import pytest

from providers.waiting import Deadline, DeadlineExceeded, Poll, wait_for
from tests.support.fake_time import FakeTime


def test_wait_for_reports_each_change_and_returns_the_final_value() -> None:
    fake = FakeTime()
    states = iter(["Creating", "Queuing", "Queuing", "Running", "Succeeded"])
    lines: list[str] = []
    final = wait_for(
        lambda: next(states),
        done=lambda s: s == "Succeeded",
        describe=lambda s: s,
        what="job dlc1",
        deadline=Deadline(600, clock=fake.clock),
        poll=Poll(interval=10, heartbeat=60, sleep=fake.sleep),
        report=lines.append,
    )
    assert final == "Succeeded"
    assert lines == [
        "job dlc1: Creating (0s)",
        "job dlc1: Queuing (10s)",
        "job dlc1: Running (30s)",
        "job dlc1: Succeeded (40s)",
    ]


def test_wait_for_fails_at_the_deadline_naming_the_last_state() -> None:
    fake = FakeTime()
    lines: list[str] = []
    with pytest.raises(DeadlineExceeded) as caught:
        wait_for(
            lambda: "Queuing",
            done=lambda s: False,
            describe=lambda s: s,
            what="job dlc1",
            deadline=Deadline(100, clock=fake.clock),
            poll=Poll(interval=30, heartbeat=60, sleep=fake.sleep),
            report=lines.append,
        )
    assert str(caught.value).startswith("job dlc1: still Queuing after 100s, past its deadline of 100s.")
    assert fake.sleeps == [30, 30, 30, 10]  # never sleeps past the deadline
    assert lines == ["job dlc1: Queuing (0s)", "job dlc1: Queuing (60s)"]  # a heartbeat while nothing changes


def test_deadline_needs_a_budget() -> None:
    with pytest.raises(ValueError, match=r"a deadline needs a positive budget; got 0 seconds"):
        Deadline(0)
