"""The trigger function's environment as the component sets it, against the emulator (shared by its test files)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.components.test_pipeline import manifest
from tests.emulator import Emulator
from tests.emulator.control import Control

PIPELINE = "flow-abc123"


@pytest.fixture
def function_env(emulator: Emulator, cloud: Control, monkeypatch: pytest.MonkeyPatch) -> Control:
    monkeypatch.setenv("PIPELINE_ID", PIPELINE)
    monkeypatch.setenv("PIPELINE_NAME", "fraud_retraining")
    monkeypatch.setenv("WORKSPACE_ID", "ws-123")
    monkeypatch.setenv("PAIFLOW_ENDPOINT", urlsplit(emulator.url).netloc)
    monkeypatch.setenv("PAIFLOW_PROTOCOL", "http")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "STS.test-key")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "test-secret")
    monkeypatch.setenv("ALIBABA_CLOUD_SECURITY_TOKEN", "test-token")
    cloud.register_pipeline(PIPELINE, manifest())  # the stack's own manifest: the run's Arguments must fit it
    cloud.verify_credentials("STS.test-key", "test-secret")
    return cloud
