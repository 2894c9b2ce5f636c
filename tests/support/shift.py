"""One builder of TrafficShift inputs for the provider tests and the provider benchmark."""

from __future__ import annotations

import copy
from typing import Any

BASE: dict[str, Any] = {
    "group": "fraud_scorer",
    "services": {"v6": "fraud_scorer_v6", "v7": "fraud_scorer_v7"},
    "live": "v6",
    "steps": [10, 50, 100],
    "bake_seconds": 0.5,
    "check_interval_seconds": 0.1,
    "max_p95_latency_ms": 200,
    "max_error_rate": 0.01,
    "min_requests": 10,
    "no_data": "fail",
    "max_bake_extensions": 1,
    "rollback_without_bake": True,
    "shadow_percent": 0,
    "shadow_seconds": 0,
    "contracts": {},
    "allow_breaking_change": False,
    "ready_timeout_seconds": 30,
    "deadline_seconds": None,
    "metrics": {"source": "cloudmonitor"},
}


def shift_inputs(**changes: Any) -> dict[str, Any]:
    """Every TrafficShift input (a fresh copy of :data:`BASE`), with ``changes`` applied."""
    return {**copy.deepcopy(BASE), **changes}
