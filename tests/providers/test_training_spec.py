"""The TrainingJob's inputs (providers/training_spec.py): the rules across inputs, OSS locations, the job types."""

from __future__ import annotations

import typing
from typing import Any

import pytest

from providers.training_spec import JOB_TYPES, OssLocation, problems, with_defaults
from stack_config import JobType
from tests.providers.test_training import INPUTS


def bad(**changes: Any) -> list[tuple[str, str]]:
    return problems(with_defaults({**INPUTS, **changes}))


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, []),
        ({"worker_count": 0}, [("worker_count", "must be a whole number of worker pods, at least 1; got 0")]),
        ({"roles": {"PS": 1}}, [("roles", "PyTorchJob has no role 'PS' besides Worker; choose from Master")]),
        (
            {"resource_group": "quota-1"},
            [
                ("instance_type", "applies to shared resources only; size pods with resources on a quota"),
                ("resources", "a dedicated resource group / quota needs resources {cpu, memory_gb[, gpu]}"),
                ("spot", "spot instances come from shared resources; remove resource_group or spot"),
            ],
        ),
        (
            {
                "resource_group": "quota-1",
                "instance_type": None,
                "spot": False,
                "resources": {"cpu": 8, "memory_gb": 30, "gpu": 1, "gpu_type": "NVIDIA A10"},
            },
            [
                (
                    "resources",
                    "gpu_type must be a DLC GPU type name such as 'Tesla-V100-16G' (no spaces); got 'NVIDIA A10'",
                )
            ],
        ),
        (
            {"instance_type": "gn6i", "spot": False},
            [
                (
                    "instance_type",
                    "shared resources need an ECS instance type such as 'ecs.gn6i-c4g1.xlarge'; got 'gn6i'",
                )
            ],
        ),
        (
            {"checkpoint_interval_minutes": 0, "poll_seconds": 0},
            [
                ("checkpoint_interval_minutes", "must be a whole number of minutes, at least 1, or left out; got 0"),
                ("poll_seconds", "must be a positive number of seconds; got 0"),
            ],
        ),
        ({"tags": {"pai-mlops-key": "x"}}, [("tags", "pai-mlops-key is reserved for finding the job again")]),
        ({"env": {"1BAD": "x"}}, [("env", "'1BAD' is not a valid environment variable name")]),
        (
            {
                "output_uri": "s3://b/models/",
                "data_sources": [{"uri": "oss://mlops-dev/data/", "mount_path": "/mnt/output"}],
            },
            [
                ("output_uri", "not an OSS location of the form oss://<bucket>/<prefix>/: 's3://b/models/'"),
                ("data_sources[0].mount_path", "/mnt/output is already mounted; give each source its own path"),
            ],
        ),
        (
            {"code": {"commit": "abc"}},
            [
                (
                    "code",
                    "needs source_id (a workspace code source) and optionally commit and branch; got {'commit': 'abc'}",
                )
            ],
        ),
        ({"image": " "}, [("image", "is required")]),
        ({"wait": "forever"}, [("wait", "must be one of none, running, completed; got 'forever'")]),
    ],
)
def test_problems(changes: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert bad(**changes) == expected


def test_oss_locations() -> None:
    assert OssLocation.parse("oss://mlops-dev/checkpoints/x") == OssLocation("mlops-dev", "checkpoints/x/")
    assert OssLocation.parse("oss://mlops-dev.oss-cn-hangzhou-internal.aliyuncs.com/data/") == OssLocation(
        "mlops-dev", "data/"
    )
    with pytest.raises(ValueError, match="not an OSS location"):
        OssLocation.parse("oss://Bad_Bucket/x/")


def test_the_config_layer_accepts_exactly_the_job_types_the_provider_does() -> None:
    assert typing.get_args(JobType) == JOB_TYPES
