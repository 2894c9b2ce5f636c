"""A clock and a sleep for tests of deadlines, polling and back-off that must not wait."""

from __future__ import annotations


class FakeTime:
    """A clock and a sleep that only move when slept on: deadlines without waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
