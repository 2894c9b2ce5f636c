"""components/model_registry.py: the registered versions, their code and their jobs."""

from __future__ import annotations

from components import ModelRegistry, ModelRegistryArgs, TrainedRun
from tests.support.components import served
from tools.mock_engine import RecordingMocks, run_under_mocks


def test_every_registered_version_names_its_code_and_a_trained_one_its_job(mocks: RecordingMocks) -> None:
    svc = served()
    trained = {"v7": TrainedRun(repository="https://github.com/acme/fraud-models.git", commit="aaaa111", job_id="dlc1")}
    args = ModelRegistryArgs(service=svc, bucket_name="acme-pai-prod", workspace_id="ws-1", trained=trained)
    run_under_mocks(lambda: ModelRegistry("registry-fraud_scorer", args))
    v6 = mocks.one("alicloud:pai/workspaceModelVersion:WorkspaceModelVersion", "registry-fraud_scorer-v6").inputs
    v7 = mocks.one("alicloud:pai/workspaceModelVersion:WorkspaceModelVersion", "registry-fraud_scorer-v7").inputs
    assert v6 == {
        "labels": [
            {"key": "codeRepository", "value": "https://github.com/acme/fraud-models.git"},
            {"key": "codeCommit", "value": "9f1c2ab7"},
            {"key": "projectVersion", "value": "v6"},
        ],
        "modelId": "registry-fraud_scorer-model-id",
        "sourceType": "Custom",
        # the registry's form: oss://<bucket>.<endpoint>/<path>, and a semantic version (aiworkspace SDK)
        "uri": "oss://acme-pai-prod.oss-cn-hangzhou.aliyuncs.com/models/fraud_scorer/v6/",
        "versionDescription": "fraud_scorer v6 from https://github.com/acme/fraud-models.git@9f1c2ab7",
        "versionName": "6.0.0",
    }
    assert (v7["sourceType"], v7["sourceId"], v7["labels"][1], v7["versionName"]) == (
        "TrainingService",
        "region=cn-hangzhou,workspaceId=ws-1,kind=ServiceJob,id=dlc1",
        {"key": "codeCommit", "value": "aaaa111"},
        "7.0.0",
    )


def test_an_explicit_registry_version_wins_and_the_uri_uses_the_region(mocks: RecordingMocks) -> None:
    svc = served(registryVersions={"v7": "2.1.0_rc1"})
    args = ModelRegistryArgs(service=svc, bucket_name="b", workspace_id="ws-1", region="cn-shanghai")
    run_under_mocks(lambda: ModelRegistry("registry-fraud_scorer", args))
    v7 = mocks.one("alicloud:pai/workspaceModelVersion:WorkspaceModelVersion", "registry-fraud_scorer-v7").inputs
    assert (v7["versionName"], v7["uri"]) == (
        "2.1.0_rc1",
        "oss://b.oss-cn-shanghai.aliyuncs.com/models/fraud_scorer/v7/",
    )


def test_a_version_a_drift_run_trained_says_so_with_its_score(mocks: RecordingMocks) -> None:
    svc = served(
        retrainedBy={"v7": {"trigger": "drift", "method": "psi", "score": 0.3127}, "v6": {"trigger": "schedule"}}
    )
    args = ModelRegistryArgs(service=svc, bucket_name="b", workspace_id="ws-1")
    run_under_mocks(lambda: ModelRegistry("registry-fraud_scorer", args))
    v6 = mocks.one("alicloud:pai/workspaceModelVersion:WorkspaceModelVersion", "registry-fraud_scorer-v6").inputs
    v7 = mocks.one("alicloud:pai/workspaceModelVersion:WorkspaceModelVersion", "registry-fraud_scorer-v7").inputs
    assert v7["labels"][3:] == [
        {"key": "trigger", "value": "drift"},
        {"key": "driftMethod", "value": "psi"},
        {"key": "driftScore", "value": "0.3127"},
    ]
    assert v6["labels"][3:] == [{"key": "trigger", "value": "schedule"}]
