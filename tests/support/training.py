"""A TrainingJob's test inputs and what tests read back from the emulator (tests/providers/test_training*.py)."""

# pyright: basic, reportOptionalMemberAccess=false
# (the SDK's response models are typed Optional everywhere)

from __future__ import annotations

import copy
from typing import Any

from alibabacloud_pai_dlc20201203 import models as dlc

from providers.clients import ClientFactory
from providers.training import TrainingJobProvider
from providers.training_request import job_key
from tests.emulator import Control
from tests.support.provider_host import ProviderHost

BUCKET = "mlops-dev"
INPUTS: dict[str, Any] = {
    "scope": "pai-mlops/dev/train-fraud",
    "display_name": "train-fraud",
    "job_type": "PyTorchJob",
    "image": "registry.cn-hangzhou.aliyuncs.com/acme/train:1.0",
    "command": "python train.py --epochs 10",
    "worker_count": 2,
    "roles": {"Master": 1},
    "instance_type": "ecs.gn6i-c4g1.xlarge",
    "resource_group": None,
    "resources": None,
    "spot": True,
    "spot_discount_limit": 0.6,
    "checkpoint_interval_minutes": 15,
    "max_runtime_minutes": 120,
    "queue_timeout_minutes": 60,
    "data_sources": [{"uri": f"oss://{BUCKET}/data/fraud/", "mount_path": "/mnt/data/fraud"}],
    "output_uri": f"oss://{BUCKET}/models/fraud/r1/",
    "checkpoint_uri": f"oss://{BUCKET}/checkpoints/fraud/r1/",
    "code": {
        "source_id": "code-7f3a",
        "commit": "4be2c1d",
        "branch": "main",
        "repository": "https://github.com/acme/fraud.git",
        "mount_path": "/root/code",
    },
    "workspace_id": "ws-1234",
    "role_arn": "acs:ram::123456789012:role/pai-mlops-dev-dlc",
    "wait": "completed",
    "max_resubmits": 2,
    "resubmit_on": "preemption",
    "env": {"EPOCHS": "10"},
    "tags": {"environment": "dev", "owner": "ml-platform"},
    "description": "fraud scorer, run r1",
    "poll_seconds": 0.05,
    "delete_records": False,
}
PREEMPTED = "JobFailed: The spot instance was reclaimed and the pod was evicted."


def inputs(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(INPUTS), **changes}


def create(host: ProviderHost, props: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
    id_, outs = host.create(TrainingJobProvider(), props, timeout=timeout)
    assert id_ == outs["key"] == job_key(props)
    return outs


def jobs(clients: ClientFactory) -> list[dict[str, Any]]:
    """Every job the emulator holds, oldest first, as GetJob shows them."""
    listed = clients.dlc().list_jobs(dlc.ListJobsRequest(order="asc", start_time="2000-01-01T00:00:00Z")).body.jobs
    client = clients.dlc()
    return [client.get_job(str(item.job_id), dlc.GetJobRequest()).body.to_map() for item in listed or []]


def actions(cloud: Control, action: str) -> list[dict[str, Any]]:
    return cloud.calls(api="dlc", action=action)


def put_checkpoint(clients: ClientFactory, name: str, *, complete: bool) -> None:
    bucket = clients.oss_bucket(BUCKET)
    bucket.put_object(f"checkpoints/fraud/r1/{name}/model.pt", b"weights")
    if complete:
        bucket.put_object(f"checkpoints/fraud/r1/{name}/_COMPLETE", b"")
