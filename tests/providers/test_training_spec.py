"""The TrainingJob's pure rules: validation, the DLC request on dedicated resources, keys and how jobs end."""

from __future__ import annotations

import typing
from typing import Any

import pytest

from providers.props import plain
from providers.training_spec import (
    JOB_TYPES,
    OssLocation,
    attempt_number,
    checkpoint_order,
    display_name,
    is_attempt_of,
    is_preemption,
    job_body,
    job_key,
    problems,
    with_defaults,
)
from stack_config import JobType
from tests.providers.test_training import INPUTS

DEDICATED = with_defaults(
    {
        **INPUTS,
        "instance_type": None,
        "resource_group": "quota-gpu-a10",
        "resources": {"cpu": 8, "memory_gb": 30, "gpu": 1, "gpu_type": "Tesla-V100-16G"},
        "spot": False,
        "spot_discount_limit": None,
        "roles": {},
        "code": None,
        "role_arn": None,
        "workspace_id": None,
        "max_runtime_minutes": None,
        "wait": "running",
    }
)


def test_dedicated_resources_are_sized_per_pod_and_never_spot() -> None:
    body = job_body(DEDICATED, key="0123456789abcdef", attempt=1, region="cn-shanghai", resume_from=None)
    assert body["ResourceId"] == "quota-gpu-a10"
    assert body["JobSpecs"] == [
        {
            "Type": "Worker",
            "Image": INPUTS["image"],
            "PodCount": 2,
            "ResourceConfig": {"CPU": "8", "Memory": "30Gi", "GPU": "1", "GPUType": "Tesla-V100-16G"},
        }
    ]
    assert (
        body["DataSources"][-1]["Uri"] == "oss://mlops-dev.oss-cn-shanghai-internal.aliyuncs.com/checkpoints/fraud/r1/"
    )
    for absent in ("CodeSource", "CredentialConfig", "WorkspaceId", "JobMaxRunningTimeMinutes"):
        assert absent not in body


def test_a_resumed_attempt_gets_the_checkpoint_as_a_mounted_path_and_a_uri() -> None:
    uri = "oss://mlops-dev/checkpoints/fraud/r1/step-2000/"
    env = job_body(DEDICATED, key="k" * 16, attempt=3, region="cn-hangzhou", resume_from=uri)["Envs"]
    assert (env["PAI_MLOPS_RESUME_FROM"], env["PAI_MLOPS_RESUME_FROM_URI"], env["PAI_MLOPS_ATTEMPT"]) == (
        "/mnt/checkpoints/step-2000/",
        uri,
        "3",
    )


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


def test_the_key_follows_the_run_and_ignores_how_it_is_watched() -> None:
    key = job_key(INPUTS)
    assert len(key) == 16
    assert job_key({**INPUTS, "worker_count": 2.0}) == key  # numbers come back from gRPC as floats
    assert job_key({**INPUTS, "wait": "none", "max_resubmits": 9, "tags": {}, "description": "x"}) == key
    assert job_key({**INPUTS, "scope": "pai-mlops/prod/train-fraud"}) != key
    assert job_key({**INPUTS, "code": {**INPUTS["code"], "commit": "ffff"}}) != key


def test_display_names_are_safe_for_dlc() -> None:
    assert display_name({"display_name": "train fraud/v2"}, "0123456789abcdef", 4) == "train-fraud-v2-01234567-4"
    assert display_name({"display_name": "***"}, "0123456789abcdef", 1) == "training-01234567-1"


@pytest.mark.parametrize(
    ("job", "preempted"),
    [
        # ReasonCodes are not documented for DLC: none counts, whatever it says.
        ({"Status": "Failed", "ReasonCode": "PodEvicted"}, False),
        ({"Status": "Failed", "ReasonCode": "SpotInstanceReclaimed", "Pods": [{"SubStatus": "Normal"}]}, False),
        ({"Status": "Failed", "ReasonCode": "Preempted"}, False),
        ({"Status": "Failed", "ReasonCode": "JobFailed", "Pods": [{"SubStatus": "Evicted"}]}, True),
        ({"Status": "FailedReserving", "SubStatus": "PreemptionRetrying"}, True),
        ({"Status": "Failed", "ReasonCode": "JobFailed", "Pods": [{"SubStatus": "Normal"}]}, False),
        ({"Status": "Stopped", "Pods": [{"SubStatus": "Evicted"}]}, False),
        ({"Status": "Running", "Pods": [{"SubStatus": "Evicted"}]}, False),
    ],
)
def test_is_preemption(job: dict[str, Any], preempted: bool) -> None:
    assert is_preemption(job) is preempted


def test_checkpoints_sort_naturally() -> None:
    names = ["step-1000", "step-99", "epoch-10", "step-100", "epoch-9"]
    assert sorted(names, key=checkpoint_order) == ["epoch-9", "epoch-10", "step-99", "step-100", "step-1000"]


def test_oss_locations() -> None:
    assert OssLocation.parse("oss://mlops-dev/checkpoints/x") == OssLocation("mlops-dev", "checkpoints/x/")
    assert OssLocation.parse("oss://mlops-dev.oss-cn-hangzhou-internal.aliyuncs.com/data/") == OssLocation(
        "mlops-dev", "data/"
    )
    with pytest.raises(ValueError, match="not an OSS location"):
        OssLocation.parse("oss://Bad_Bucket/x/")


def test_plain_restores_whole_numbers() -> None:
    assert plain({"a": 2.0, "b": [1.5, 3.0], "c": True}) == {"a": 2, "b": [1.5, 3], "c": True}


def test_the_config_layer_accepts_exactly_the_job_types_the_provider_does() -> None:
    assert typing.get_args(JobType) == JOB_TYPES


KEY = "0123456789abcdef"
RUN = {"display_name": "fraud-train"}


@pytest.mark.parametrize(
    ("job", "adopted", "attempt"),
    [
        ({"DisplayName": "fraud-train-01234567-2", "Settings": {"Tags": {"pai-mlops-key": KEY}}}, True, 2),
        (
            {"DisplayName": "x", "Settings": {"Tags": {"pai-mlops-key": KEY, "pai-mlops-attempt": "3"}}},
            True,
            3,
        ),
        # Another run's key wins over a matching name: the key is the identity when it is there.
        ({"DisplayName": "fraud-train-01234567-1", "Settings": {"Tags": {"pai-mlops-key": "f" * 16}}}, False, 1),
        # No tags in the answer: only this run's exact display name counts.
        ({"DisplayName": "fraud-train-01234567-2"}, True, 2),
        ({"DisplayName": "fraud-train-01234567-2", "Settings": {"Tags": {}}}, True, 2),
        ({"DisplayName": "fraud-train-01234567-2-copy"}, False, 0),
        ({"DisplayName": "big-fraud-train-01234567-1"}, False, 0),
        ({"DisplayName": "fraud-train-76543210-1"}, False, 0),
    ],
)
def test_a_listed_job_is_this_runs_by_key_or_else_by_its_exact_name(
    job: dict[str, Any], adopted: bool, attempt: int
) -> None:
    assert is_attempt_of(job, RUN, KEY) is adopted
    assert attempt_number(job, RUN, KEY) == attempt
