"""Shared fixtures: a fresh recording mock engine per test, example stack configs, the cloud emulator."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from typing import Any

import pytest

from providers.clients import ClientFactory, Credentials
from tests.emulator import Control, Emulator
from tests.support.provider_host import ProviderHost
from tools.mock_engine import RecordingMocks, close_event_loop, install_mocks

# Dummy credentials: the SDKs refuse to send a request without some (InvalidCredentials).
TEST_CREDENTIALS = Credentials("test-access-key", "test-secret-key", None, "cn-hangzhou")
# Virtual seconds per real second in the emulator: a 10-minute DLC job runs in 0.3 s.
EMULATOR_SPEED = 2000.0
# The stack config a provider host receives in the provider tests (the secret key marked secret).
PROVIDER_CONFIG = {
    "alicloud:accessKey": "test-access-key",
    "alicloud:secretKey": "test-secret-key",
    "alicloud:region": "cn-hangzhou",
}
PROVIDER_SECRETS = frozenset({"alicloud:secretKey"})


@pytest.fixture(scope="session", autouse=True)
def _close_loop_at_end() -> Iterator[None]:
    yield
    close_event_loop()


@pytest.fixture(autouse=True)
def _plan_width(monkeypatch: pytest.MonkeyPatch) -> None:
    """The offline plan wraps to the terminal's width; tests see the same 100 columns in any terminal."""
    monkeypatch.setenv("COLUMNS", "100")


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
    "codeRepository": "https://github.com/acme/fraud-models.git",
    "codeCommits": {"v6": "9f1c2ab7", "v7": "4be2c1d9"},
    "rollout": {"steps": [10, 50, 100], "bakeSeconds": 300, "maxP95LatencyMs": 150, "maxErrorRate": 0.01},
}

VALID_RAW: dict[str, Any] = {
    "environment": "prod",
    "owner": "ml-platform",
    "costCenter": "cc-1",
    "region": "cn-hangzhou",
    "storage": {"bucketName": "acme-pai-prod", "kmsEncryption": True, "checkpointRetentionDays": 30},
    "alarms": {"contactGroup": "ml-oncall", "contacts": ["alice"]},
    "workspace": {"name": "mlops_prod", "description": "Production"},
    "serving": {"services": [VALID_SERVICE]},
}


@pytest.fixture
def raw() -> dict[str, Any]:
    """A complete, valid prod configuration (camelCase keys, objects decoded) to mutate."""
    return copy.deepcopy(VALID_RAW)


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """One emulator for the whole run (tests reset it, see ``cloud``)."""
    server = Emulator(speed=EMULATOR_SPEED).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def cloud(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Control]:
    """A clean emulator for this test, and an environment the Alibaba SDKs can reach it from.

    The SDKs send even loopback requests through HTTP(S)_PROXY (they ignore NO_PROXY), so those go; so do
    ambient ALIBABA_CLOUD_* / ALICLOUD_* credentials, which must never leak into a test.
    """
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith(("ALIBABA_CLOUD_", "ALICLOUD_", "PAI_MLOPS_")):
            monkeypatch.delenv(name)
    emulator.reset()
    emulator.clock.set_speed(EMULATOR_SPEED)
    yield Control(emulator.url)
    emulator.reset()


@pytest.fixture
def clients(emulator: Emulator, cloud: Control) -> ClientFactory:
    """The provider toolkit's client factory pointed at the emulator, with dummy credentials."""
    return ClientFactory(TEST_CREDENTIALS, environ=emulator.environment())


@pytest.fixture(scope="module")
def shared_host(emulator: Emulator) -> Iterator[ProviderHost]:
    """One configured provider host per test module (it starts in about a second; it keeps no state)."""
    with ProviderHost(env=emulator.environment()) as running:
        running.configure(PROVIDER_CONFIG, PROVIDER_SECRETS)
        yield running


@pytest.fixture
def host(shared_host: ProviderHost, cloud: Control) -> ProviderHost:
    """The module's provider host against a clean emulator; its ``stderr`` shows this test's lines only."""
    shared_host.mark()
    return shared_host
