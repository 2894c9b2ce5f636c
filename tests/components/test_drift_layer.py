"""The drift check's layer the stack builds (components/drift_layer.py, wired by components/retraining_trigger.py):
the zip as an OSS object keyed by its sha256, a python3.12 layer version from it, its ARN in the function's layers;
a configured ARN builds nothing; a missing zip stops a real run and is a placeholder only offline (recording mocks)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from components import drift_layer
from components.drift_layer import PLACEHOLDER_DIGEST, LayerZipMissing, layer_name
from tests.components.test_drift_trigger import LAYER, TRIGGER, function_inputs, register_trigger
from tools.mock_engine import MOCK_ACCOUNT_ID, RecordingMocks

BUILD: dict[str, Any] = {**TRIGGER, "drift": {"enabled": True}}  # layer left out: build
OBJECT = "alicloud:oss/bucketObject:BucketObject"
LAYER_VERSION = "alicloud:fc/v3LayerVersion:V3LayerVersion"
NAME = "pai-mlops-prod-fraud-retraining-drift"


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A zip where the program looks for the layer's (its bytes stand in for make layer's)."""
    path = tmp_path / "drift-check.zip"
    path.write_bytes(b"PK\x05\x06" + b"\x00" * 18)  # an empty zip
    monkeypatch.setattr(drift_layer, "LAYER_ZIP", path)
    return path


def test_build_uploads_the_zip_under_its_digest_and_the_function_uses_the_layers_arn(
    mocks: RecordingMocks, built: Path
) -> None:
    register_trigger(mocks, BUILD)

    digest = hashlib.sha256(built.read_bytes()).hexdigest()
    archive = mocks.one(OBJECT, "pipeline-fraud_retraining-trigger-drift-zip")
    assert archive.inputs == {
        "bucket": "acme-pai-prod",
        "key": f"layers/drift-check/{digest}.zip",
        "source": str(built),
        "acl": "private",
        "contentType": "application/zip",
    }
    layer = mocks.one(LAYER_VERSION, "pipeline-fraud_retraining-trigger-drift")
    assert layer.inputs == {
        "layerName": NAME,
        "description": (
            "pai-mlops: numpy, scipy and oss2 for pai-mlops-prod-fraud-retraining-start's drift check "
            f"(sha256 {digest[:16]})"
        ),
        "compatibleRuntimes": ["python3.12"],
        "code": {"ossBucketName": "acme-pai-prod", "ossObjectName": f"layers/drift-check/{digest}.zip"},
    }
    assert layer.property_dependencies["code"] == (archive.urn,)  # published after the upload
    function = mocks.one("alicloud:fc/v3Function:V3Function", "pipeline-fraud_retraining-trigger-function")
    assert function.property_dependencies["layers"] == (layer.urn,)
    assert function_inputs(mocks)["layers"] == [f"acs:fc:cn-hangzhou:{MOCK_ACCOUNT_ID}:layers/{NAME}/versions/1"]


def test_the_same_zip_gives_the_same_object_and_new_bytes_a_new_one(built: Path, tmp_path: Path) -> None:
    assert drift_layer.zip_digest(built) == drift_layer.zip_digest(built)
    other = tmp_path / "other.zip"
    other.write_bytes(built.read_bytes() + b"\x00")
    assert drift_layer.object_key(drift_layer.zip_digest(other)) != drift_layer.object_key(
        drift_layer.zip_digest(built)
    )


def test_an_arn_in_config_builds_no_layer(mocks: RecordingMocks) -> None:
    register_trigger(mocks, {**TRIGGER, "drift": {"enabled": True, "layer": LAYER}})

    assert mocks.by_type(LAYER_VERSION) == []
    assert mocks.by_type(OBJECT) == []
    assert function_inputs(mocks)["layers"] == [LAYER]


def test_a_missing_zip_stops_a_run_against_the_cloud_naming_the_command(
    mocks: RecordingMocks, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "drift-check.zip"
    monkeypatch.setattr(drift_layer, "LAYER_ZIP", missing)
    monkeypatch.setattr(drift_layer, "offline_placeholder", False)  # as under `pulumi preview` / `up`
    with pytest.raises(LayerZipMissing) as raised:
        register_trigger(mocks, BUILD)
    assert str(raised.value) == (
        f"trigger.drift.layer is build, and the drift check's layer {missing} is missing: run `make layer` "
        "(python -m tools.build_layer) before `pulumi preview` / `pulumi up`, or give trigger.drift.layer the ARN "
        "of a layer you built"
    )


def test_offline_a_missing_zip_is_planned_under_the_placeholder(
    mocks: RecordingMocks, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(drift_layer, "LAYER_ZIP", tmp_path / "drift-check.zip")
    assert drift_layer.offline_placeholder is True  # the mock engine's install_mocks set it
    register_trigger(mocks, BUILD)

    archive = mocks.one(OBJECT, "pipeline-fraud_retraining-trigger-drift-zip")
    assert archive.inputs["key"] == f"layers/drift-check/{PLACEHOLDER_DIGEST}.zip"
    assert not (tmp_path / "drift-check.zip").exists()


def test_the_project_zip_is_uploaded_by_its_path_from_the_project_root(mocks: RecordingMocks) -> None:
    register_trigger(mocks, BUILD)

    assert mocks.one(OBJECT, "pipeline-fraud_retraining-trigger-drift-zip").inputs["source"] == (
        "build/layers/drift-check.zip"
    )


@pytest.mark.parametrize(
    ("function", "layer"),
    [
        ("pai-mlops-dev-fraud-retraining-start", "pai-mlops-dev-fraud-retraining-drift"),
        ("p" * 60 + "-start", "p" * 49 + "-" + hashlib.sha256(b"p" * 60).hexdigest()[:8] + "-drift"),
    ],
)
def test_layer_names_derive_from_the_function_and_fit_64(function: str, layer: str) -> None:
    assert layer_name(function) == layer
    assert len(layer) <= 64
