"""components/training.py: a training run under the mock engine (bucket, role, workspace, quota)."""

from __future__ import annotations

from components import Training, TrainingArgs
from stack_config import TrainingJobConfig
from tests.support.components import children, training_job
from tools.mock_engine import RecordingMocks, run_under_mocks


def train(mocks: RecordingMocks, job: TrainingJobConfig) -> None:
    args = TrainingArgs(
        job=job,
        bucket_name="acme-pai-prod",
        workspace_id="ws-1",
        role_arn="acs:ram::123456789012:role/pai-mlops-prod-dlc",
        code_source_id="code-fraud-models" if job.code else None,
    )
    run_under_mocks(lambda: Training("train-fraud_scorer", args))


def test_training_runs_a_spot_job_on_the_stack_bucket_role_and_workspace(mocks: RecordingMocks) -> None:
    train(mocks, training_job())
    assert children(mocks, "pai-mlops:training:Training", "train-fraud_scorer") == [
        ("pulumi-python:dynamic/pai:TrainingJob", "train-fraud_scorer-job"),
    ]
    job = mocks.one("pulumi-python:dynamic/pai:TrainingJob", "train-fraud_scorer-job")
    assert {k: v for k, v in job.inputs.items() if k != "__provider"} == {
        "scope": "pai-mlops/test/train-fraud_scorer-job",
        "display_name": "fraud_scorer-r20261124",
        "job_type": "PyTorchJob",
        "image": "registry.cn-hangzhou.aliyuncs.com/acme-ml/fraud-train:2.3.0",
        "command": "python -m fraud.train",
        "worker_count": 2,
        "roles": {"Master": 1},
        "instance_type": "ecs.gn6i-c4g1.xlarge",
        "spot": True,
        "spot_discount_limit": 0.6,
        "checkpoint_interval_minutes": 15,
        "max_runtime_minutes": 240,
        "queue_timeout_minutes": 60,
        "data_sources": [
            {"uri": "oss://acme-pai-prod/data/fraud/transactions/", "mount_path": "/mnt/data/transactions"}
        ],
        "output_uri": "oss://acme-pai-prod/models/fraud_scorer/r20261124/",
        "checkpoint_uri": "oss://acme-pai-prod/checkpoints/fraud_scorer/r20261124/",
        "code": {
            "source_id": "code-fraud-models",
            "commit": "4be2c1d9",
            "branch": "main",
            "repository": "https://github.com/acme/fraud-models.git",
            "mount_path": "/root/code",
        },
        "workspace_id": "ws-1",
        "role_arn": "acs:ram::123456789012:role/pai-mlops-prod-dlc",
        "wait": "none",
        "max_resubmits": 3,
        "resubmit_on": "preemption",
        "env": {"EPOCHS": "20"},
        "tags": {"team": "fraud"},
        "description": "",
        "poll_seconds": 30,
        "delete_records": False,
    }


def test_training_on_a_dedicated_quota_sizes_pods_and_clones_nothing_without_code(mocks: RecordingMocks) -> None:
    job = training_job(
        resourceGroup="quota1a2b3c",
        instanceType=None,
        resources={"cpu": 16, "memoryGb": 60, "gpu": 1, "gpuType": "Tesla-V100-16G"},
        spot=False,
        spotDiscountLimit=None,
        code=None,
        deleteRecords=True,
    )
    train(mocks, job)
    assert children(mocks, "pai-mlops:training:Training", "train-fraud_scorer") == [
        ("pulumi-python:dynamic/pai:TrainingJob", "train-fraud_scorer-job")
    ]
    inputs = mocks.one("pulumi-python:dynamic/pai:TrainingJob", "train-fraud_scorer-job").inputs
    assert inputs["resource_group"] == "quota1a2b3c"
    assert inputs["resources"] == {"cpu": 16, "memory_gb": 60, "gpu": 1, "gpu_type": "Tesla-V100-16G"}
    assert (inputs["spot"], "instance_type" in inputs, "code" in inputs) == (False, False, False)
    assert inputs["delete_records"] is True
