"""tools/mock_engine.py: the cycle collector is paused for a run and given back as it was, whatever the run does."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pulumi
import pytest

from tools import mock_engine
from tools.mock_engine import RecordingMocks, run_under_mocks


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_collector_is_paused_while_the_program_registers_and_resumes_after(
    mocks: RecordingMocks, collector_on: None
) -> None:
    seen: list[bool] = []

    def program() -> None:
        seen.append(gc.isenabled())
        pulumi.ComponentResource("test:index:Thing", "thing")
        seen.append(gc.isenabled())

    run_under_mocks(program)
    assert seen == [False, False]
    assert gc.isenabled() is True
    assert [(r.type, r.name) for r in mocks.registrations] == [("test:index:Thing", "thing")]


def test_collector_resumes_when_the_program_fails(mocks: RecordingMocks, collector_on: None) -> None:
    def program() -> None:
        raise ValueError("the program broke")

    with pytest.raises(ValueError, match=r"^the program broke$"):
        run_under_mocks(program)
    assert gc.isenabled() is True


def test_a_collector_the_caller_turned_off_stays_off(mocks: RecordingMocks, collector_on: None) -> None:
    gc.disable()
    run_under_mocks(lambda: pulumi.ComponentResource("test:index:Thing", "thing"))
    assert gc.isenabled() is False


def test_the_bench_setting_keeps_the_collector_running(
    mocks: RecordingMocks, collector_on: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mock_engine, "pause_cycle_collector", False)
    seen: list[bool] = []
    run_under_mocks(lambda: seen.append(gc.isenabled()))
    assert seen == [True]
    assert gc.isenabled() is True
