"""components/notebook.py: the notebooks under the mock engine."""

from __future__ import annotations

from components import Notebooks, NotebooksArgs
from stack_config import parse_stack_config
from tests.conftest import VALID_RAW
from tools.mock_engine import RecordingMocks, run_under_mocks


def test_notebooks_mount_the_data_prefix_and_clone_the_repository(mocks: RecordingMocks) -> None:
    raw = {
        **VALID_RAW,
        "notebook": {
            "code": {"repository": "https://github.com/acme/fraud-models.git", "branch": "dev"},
            "instances": [
                {
                    "name": "alice",
                    "resourceGroup": "shared",
                    "instanceType": "ecs.g6.xlarge",
                    "imageUrl": "registry/nb:1",
                    "idleShutdownMinutes": 45,
                    "env": {"EPOCHS": "1"},
                }
            ],
        },
    }
    notebook = parse_stack_config(raw, "prod").notebook
    args = NotebooksArgs(
        notebook=notebook,
        bucket_name="acme-pai-prod",
        region="cn-hangzhou",
        workspace_id="ws-1",
        workspace_name="mlops_prod",
        role_arn="acs:ram::123456789012:role/pai-mlops-prod-dsw",
    )
    run_under_mocks(lambda: Notebooks("notebooks", args))
    assert mocks.one("alicloud:pai/workspaceDataset:WorkspaceDataset", "notebooks-data").inputs == {
        "accessibility": "PRIVATE",
        "dataSourceType": "OSS",
        "datasetName": "mlops_prod_data",
        "description": "The data/ prefix of bucket acme-pai-prod",
        "options": '{"mountPath": "/mnt/data"}',
        "property": "DIRECTORY",
        "uri": "oss://acme-pai-prod.oss-cn-hangzhou-internal.aliyuncs.com/data/",
        "workspaceId": "ws-1",
    }
    alice = mocks.one("pulumi-python:dynamic/pai:DswInstance", "notebooks-alice").inputs
    assert {k: v for k, v in alice.items() if k != "__provider"} == {
        "instance_name": "mlops_prod_alice",
        "workspace_id": "ws-1",
        "instance_type": "ecs.g6.xlarge",
        "image_url": "registry/nb:1",
        "datasets": [{"dataset_id": "notebooks-data-id", "mount_path": "/mnt/data"}],
        "role_arn": "acs:ram::123456789012:role/pai-mlops-prod-dsw",
        "idle_shutdown_minutes": 45,
        "env": {"PAI_MLOPS_DATA_DIR": "/mnt/data", "EPOCHS": "1"},
        "labels": {"person": "alice"},
        "tags": {},
        "start_command": "if [ -d /mnt/workspace/fraud-models/.git ]; then git -C /mnt/workspace/fraud-models pull "
        "--ff-only || true; else git clone --branch dev https://github.com/acme/fraud-models.git "
        "/mnt/workspace/fraud-models || true; fi",
        "wait_timeout_seconds": 1800,
        "poll_seconds": 10,
    }
