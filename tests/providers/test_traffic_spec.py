"""TrafficShift's pure rules: weight plans that sum to 1000, shares, gates, contracts and input problems."""

from __future__ import annotations

from typing import Any

import pytest

from pai_facts import contract_major
from providers.metrics import Sample, finite
from providers.traffic_spec import (
    Member,
    breach,
    changes,
    deadline_seconds,
    instance_shares,
    plan,
    problems,
    settled,
    shares,
    with_defaults,
)
from tests.providers.test_traffic import SHIFT

G, S = "grouping", "standalone"


@pytest.mark.parametrize(
    ("percent", "sources", "expected"),
    [
        (10, {"a": 100.0}, {"a": Member(900, G), "b": Member(100, G), "c": Member(0, S)}),
        (100, {"a": 100.0}, {"a": Member(0, S), "b": Member(1000, G), "c": Member(0, S)}),
        (0, {"a": 100.0}, {"a": Member(1000, G), "b": Member(0, S), "c": Member(0, S)}),
        # two versions held the traffic 3:1; they keep that ratio of what is left
        (50, {"a": 75.0, "c": 25.0}, {"a": Member(375, G), "b": Member(500, G), "c": Member(125, G)}),
        (10, {"a": 1 / 3 * 100, "c": 2 / 3 * 100}, {"a": Member(300, G), "b": Member(100, G), "c": Member(600, G)}),
    ],
)
def test_plans_set_every_member_and_sum_to_1000(
    percent: int, sources: dict[str, float], expected: dict[str, Member]
) -> None:
    planned = plan("b", percent, sources, ["a", "b", "c"])
    assert planned == expected
    assert sum(m.weight for m in planned.values()) == 1000


def test_shares_are_relative_weights_of_grouping_members() -> None:
    members = {"a": Member(900, G), "b": Member(100, G), "c": Member(500, S), "d": Member(0, G)}
    assert shares(members) == {"a": 90.0, "b": 10.0, "c": 0.0, "d": 0.0}
    assert shares({"a": Member(0, S)}) == {"a": 0.0}


def test_gates() -> None:
    ok = Sample(p95_latency_ms=100, error_ratio=0.001, qps=20)
    assert breach(ok, 200, 0.01) is None
    latency = breach(Sample(250, 0.0, 20), 200, 0.01)
    assert latency is not None and (latency.metric, latency.value, latency.threshold) == ("P95 latency", 250, 200)
    errors = breach(Sample(250, 0.5, 20), 200, 0.01)  # errors are named first: they hurt users most
    assert errors is not None and errors.detail == "error ratio 0.5000 is above max_error_rate 0.01"
    assert settled([ok, ok], elapsed=10, min_requests=100).outcome == "pass"
    assert settled([ok], elapsed=1, min_requests=100).detail == "about 20 requests, fewer than min_requests 100"
    assert settled([], elapsed=10, min_requests=0).outcome == "inconclusive"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 1.0), (0.25, 0.25), (float("nan"), None), (float("inf"), None), (None, None), ("0.1", None), (True, None)],
)
def test_only_finite_numbers_are_readings(value: Any, expected: float | None) -> None:
    assert finite(value) == expected


def test_a_partial_reading_can_breach_but_never_pass() -> None:
    partial = Sample(p95_latency_ms=None, error_ratio=0.5, qps=20)
    verdict = breach(partial, 200, 0.01)
    assert verdict is not None and verdict.metric == "error ratio"
    healthy_but_partial = Sample(p95_latency_ms=None, error_ratio=0.0, qps=20)
    assert breach(healthy_but_partial, 200, 0.01) is None
    assert settled([healthy_but_partial] * 5, elapsed=10, min_requests=0).outcome == "inconclusive"


def test_auto_mode_shares_follow_instance_counts_of_grouping_members() -> None:
    members = {"a": Member(1000, G), "b": Member(0, G), "c": Member(500, S)}
    assert instance_shares(members, {"a": 1, "b": 3, "c": 4}) == {"a": 25.0, "b": 75.0, "c": 0.0}
    assert instance_shares(members, {}) == {"a": 0.0, "b": 0.0, "c": 0.0}


def test_changes_name_what_someone_else_did() -> None:
    expected = {"a": Member(900, G), "b": Member(100, G)}
    assert changes(expected, dict(expected)) == []
    assert changes(expected, {"a": Member(1000, G), "b": Member(0, S)}) == [
        "a 900 (grouping) -> 1000 (grouping)",
        "b 100 (grouping) -> 0 (standalone)",
    ]
    assert changes(expected, {**expected, "c": Member(0, S)}) == []  # a newcomer that takes nothing changes nothing
    assert changes(expected, {**expected, "c": Member(50, G)}) == ["c joined with weight 50 (grouping)"]
    assert changes(expected, {"a": Member(900, G)}) == ["b left the group (it had weight 100, grouping)"]
    assert changes(expected, {"a": Member(900, G)}, ignore_missing="b") == []


@pytest.mark.parametrize(("text", "major"), [("v2", 2), ("v2.1", 2), ("1.4.0", 1), ("beta", None), ("v", None)])
def test_contract_major(text: str, major: int | None) -> None:
    assert contract_major(text) == major


def bad(**changes: Any) -> list[tuple[str, str]]:
    return problems(with_defaults({**SHIFT, **changes}))


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, []),
        ({"live": "v8"}, [("live", "must be one of the versions in services (v6, v7); got 'v8'")]),
        ({"steps": [50, 10, 100]}, [("steps", "must ascend strictly from 1 to 100; got [50, 10, 100]")]),
        ({"steps": [10, 50]}, [("steps", "must end at 100; got [10, 50]")]),
        ({"max_error_rate": 2}, [("max_error_rate", "must be a ratio from 0 to 1; got 2")]),
        ({"no_data": "ignore"}, [("no_data", "must be fail or proceed; got 'ignore'")]),
        (
            {"metrics": {"source": "prometheus", "endpoint": "prom:9090"}},
            [("metrics.endpoint", "the Prometheus HTTP API needs an http(s):// base URL")],
        ),
        ({"metrics": {"source": "datadog"}}, [("metrics.source", "must be cloudmonitor or prometheus; got 'datadog'")]),
    ],
)
def test_problems(changes: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert bad(**changes) == expected


def test_the_default_deadline_covers_every_bake_with_its_extensions() -> None:
    props = with_defaults({**SHIFT, "bake_seconds": 300, "max_bake_extensions": 2, "ready_timeout_seconds": 900})
    assert deadline_seconds(props) == 3 * 300 * 3 + 900 + 600
    assert deadline_seconds({**props, "deadline_seconds": 60}) == 60
