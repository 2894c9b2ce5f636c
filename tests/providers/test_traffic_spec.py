"""TrafficShift's pure rules: weight plans that sum to 1000, shares, gates, contracts, the typed check and old state."""

from __future__ import annotations

import math
from typing import Any

import pytest

from pai_facts import contract_major
from providers import metrics
from providers.metrics import Sample, finite
from providers.traffic import TrafficShiftProvider
from providers.traffic_spec import (
    DEFAULTS,
    Member,
    breach,
    changes,
    check_failures,
    check_result,
    deadline_seconds,
    instance_shares,
    plan,
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


def failures(**changes: Any) -> list[tuple[str, str]]:
    return check_failures({**SHIFT, **changes})


FIX = {
    "steps": "List ascending whole percentages ending at 100, e.g. [10, 50, 100].",
    "services": "Map each version to its EAS service name, e.g. {v6: fraud_scorer_v6}.",
    "latency": "Give the P95 latency in ms above which a step is reverted, e.g. 250.",
    "errors": "Give the error ratio (0-1) above which a step is reverted, e.g. 0.01.",
    "requests": "Give the fewest requests a bake needs to be conclusive, 0 or more, e.g. 100.",
    "shadow": "Give the whole percentage of live requests mirrored before the first step, 0 to 100.",
    "metrics": "Fix serving.metrics in the stack config.",
}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, []),
        # rules across inputs
        (
            {"live": "v8"},
            [
                (
                    "live",
                    "must be one of the versions in services (v6, v7); got 'v8'. Set live to a version listed in "
                    "services.",
                )
            ],
        ),
        (
            {"steps": [50, 10, 100]},
            [("steps", "must ascend strictly; got [50, 10, 100]. Order the percentages without repeats.")],
        ),
        ({"steps": [10, 50]}, [("steps", "must end at 100; got [10, 50]. Make the last step 100.")]),
        (
            {"metrics": {"source": "prometheus", "endpoint": "prom:9090"}},
            [
                (
                    "metrics.endpoint",
                    f"the Prometheus HTTP API needs an http(s):// base URL; got 'prom:9090'. {FIX['metrics']}",
                )
            ],
        ),
        (
            {"metrics": {"source": "datadog"}},
            [("metrics.source", f"must be cloudmonitor or prometheus; got 'datadog'. {FIX['metrics']}")],
        ),
        # wrong types: nothing is coerced
        ({"group": 5}, [("group", "must be a string; got 5. Name the EAS service group the versions serve in.")]),
        ({"group": ""}, [("group", "must not be empty; got ''. Name the EAS service group the versions serve in.")]),
        ({"services": {}}, [("services", f"must not be empty; got {{}}. {FIX['services']}")]),
        ({"services": "fraud"}, [("services", f"must be an object (a YAML mapping); got 'fraud'. {FIX['services']}")]),
        ({"services": {"v6": 5}}, [("services.v6", f"must be a string; got 5. {FIX['services']}")]),
        ({"steps": "10,50,100"}, [("steps", f"must be a list; got '10,50,100'. {FIX['steps']}")]),
        ({"steps": []}, [("steps", f"must not be empty; got []. {FIX['steps']}")]),
        ({"steps": [10, True, 100]}, [("steps[1]", f"must be a whole number; got True. {FIX['steps']}")]),
        ({"steps": [0, 100]}, [("steps[0]", f"must be at least 1; got 0. {FIX['steps']}")]),
        ({"steps": [10, 150]}, [("steps[1]", f"must be at most 100; got 150. {FIX['steps']}")]),
        (
            {"bake_seconds": "60"},
            [
                (
                    "bake_seconds",
                    "must be a number; got '60'. Give the seconds each step is watched, 0 or more, e.g. 300.",
                )
            ],
        ),
        (
            {"bake_seconds": -1},
            [
                (
                    "bake_seconds",
                    "must be at least 0; got -1. Give the seconds each step is watched, 0 or more, e.g. 300.",
                )
            ],
        ),
        (
            {"check_interval_seconds": 0},
            [
                (
                    "check_interval_seconds",
                    "must be greater than 0; got 0. Give how often the metrics are read during a bake, more than 0 "
                    "seconds, e.g. 30.",
                )
            ],
        ),
        # a NaN threshold would pass every reading (nothing is above NaN)
        (
            {"max_p95_latency_ms": math.nan},
            [("max_p95_latency_ms", f"input should be a finite number; got nan. {FIX['latency']}")],
        ),
        ({"max_p95_latency_ms": 0}, [("max_p95_latency_ms", f"must be greater than 0; got 0. {FIX['latency']}")]),
        (
            {"max_error_rate": math.inf},
            [("max_error_rate", f"input should be a finite number; got inf. {FIX['errors']}")],
        ),
        ({"max_error_rate": 2}, [("max_error_rate", f"must be at most 1; got 2. {FIX['errors']}")]),
        ({"max_error_rate": "0.01"}, [("max_error_rate", f"must be a number; got '0.01'. {FIX['errors']}")]),
        ({"min_requests": True}, [("min_requests", f"must be a whole number; got True. {FIX['requests']}")]),
        ({"min_requests": 1.5}, [("min_requests", f"must be a whole number; got 1.5. {FIX['requests']}")]),
        ({"min_requests": -1}, [("min_requests", f"must be at least 0; got -1. {FIX['requests']}")]),
        (
            {"no_data": "ignore"},
            [
                (
                    "no_data",
                    "must be fail or proceed; got 'ignore'. Write fail (revert when a bake sees too little traffic) "
                    "or proceed.",
                )
            ],
        ),
        ({"shadow_percent": 101}, [("shadow_percent", f"must be at most 100; got 101. {FIX['shadow']}")]),
        ({"shadow_percent": True}, [("shadow_percent", f"must be a whole number; got True. {FIX['shadow']}")]),
        (
            {"rollback_without_bake": "false"},
            [
                (
                    "rollback_without_bake",
                    "must be true or false; got 'false'. Write true to go back to a previously live version at once, "
                    "false to bake it.",
                )
            ],
        ),
        (
            {"ready_timeout_seconds": "900"},
            [
                (
                    "ready_timeout_seconds",
                    "must be a number; got '900'. Give the seconds to wait for the new version to run, 0 or more.",
                )
            ],
        ),
        (
            {"contracts": {"v6": 1}},
            [
                (
                    "contracts.v6",
                    "must be a string; got 1. Map versions to their API contract versions, e.g. {v6: v1.4}.",
                )
            ],
        ),
        (
            {"metrics": "cloudmonitor"},
            [
                (
                    "metrics",
                    "must be an object (a YAML mapping); got 'cloudmonitor'. Give {source: cloudmonitor, namespace, "
                    "dimension, ...} or {source: prometheus, endpoint, ...}.",
                )
            ],
        ),
    ],
)
def test_check_names_the_input_the_value_and_the_fix(changes: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert failures(**changes) == [(name, f"TrafficShift [{name}]: {reason}") for name, reason in expected]


def test_check_refuses_an_input_it_does_not_know_without_echoing_it() -> None:
    [(name, reason)] = failures(bake_second=60)
    assert name == "bake_second"
    assert reason.startswith(
        "TrafficShift [bake_second]: is not a known key; got a value not shown here. Did you mean 'bake_seconds'?"
    )


def test_check_fills_every_default_and_the_metric_sources_settings() -> None:
    given = {
        k: v
        for k, v in SHIFT.items()
        if k in ("group", "services", "live", "bake_seconds", "max_p95_latency_ms", "max_error_rate")
    }
    result = check_result(given)
    assert result.failures == []
    assert result.inputs == {
        **given,
        "steps": [10, 50, 100],
        "check_interval_seconds": 30,
        "min_requests": 50,
        "no_data": "fail",
        "max_bake_extensions": 2,
        "rollback_without_bake": True,
        "shadow_percent": 0,
        "shadow_seconds": 0,
        "contracts": {},
        "allow_breaking_change": False,
        "ready_timeout_seconds": 900,
        "deadline_seconds": None,
        "metrics": {
            "source": "cloudmonitor",
            "namespace": "acs_learn",
            "dimension": "serviceName",
            "latency_metric": "rt",
            "latency_statistic": "Average",
            "latency_unit": "microseconds",
            "error_metric": "rps_status_5xx_ratio",
            "error_unit": "percent",
            "qps_metric": "qps_total",
            "period_seconds": 60,
        },
    }


# What the first TrafficShift (2d61564) stored: the same input names, numbers as gRPC floats, no metrics
# settings, the outputs beside them.
OLD_STATE: dict[str, Any] = {
    "group": "fraud_scorer",
    "services": {"v6": "fraud_scorer_v6", "v7": "fraud_scorer_v7"},
    "live": "v6",
    "steps": [10.0, 50.0, 100.0],
    "bake_seconds": 300.0,
    "check_interval_seconds": 30.0,
    "max_p95_latency_ms": 200.0,
    "max_error_rate": 0.01,
    "min_requests": 50.0,
    "no_data": "fail",
    "max_bake_extensions": 2.0,
    "rollback_without_bake": True,
    "shadow_percent": 0.0,
    "shadow_seconds": 0.0,
    "contracts": {"v6": "v1.4", "v7": "v2.0"},
    "allow_breaking_change": False,
    "ready_timeout_seconds": 900.0,
    "deadline_seconds": None,
    "metrics": None,
    "weights": {"v6": 100.0, "v7": 0.0},
    "history": [],
    "previous_lives": ["v6"],
}


def test_an_old_state_reads_as_the_same_inputs() -> None:
    read = with_defaults(OLD_STATE)
    assert (read["steps"], read["min_requests"], read["max_p95_latency_ms"]) == ([10, 50, 100], 50, 200)
    assert read["metrics"]["source"] == "cloudmonitor"
    # A state without the inputs added later (shadow, rollback, contracts, timeouts) reads as their defaults.
    older = {k: v for k, v in OLD_STATE.items() if k not in DEFAULTS or k == "steps"}
    assert {k: with_defaults(older)[k] for k in DEFAULTS} == {**DEFAULTS, "metrics": read["metrics"]}


def test_an_old_state_is_the_previous_release_check_judges() -> None:
    # The program's inputs now (the checked form) against the state: the contract jump is still seen.
    news = {k: v for k, v in OLD_STATE.items() if k not in ("weights", "history", "previous_lives")}
    assert check_failures({**news, "live": "v6"}, OLD_STATE) == []
    [(name, reason)] = check_failures({**news, "live": "v7"}, OLD_STATE)
    assert name == "live" and reason.startswith("TrafficShift [live]: v7 speaks API v2.0 and v6 speaks v1.4")


def test_an_old_state_shows_no_change_against_the_same_program() -> None:
    """The same program: the metrics the old state meant (it stored none), given explicitly."""
    program = {k: v for k, v in OLD_STATE.items() if k not in ("weights", "history", "previous_lives")}
    news = check_result({**program, "metrics": dict(metrics.LEGACY_CLOUDMONITOR)})
    diff = TrafficShiftProvider().diff("cn-hangzhou/fraud_scorer", {**OLD_STATE, "weights": None}, news.inputs or {})
    assert diff.changes is False


def test_a_state_without_units_reads_as_it_was_written_and_the_new_defaults_are_a_change() -> None:
    """State from before the units: the display names, a ratio, milliseconds, Average (what the gates read then);
    a program that leaves metrics out now gets the appendix's IDs, so the diff shows the change."""
    assert with_defaults(OLD_STATE)["metrics"] == {
        "source": "cloudmonitor",
        "namespace": "acs_pai_eas",
        "dimension": "serviceName",
        "latency_metric": "TP95ResponseTime",
        "latency_statistic": "Average",
        "latency_unit": "milliseconds",
        "error_metric": "5xxResponseRatio",
        "error_unit": "ratio",
        "qps_metric": "QueryPerSecondTotal",
        "period_seconds": 60,
    }
    # what the component wrote before the units: every name, no unit
    written = {"source": "cloudmonitor", "namespace": "acs_x", "dimension": "serviceName", "latency_metric": "p95"}
    read = with_defaults({**OLD_STATE, "metrics": written})["metrics"]
    assert (read["namespace"], read["latency_metric"], read["error_unit"], read["latency_unit"]) == (
        "acs_x",
        "p95",
        "ratio",
        "milliseconds",
    )
    program = {k: v for k, v in OLD_STATE.items() if k not in ("weights", "history", "previous_lives")}
    news = check_result(program).inputs or {}
    assert news["metrics"] == dict(metrics.CLOUDMONITOR_DEFAULTS)
    diff = TrafficShiftProvider().diff("cn-hangzhou/fraud_scorer", {**OLD_STATE, "weights": None}, news)
    assert diff.changes is True


def test_the_default_deadline_covers_every_bake_with_its_extensions() -> None:
    props = with_defaults({**SHIFT, "bake_seconds": 300, "max_bake_extensions": 2, "ready_timeout_seconds": 900})
    assert deadline_seconds(props) == 3 * 300 * 3 + 900 + 600
    assert deadline_seconds({**props, "deadline_seconds": 60}) == 60
