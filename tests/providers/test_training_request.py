"""The TrainingJob's DLC request (providers/training_request.py): the body on dedicated resources, a resumed
attempt, the run's key, display names and which listed jobs are this run's."""

from __future__ import annotations

from typing import Any

import pytest

from providers.training_request import attempt_number, display_name, is_attempt_of, job_body, job_key
from providers.training_spec import with_defaults
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
