"""Shared fixtures: a fresh recording mock engine per test, and example stack configs."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from tools.mock_engine import RecordingMocks, close_event_loop, install_mocks


@pytest.fixture(scope="session", autouse=True)
def _close_loop_at_end() -> Iterator[None]:
    yield
    close_event_loop()


@pytest.fixture
def mocks() -> RecordingMocks:
    """A fresh mock engine for this test only: registrations never leak between tests."""
    return install_mocks("pai-mlops", "test")


VALID_SERVICE: dict[str, Any] = {
    "name": "fraud_scorer",
    "processor": "pmml",
    "instanceType": "ecs.c7.large",
    "resourceGroup": "shared",
    "minInstances": 1,
    "maxInstances": 4,
    "qpsPerInstance": 20,
    "versions": ["v6", "v7"],
    "live": "v7",
    "rollout": {"steps": [10, 50, 100], "bakeSeconds": 300, "maxP95LatencyMs": 150, "maxErrorRate": 0.01},
}

VALID_RAW: dict[str, Any] = {
    "environment": "prod",
    "owner": "ml-platform",
    "costCenter": "cc-1",
    "region": "cn-hangzhou",
    "storage": {"bucketName": "acme-pai-prod", "kmsEncryption": True, "checkpointRetentionDays": 30},
    "workspace": {"name": "mlops_prod", "description": "Production"},
    "serving": {"services": [VALID_SERVICE]},
}


@pytest.fixture
def raw() -> dict[str, Any]:
    """A complete, valid prod configuration (camelCase keys, objects decoded) to mutate."""
    return copy.deepcopy(VALID_RAW)
