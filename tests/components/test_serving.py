"""components/serving.py: one EAS service per version under the mock engine."""

from __future__ import annotations

import json

from components import ModelService, ModelServiceArgs
from tests.support.components import EAS_SERVICE, ROLE, children, served
from tools.mock_engine import RecordingMocks, run_under_mocks


def test_model_service_creates_one_eas_service_per_version(mocks: RecordingMocks) -> None:
    svc = served(minInstances=0)
    service = ModelServiceArgs(service=svc, bucket_name="acme-pai-prod", workspace_id="ws-1", role_arn=ROLE)
    run_under_mocks(lambda: ModelService("fraud_scorer", service))
    assert children(mocks, "pai-mlops:serving:ModelService", "fraud_scorer") == [
        (EAS_SERVICE, "fraud_scorer-v6"),
        (EAS_SERVICE, "fraud_scorer-v7"),
    ]
    v7 = mocks.one(EAS_SERVICE, "fraud_scorer-v7")
    assert v7.additional_secret_outputs == ("access_token", "docker_auth")
    inputs = v7.inputs
    assert (inputs["service_name"], inputs["workspace_id"], inputs["role_arn"]) == ("fraud_scorer_v7", "ws-1", ROLE)
    assert inputs["ready_timeout_seconds"] == 20 * 60  # readyTimeoutMinutes' documented default
    assert json.loads(inputs["service_config"]) == {
        "cloud": {"computing": {"instance_type": "ecs.c7.large"}},
        "metadata": {"group": "fraud_scorer", "instance": 1, "name": "fraud_scorer_v7"},
        "model_path": "oss://acme-pai-prod/models/fraud_scorer/v7/",
        "processor": "pmml",
    }
    assert mocks.by_type("alicloud:pai/service:Service") == []


def test_each_service_has_its_own_ready_budget(mocks: RecordingMocks) -> None:
    svc = served(readyTimeoutMinutes=45)
    run_under_mocks(
        lambda: ModelService("fraud_scorer", ModelServiceArgs(service=svc, bucket_name="b", workspace_id="w"))
    )
    assert mocks.one(EAS_SERVICE, "fraud_scorer-v7").inputs["ready_timeout_seconds"] == 45 * 60


def test_moving_off_pai_service_retains_the_old_resource_untouched(mocks: RecordingMocks) -> None:
    """The upgrade path: the old pai.Service stays declared, never changed, and retained when it leaves."""
    args = ModelServiceArgs(service=served(), bucket_name="b", workspace_id="w", retain_legacy=True)
    run_under_mocks(lambda: ModelService("fraud_scorer", args))
    legacy = mocks.one("alicloud:pai/service:Service", "fraud_scorer-v7")
    assert legacy.retain_on_delete is True
    assert sorted(legacy.ignore_changes) == ["develop", "serviceConfig", "status", "tags", "workspaceId"]
    assert legacy.inputs["serviceConfig"] == mocks.one(EAS_SERVICE, "fraud_scorer-v7").inputs["service_config"]
