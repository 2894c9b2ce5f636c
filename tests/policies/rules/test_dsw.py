"""Notebook policies on fixtures (policies/rules/dsw.py): a DSW instance shuts down when idle."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel

from policies.rules import dsw
from policies.rules.common import DSW_INSTANCE
from tests.support.policy_harness import check


def test_policy_metadata() -> None:
    assert [(p.name, p.enforcement_level) for p in dsw.POLICIES] == [
        ("dsw-idle-shutdown", EnforcementLevel.ADVISORY),
    ]


# --- dsw-idle-shutdown

IDLE_FIX = "Set the notebook's idleShutdownMinutes to 240 or less (e.g. 60)."


def test_idle_shutdown_fires_when_missing_or_too_long() -> None:
    assert check(dsw.dsw_idle_shutdown, DSW_INSTANCE, {}, name="alice") == [
        f"notebook 'alice' never shuts down when idle (idle_shutdown_minutes not set) and is billed until someone "
        f"stops it. {IDLE_FIX}"
    ]
    assert check(dsw.dsw_idle_shutdown, DSW_INSTANCE, {"idle_shutdown_minutes": 600}, name="alice") == [
        f"notebook 'alice' stays up for 600 idle minutes. {IDLE_FIX}"
    ]


def test_idle_shutdown_is_quiet_with_a_bounded_idle_time() -> None:
    assert check(dsw.dsw_idle_shutdown, DSW_INSTANCE, {"idle_shutdown_minutes": 60}) == []
