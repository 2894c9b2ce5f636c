"""components/eas_config.py: the EAS service config built from the serving config."""

from __future__ import annotations

import pytest

from components.eas_config import service_config
from tests.support.components import served


def test_service_config_for_custom_container_on_dedicated_group() -> None:
    container = {"image": "r.example.com/acme/tagger:1.4.2", "port": 8000, "command": "python -m tagger"}
    svc = served(
        processor=None,
        instanceType=None,
        container=container,
        resourceGroup="eas-r-gpu01",
        cpu=8,
        memoryMb=30000,
        gpu=1,
        minInstances=3,
    )
    assert service_config(svc, "v6", "acme-pai-prod") == {
        "metadata": {
            "name": "fraud_scorer_v6",
            "group": "fraud_scorer",
            "instance": 3,
            "resource": "eas-r-gpu01",
            "cpu": 8,
            "memory": 30000,
            "gpu": 1,
        },
        "containers": [
            {
                "image": "r.example.com/acme/tagger:1.4.2",
                "port": 8000,
                "command": "python -m tagger",
                "env": [{"name": "MODEL_DIR", "value": "/models"}],
            }
        ],
        "storage": [
            {"mount_path": "/models", "oss": {"path": "oss://acme-pai-prod/models/fraud_scorer/v6/", "readOnly": True}}
        ],
    }


@pytest.mark.parametrize(("minimum", "initial"), [(0, 1), (1, 1), (4, 4)])
def test_initial_instance_count_is_never_zero(minimum: int, initial: int) -> None:
    assert service_config(served(minInstances=minimum, maxInstances=5), "v7", "b")["metadata"]["instance"] == initial
