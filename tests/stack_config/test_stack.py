"""Typed stack config: valid stacks parse to exact values; every bad input fails with its exact message."""

from __future__ import annotations

import copy
import json
from typing import Any

import pulumi
import pytest

from config_problems import Problem, StackConfigError
from stack_config import (
    CodeConfig,
    ContainerConfig,
    ModelServiceConfig,
    PodResourcesConfig,
    RolloutConfig,
    StackConfig,
    TrainingJobConfig,
    load_stack_config,
    parse_stack_config,
    vpc_registry_host,
)
from tests.conftest import VALID_RAW
from tools.mock_engine import RecordingMocks, run_under_mocks

DELETE = object()
S0 = "pai-mlops:serving.services[0]"
BUCKET_FIX = (
    "Use 3-63 lower-case letters, digits or hyphens, starting and ending with a letter or digit, "
    "unique across all of OSS (e.g. 'acme-pai-mlops-dev')."
)
VERSIONS_FIX = "List the deployed versions, lower-case letters, digits and underscores, e.g. ['v6', 'v7']."
MAX_FIX = "Set the most instances the autoscaler may run, at least 1."
DEDICATED_FIX = "Give cpu (vCPUs) and memoryMb per instance."


def edited(path: str, value: Any) -> dict[str, Any]:
    """VALID_RAW with the value at a dotted path (list indices as numbers) replaced or deleted."""
    raw = copy.deepcopy(VALID_RAW)
    *parents, last = path.split(".")
    node: Any = raw
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return raw


def parse_errors(raw: dict[str, Any], stack: str = "prod") -> tuple[Problem, ...]:
    with pytest.raises(StackConfigError) as caught:
        parse_stack_config(raw, stack)
    return caught.value.problems


def problems_of(raw: dict[str, Any], stack: str = "prod") -> list[str]:
    return [str(problem) for problem in parse_errors(raw, stack)]


def engine_config(**overrides: str) -> dict[str, str]:
    """VALID_RAW as the engine hands it over: namespaced keys, objects as JSON strings."""
    values = {f"pai-mlops:{k}": json.dumps(v) if isinstance(v, dict) else v for k, v in VALID_RAW.items()}
    values["alicloud:region"] = values.pop("pai-mlops:region")
    return values | overrides


BAD_INPUTS = [
    pytest.param(
        "environment",
        "qa",
        ["pai-mlops [environment]: must be one of 'dev', 'staging' or 'prod'; got 'qa'. Write dev, staging or prod."],
        id="environment-unknown",
    ),
    pytest.param(
        "owner",
        "",
        ["pai-mlops [owner]: must not be empty; got ''. Name the owning team or person; it becomes the 'owner' tag."],
        id="owner-empty",
    ),
    pytest.param(
        "costCenter",
        DELETE,
        ["pai-mlops [costCenter]: is required; got nothing. Give the cost centre; it becomes the 'cost-center' tag."],
        id="cost-center-missing",
    ),
    pytest.param(
        "region",
        "Hangzhou",
        [
            "alicloud [region]: must be an Alibaba Cloud region id such as 'cn-hangzhou'; got 'Hangzhou'. "
            "Run `pulumi config set alicloud:region <region>`, e.g. cn-hangzhou."
        ],
        id="region-malformed",
    ),
    pytest.param(
        "storage.bucketName",
        "Acme_Bucket",
        [f"pai-mlops:storage [bucketName]: must be a valid OSS bucket name; got 'Acme_Bucket'. {BUCKET_FIX}"],
        id="bucket-uppercase-underscore",
    ),
    pytest.param(
        "storage.bucketName",
        "ab",
        [f"pai-mlops:storage [bucketName]: must be a valid OSS bucket name; got 'ab'. {BUCKET_FIX}"],
        id="bucket-too-short",
    ),
    pytest.param(
        "storage.bucketName",
        "acme-",
        [f"pai-mlops:storage [bucketName]: must be a valid OSS bucket name; got 'acme-'. {BUCKET_FIX}"],
        id="bucket-trailing-hyphen",
    ),
    pytest.param(
        "storage.kmsEncryption",
        "yes",
        [
            "pai-mlops:storage [kmsEncryption]: must be true or false; got 'yes'. "
            "Write true to encrypt with a rotating KMS key, false for OSS-managed AES256."
        ],
        id="kms-not-bool",
    ),
    pytest.param(
        "storage.checkpointRetentionDays",
        0,
        [
            "pai-mlops:storage [checkpointRetentionDays]: must be at least 1; got 0. "
            "Set how many days training checkpoints are kept, e.g. 30."
        ],
        id="checkpoint-retention-zero",
    ),
    pytest.param(
        "storage.retentionDays",
        7,
        [
            "pai-mlops:storage [retentionDays]: is not a known key; got a value not shown here. "
            "Did you mean 'accessLogRetentionDays'? "
            "Known keys here: accessLogRetentionDays, bucketName, checkpointRetentionDays, kmsEncryption."
        ],
        id="storage-unknown-key",
    ),
    pytest.param(
        "storage",
        "acme-bucket",
        [
            "pai-mlops [storage]: must be an object (a YAML mapping); got 'acme-bucket'. "
            "Give {bucketName, kmsEncryption, checkpointRetentionDays}."
        ],
        id="storage-not-mapping",
    ),
    pytest.param(
        "workspace.name",
        "ws",
        [
            "pai-mlops:workspace [name]: must be 3-23 letters, digits or underscores starting with a letter; got 'ws'. "
            "Use 3-23 letters, digits or underscores, starting with a letter (e.g. 'mlops_dev')."
        ],
        id="workspace-name-short",
    ),
    pytest.param(
        "workspace.description",
        "x" * 81,
        [
            f"pai-mlops:workspace [description]: must have at most 80 characters; got {'x' * 81!r}. "
            "Shorten the description to 80 characters."
        ],
        id="workspace-description-long",
    ),
    pytest.param(
        "serving.services.0.name",
        "fraud-scorer",
        [
            f"{S0} [name]: must be lower-case letters, digits and underscores starting with a letter; "
            "got 'fraud-scorer'. Use lower-case letters, digits and underscores, starting with a letter "
            "(e.g. 'fraud_scorer')."
        ],
        id="service-name-eas-rejects",
    ),
    pytest.param(
        "serving.services.0.name",
        "a" * 62,
        [
            f"{S0} [name]: with version 'v6' is longer than 64 characters; got {'a' * 62 + '_v6'!r}. "
            "Shorten the service name or the version.",
            f"{S0} [name]: with version 'v7' is longer than 64 characters; got {'a' * 62 + '_v7'!r}. "
            "Shorten the service name or the version.",
        ],
        id="service-name-too-long",
    ),
    pytest.param(
        "serving.services.0.processor",
        "onnx",
        [
            f"{S0} [processor]: is not a built-in EAS processor; got 'onnx'. Use one of alink_pai_processor, "
            "blade_cpu, blade_cuda10.0_beta, caffe_cpu, caffe_gpu, easycv, easynlp, easyrec-2.4, easyrec-torch-1.0, "
            "mediaflow, parameter_server, pmml, pytorch_cpu_1.6, pytorch_gpu_1.6, tensorflow_cpu_1.12, "
            "tensorflow_cpu_1.14, tensorflow_cpu_1.15, tensorflow_cpu_2.3, tensorflow_gpu_1.12, tensorflow_gpu_1.14, "
            "tensorflow_gpu_1.15, triton, xnn_cpu, or a custom container."
        ],
        id="processor-unknown",
    ),
    pytest.param(
        "serving.services.0.container",
        {"image": "r/x:1", "port": 8000, "command": "serve"},
        [
            f"{S0} [processor]: cannot be combined with 'container'; got 'pmml'. "
            "Keep either processor (built-in) or container (custom image)."
        ],
        id="processor-and-container",
    ),
    pytest.param(
        "serving.services.0.processor",
        DELETE,
        [
            f"{S0} [processor]: or 'container' is required; got nothing. "
            "Name a built-in processor such as 'pmml', or give a container."
        ],
        id="no-processor-no-container",
    ),
    pytest.param(
        "serving.services.0.minInstances",
        -1,
        [
            f"{S0} [minInstances]: must be at least 0; got -1. "
            "Set the fewest instances the autoscaler keeps: 0 lets dev scale to zero."
        ],
        id="min-instances-negative",
    ),
    pytest.param(
        "serving.services.0.maxInstances",
        0,
        [
            f"{S0} [maxInstances]: must be at least 1; got 0. {MAX_FIX}",
            f"{S0} [maxInstances]: must be greater than minInstances (1): the EAS autoscaler needs room to scale; "
            "got 0. Raise maxInstances or lower minInstances.",
        ],
        id="max-instances-zero",
    ),
    pytest.param(
        "serving.services.0.maxInstances",
        "4",
        [f"{S0} [maxInstances]: must be a whole number; got '4'. {MAX_FIX}"],
        id="max-instances-string",
    ),
    pytest.param(
        "serving.services.0.qpsPerInstance",
        0,
        [
            f"{S0} [qpsPerInstance]: must be greater than 0; got 0. "
            "Set the requests per second one instance handles before scaling out."
        ],
        id="qps-zero",
    ),
    pytest.param(
        "serving.services.0.scaleInCooldownSeconds",
        -5,
        [
            f"{S0} [scaleInCooldownSeconds]: must be at least 0; got -5. "
            "Set the seconds to wait before removing instances, e.g. 300."
        ],
        id="cooldown-negative",
    ),
    pytest.param(
        "serving.services.0.versions",
        [],
        [f"{S0} [versions]: must not be empty; got []. {VERSIONS_FIX}"],
        id="versions-empty",
    ),
    pytest.param(
        "serving.services.0.versions",
        ["V6", "v7"],
        [f"{S0} [versions[0]]: must be up to 16 lower-case letters, digits and underscores; got 'V6'. {VERSIONS_FIX}"],
        id="version-uppercase",
    ),
    pytest.param(
        "serving.services.0.versions",
        ["v7", "v7"],
        [f"{S0} [versions]: lists v7 more than once; got ['v7', 'v7']. List each version once."],
        id="versions-duplicate",
    ),
    pytest.param(
        "serving.services.0.live",
        "v8",
        [f"{S0} [live]: must be one of versions; got 'v8'. Set live to one of ['v6', 'v7'] or add it to versions."],
        id="live-not-in-versions",
    ),
    pytest.param(
        "serving.services.0.resourceGroup",
        "dedicated-1",
        [
            f"{S0} [resourceGroup]: must be 'shared' or a dedicated group id 'eas-r-...'; got 'dedicated-1'. "
            "Write 'shared' or the id of a dedicated EAS resource group ('eas-r-...')."
        ],
        id="resource-group-malformed",
    ),
    pytest.param(
        "serving.services.0.instanceType",
        DELETE,
        [
            f"{S0} [instanceType]: is required on the shared resource group; got nothing. "
            "Give an ECS instance type, e.g. 'ecs.c7.large'."
        ],
        id="instance-type-missing-shared",
    ),
    pytest.param(
        "serving.services.0.instanceType",
        "c7.large",
        [
            f"{S0} [instanceType]: must be an ECS instance type such as 'ecs.c7.large'; got 'c7.large'. "
            "Give an ECS instance type for the shared resource group, e.g. 'ecs.c7.large'."
        ],
        id="instance-type-malformed",
    ),
    pytest.param(
        "serving.services.0.resourceGroup",
        "eas-r-abc123",
        [
            f"{S0} [instanceType]: applies to the shared resource group only; got 'ecs.c7.large'. "
            "Remove it and size instances with cpu and memoryMb on the dedicated group.",
            f"{S0} [cpu]: is required on a dedicated resource group; got nothing. {DEDICATED_FIX}",
            f"{S0} [memoryMb]: is required on a dedicated resource group; got nothing. {DEDICATED_FIX}",
        ],
        id="dedicated-with-instance-type-without-size",
    ),
    pytest.param(
        "serving.services.0.rollout.steps",
        [50, 10, 100],
        [
            f"{S0}.rollout [steps]: must ascend strictly; got [50, 10, 100]. "
            "Order the percentages from smallest to largest without repeats."
        ],
        id="steps-not-ascending",
    ),
    pytest.param(
        "serving.services.0.rollout.steps",
        [10, 50],
        [
            f"{S0}.rollout [steps]: must end at 100; got [10, 50]. "
            "Make the last step 100 so the new version ends up with all traffic."
        ],
        id="steps-not-ending-at-100",
    ),
    pytest.param(
        "serving.services.0.rollout.steps",
        [0, 50, 100],
        [
            f"{S0}.rollout [steps]: must be percentages from 1 to 100; got [0, 50, 100]. "
            "Use whole percentages, e.g. [10, 50, 100]."
        ],
        id="step-zero",
    ),
    pytest.param(
        "serving.services.0.rollout.steps",
        [10, "half", 100],
        [
            f"{S0}.rollout [steps[1]]: must be a whole number; got 'half'. "
            "List ascending traffic percentages ending at 100, e.g. [10, 50, 100]."
        ],
        id="step-not-number",
    ),
    pytest.param(
        "serving.services.0.rollout.bakeSeconds",
        -1,
        [
            f"{S0}.rollout [bakeSeconds]: must be at least 0; got -1. "
            "Set the seconds each step is watched before the next, e.g. 300."
        ],
        id="bake-negative",
    ),
    pytest.param(
        "serving.services.0.rollout.maxErrorRate",
        1.5,
        [
            f"{S0}.rollout [maxErrorRate]: must be at most 1; got 1.5. "
            "Set the error ratio (0-1) above which a step is reverted, e.g. 0.01."
        ],
        id="error-rate-above-one",
    ),
    pytest.param(
        "serving.services.0.rollout.maxP95LatencyMs",
        0,
        [
            f"{S0}.rollout [maxP95LatencyMs]: must be greater than 0; got 0. "
            "Set the P95 latency in milliseconds above which a step is reverted, e.g. 250."
        ],
        id="latency-zero",
    ),
    pytest.param(
        "serving.services.0.registryVersions",
        {"v7": "v7"},
        [
            f"{S0} [registryVersions.v7]: must be a model registry version major.minor.patch (the registry refuses "
            "anything else); got 'v7'. Map it, e.g. registryVersions: {v7: 1.0.0}."
        ],
        id="registry-version-not-semver",
    ),
    pytest.param(
        "serving.services.0.registryVersions",
        {"v6": "7.0.0"},
        [
            f"{S0} [registryVersions.v7]: maps to 7.0.0, which v6 already uses; got '7.0.0'. "
            "Give every version its own registry version."
        ],
        id="registry-version-twice",
    ),
    pytest.param(
        "serving.services.0.versions",
        ["v6", "v7", "beta"],
        [
            f"{S0} [registryVersions.beta]: must be a model registry version major.minor.patch (the registry refuses "
            "anything else); 'beta' is not v<N>, so it needs one; got 'beta'. Map it, e.g. registryVersions: "
            "{beta: 1.0.0}.",
            f"{S0} [codeCommits]: has no code commit for beta, so the model registry could not trace them to code; "
            "got {'v6': '9f1c2ab7', 'v7': '4be2c1d9'}. Add codeCommits: {<version>: <commit>}, or train the version "
            "as a run of that id under pai-mlops:training.",
        ],
        id="registry-version-unmapped",
    ),
    pytest.param(
        "serving.services.0.minInstance",
        1,
        [
            f"{S0} [minInstance]: is not a known key; got a value not shown here. Did you mean 'minInstances'? "
            "Known keys here: "
            "activationReplicas, burst, codeCommits, codeRepository, container, contracts, cpu, cpuPercent, cron, "
            "easPrefix, gpu, instanceType, live, maxInstances, memoryMb, minInstances, name, processor, promoted, "
            "qpsPerInstance, readyTimeoutMinutes, registryVersions, resourceGroup, retrainedBy, rollout, "
            "scaleInCooldownSeconds, scaleUpWindowSeconds, versions, vpc, zeroGraceSeconds."
        ],
        id="service-unknown-key",
    ),
    pytest.param(
        "serving.services.0.rollout.bakeSeconds",
        DELETE,
        [
            f"{S0}.rollout [bakeSeconds]: is required in prod (dev falls back to a default; prod never inherits "
            "dev defaults); got nothing. Set the seconds each step is watched before the next, e.g. 300. "
            "Set it explicitly in Pulumi.prod.yaml (dev uses 60)."
        ],
        id="prod-bake-missing",
    ),
]


@pytest.mark.parametrize(("path", "value", "expected"), BAD_INPUTS)
def test_bad_input_is_reported_with_exact_message(path: str, value: Any, expected: list[str]) -> None:
    assert problems_of(edited(path, value)) == expected


@pytest.mark.parametrize(
    ("container", "expected"),
    [
        (
            {"image": "registry.example.com/acme/x:latest", "port": 8000, "command": "serve"},
            f"{S0}.container [image]: must name an immutable tag or digest; got 'registry.example.com/acme/x:latest'. "
            "Pin the image to a version tag or '@sha256:' digest; never 'latest' or no tag.",
        ),
        (
            {"image": "registry.example.com:5000/acme/x", "port": 8000, "command": "serve"},
            f"{S0}.container [image]: must name an immutable tag or digest; got 'registry.example.com:5000/acme/x'. "
            "Pin the image to a version tag or '@sha256:' digest; never 'latest' or no tag.",
        ),
        (
            {"image": "r/x:1.0", "port": 8080, "command": "serve"},
            f"{S0}.container [port]: is reserved by the EAS engine; got 8080. Listen on another port, e.g. 8000.",
        ),
    ],
    ids=["image-latest", "image-untagged-registry-port", "port-reserved"],
)
def test_bad_container_is_reported(container: dict[str, Any], expected: str) -> None:
    raw = edited("serving.services.0.container", container)
    del raw["serving"]["services"][0]["processor"]
    assert problems_of(raw) == [expected]


def test_duplicate_service_names_are_reported_at_the_second_use() -> None:
    raw = copy.deepcopy(VALID_RAW)
    raw["serving"]["services"].append(copy.deepcopy(raw["serving"]["services"][0]))
    assert problems_of(raw) == [
        "pai-mlops:serving.services[1] [name]: is already used by services[0]; got 'fraud_scorer'. "
        "Give every served model its own name."
    ]


def test_every_problem_is_listed_in_one_error_even_across_mistyped_keys() -> None:
    raw = edited("serving.services.0.maxInstances", "many")  # a type error in the service ...
    raw["serving"]["services"][0]["live"] = "v9"  # ... does not hide its cross-key problems
    raw["storage"]["bucketName"] = "Bad"
    with pytest.raises(StackConfigError) as caught:
        parse_stack_config(raw, "prod")
    assert [(p.where, p.key) for p in caught.value.problems] == [
        ("pai-mlops:storage", "bucketName"),
        (S0, "maxInstances"),
        (S0, "live"),
    ]
    assert str(caught.value).splitlines()[0] == "Stack 'prod' has invalid configuration (Pulumi.prod.yaml), 3 problems:"


def test_prod_must_set_every_key_that_has_a_dev_default() -> None:
    raw = copy.deepcopy(VALID_RAW)
    del raw["storage"]["checkpointRetentionDays"]
    service = raw["serving"]["services"][0]
    for key in ("minInstances", "resourceGroup", "rollout"):
        del service[key]
    missing = [(p.where, p.key, p.problem.startswith("is required in prod")) for p in parse_errors(raw, "prod")]
    assert missing == [
        ("pai-mlops:storage", "checkpointRetentionDays", True),
        (S0, "resourceGroup", True),
        (S0, "minInstances", True),
        (S0, "rollout", True),
    ]


def test_dev_fills_dev_defaults_and_safe_defaults() -> None:
    raw = copy.deepcopy(VALID_RAW)
    raw["environment"] = "dev"
    del raw["storage"]["checkpointRetentionDays"]
    service = raw["serving"]["services"][0]
    for key in ("minInstances", "resourceGroup", "rollout"):
        del service[key]
    config = parse_stack_config(raw, "dev")
    assert config.storage.checkpoint_retention_days == 30
    assert config.storage.access_log_retention_days == 365
    assert config.serving.services[0] == ModelServiceConfig(
        name="fraud_scorer",
        processor="pmml",
        instance_type="ecs.c7.large",
        resource_group="shared",
        min_instances=0,
        max_instances=4,
        qps_per_instance=20.0,
        scale_in_cooldown_seconds=300,
        versions=("v6", "v7"),
        live="v7",
        code_repository="https://github.com/acme/fraud-models.git",
        code_commits={"v6": "9f1c2ab7", "v7": "4be2c1d9"},
        rollout=RolloutConfig(steps=(10, 50, 100), bake_seconds=60, max_p95_latency_ms=1000.0, max_error_rate=0.05),
    )


def test_valid_prod_parses_to_exact_frozen_values() -> None:
    config = parse_stack_config(copy.deepcopy(VALID_RAW), "prod")
    assert isinstance(config, StackConfig)
    assert (config.environment, config.owner, config.cost_center, config.region) == (
        "prod",
        "ml-platform",
        "cc-1",
        "cn-hangzhou",
    )
    assert config.tags == {"environment": "prod", "owner": "ml-platform", "cost-center": "cc-1"}
    assert config.protect_stateful is True
    assert config.name_prefix == "pai-mlops-prod"
    assert config.serving.services[0].eas_service_name("v7") == "fraud_scorer_v7"
    with pytest.raises(AttributeError):
        config.owner = "someone else"  # type: ignore[misc]


def test_container_and_dedicated_group_parse() -> None:
    raw = copy.deepcopy(VALID_RAW)
    service = raw["serving"]["services"][0]
    del service["processor"], service["instanceType"]
    service |= {
        "container": {"image": "r.example.com/a/b@sha256:" + "0" * 64, "port": 8000, "command": "serve"},
        "resourceGroup": "eas-r-gpu01",
        "cpu": 8,
        "memoryMb": 30000,
        "gpu": 1,
    }
    parsed = parse_stack_config(raw, "prod").serving.services[0]
    assert parsed.container == ContainerConfig(image="r.example.com/a/b@sha256:" + "0" * 64, port=8000, command="serve")
    assert (parsed.dedicated, parsed.cpu, parsed.memory_mb, parsed.gpu) == (True, 8, 30000, 1)


def test_load_stack_config_reads_pulumi_config(mocks: RecordingMocks) -> None:
    pulumi.runtime.set_all_config(engine_config(), [])
    loaded: list[StackConfig] = []
    run_under_mocks(lambda: loaded.append(load_stack_config()))
    assert loaded == [parse_stack_config(copy.deepcopy(VALID_RAW), "test")]
    assert mocks.registrations == []


def test_load_stack_config_reports_a_string_where_a_mapping_belongs(mocks: RecordingMocks) -> None:
    pulumi.runtime.set_all_config(engine_config(**{"pai-mlops:workspace": "mlops_prod"}), [])
    with pytest.raises(StackConfigError) as caught:
        run_under_mocks(load_stack_config)
    assert [str(p) for p in caught.value.problems] == [
        "pai-mlops [workspace]: must be an object (a YAML mapping); got 'mlops_prod'. Give {name, description}."
    ]
    assert len(BAD_INPUTS) >= 20


# --- training

T0 = "pai-mlops:training.jobs[0]"
SPOT_JOB: dict[str, Any] = {
    "name": "fraud_scorer",
    "run": "r20261124",
    "jobType": "PyTorchJob",
    "image": "registry.cn-hangzhou.aliyuncs.com/acme-ml/fraud-train:2.3.0",
    "command": "python -m fraud.train",
    "resourceGroup": "shared",
    "instanceType": "ecs.gn6i-c4g1.xlarge",
    "spot": True,
    "spotDiscountLimit": 0.6,
    "checkpointIntervalMinutes": 15,
    "maxRuntimeMinutes": 240,
    "wait": "running",  # waiting for completion would not fit the deploy job (config_scale)
}


def with_jobs(*jobs: dict[str, Any], environment: str = "prod") -> dict[str, Any]:
    return {**copy.deepcopy(VALID_RAW), "environment": environment, "training": {"jobs": list(jobs)}}


def test_a_spot_training_job_parses_with_its_defaults() -> None:
    [job] = parse_stack_config(with_jobs(SPOT_JOB), "prod").training.jobs
    assert job == TrainingJobConfig(
        name="fraud_scorer",
        run="r20261124",
        job_type="PyTorchJob",
        image="registry.cn-hangzhou.aliyuncs.com/acme-ml/fraud-train:2.3.0",
        command="python -m fraud.train",
        worker_count=1,
        roles={},
        resource_group="shared",
        instance_type="ecs.gn6i-c4g1.xlarge",
        resources=None,
        spot=True,
        spot_discount_limit=0.6,
        checkpoint_interval_minutes=15,
        max_runtime_minutes=240,
        queue_timeout_minutes=60,
        data=(),
        code=None,
        wait="running",
        max_resubmits=0,
        resubmit_on="preemption",
        env={},
        description="",
        tags={},
        delete_records=False,
    )
    assert not job.dedicated


def test_dev_trains_on_shared_resources_by_default_and_prod_must_say_where() -> None:
    job = {k: v for k, v in SPOT_JOB.items() if k != "resourceGroup"}
    assert parse_stack_config(with_jobs(job, environment="dev"), "dev").training.jobs[0].resource_group == "shared"
    [(where, key, problem)] = [(p.where, p.key, p.problem) for p in parse_errors(with_jobs(job))]
    assert (where, key, problem.startswith("is required in prod")) == (T0, "resourceGroup", True)


def test_a_dedicated_quota_job_parses_with_pod_resources() -> None:
    job = {
        **SPOT_JOB,
        "resourceGroup": "quota1a2b3c",
        "instanceType": None,
        "spot": False,
        "spotDiscountLimit": None,
        "resources": {"cpu": 16, "memoryGb": 60, "gpu": 1, "gpuType": "Tesla-V100-16G"},
        "code": {"repository": "https://github.com/acme/fraud-models.git", "commit": "4be2c1d9"},
        "data": [{"path": "fraud/transactions/", "mountPath": "/mnt/data/transactions"}],
    }
    [parsed] = parse_stack_config(with_jobs({k: v for k, v in job.items() if v is not None}), "prod").training.jobs
    assert parsed.dedicated
    assert parsed.resources == PodResourcesConfig(cpu=16, memory_gb=60, gpu=1, gpu_type="Tesla-V100-16G")
    assert parsed.code == CodeConfig(
        repository="https://github.com/acme/fraud-models.git", commit="4be2c1d9", branch="main", user_name=None
    )


BAD_TRAINING = [
    pytest.param(
        {"instanceType": None},
        [
            f"{T0} [instanceType]: is required on shared resources; got nothing. Give an ECS instance type, e.g. "
            "'ecs.gn6i-c4g1.xlarge'."
        ],
        id="shared-without-instance-type",
    ),
    pytest.param(
        {"resourceGroup": "quota1a2b3c"},
        [
            f"{T0} [instanceType]: applies to shared resources only; got 'ecs.gn6i-c4g1.xlarge'. Remove it and size "
            "pods with resources {cpu, memoryGb} on the quota.",
            f"{T0} [resources]: is required on a dedicated resource quota; got nothing. Give resources {{cpu, "
            "memoryGb[, gpu, gpuType]} per pod.",
            f"{T0} [spot]: needs shared resources; got True. Use resourceGroup 'shared' with an instanceType, or turn "
            "spot off on the quota.",
        ],
        id="quota-with-shared-settings",
    ),
    pytest.param(
        {"spotDiscountLimit": None, "jobType": "TFJob"},
        [
            f"{T0} [spotDiscountLimit]: is required with spot; got nothing. Set the most to pay as a fraction of the "
            "on-demand price, e.g. 0.6.",
            f"{T0} [spot]: is not offered for TFJob on shared resources (PyTorchJob only); got True. Turn spot off, "
            "or train with PyTorchJob.",
        ],
        id="spot-needs-limit-and-pytorch",
    ),
    pytest.param(
        {"roles": {"PS": 1}},
        [
            f"{T0} [roles]: names 'PS', which PyTorchJob does not have; got {{'PS': 1}}. "
            "Use Worker (workerCount) and Master."
        ],
        id="role-of-another-job-type",
    ),
    pytest.param(
        {"env": {"PAI_MLOPS_RESUME_FROM": "/x"}},
        [
            f"{T0} [env]: sets PAI_MLOPS_RESUME_FROM, which pai-mlops sets itself; got ['PAI_MLOPS_RESUME_FROM']. "
            "Rename the variables; PAI_MLOPS_* tell the training code where to read and write."
        ],
        id="reserved-env",
    ),
    pytest.param(
        {"image": "registry.cn-hangzhou.aliyuncs.com/acme-ml/fraud-train"},
        [
            f"{T0} [image]: must name an immutable tag or digest; got "
            "'registry.cn-hangzhou.aliyuncs.com/acme-ml/fraud-train'. Pin the image to a version tag or '@sha256:' "
            "digest; never 'latest' or no tag."
        ],
        id="unpinned-image",
    ),
    pytest.param(
        {"data": [{"path": "a/", "mountPath": "/mnt/checkpoints"}, {"path": "../b/", "mountPath": "/mnt/x"}]},
        [
            f"{T0}.data[1] [path]: must be a relative folder such as 'fraud/transactions/'; got '../b/'. Give a "
            "folder under data/, e.g. 'fraud/transactions/'.",
            f"{T0}.data[0] [mountPath]: is already used by pai-mlops (models or checkpoints); got '/mnt/checkpoints'. "
            "Mount every data folder at its own path under /mnt, e.g. /mnt/data/<name>.",
        ],
        id="data-paths",
    ),
    pytest.param(
        {"code": {"repository": "git@github.com:acme/x.git", "commit": "main"}},
        [
            f"{T0}.code [repository]: must be an https:// Git URL; got 'git@github.com:acme/x.git'. Give the HTTPS "
            "clone URL, e.g. 'https://github.com/acme/fraud-models.git'.",
            f"{T0}.code [commit]: must be a commit id of 7-40 hex digits; got 'main'. Pin the run to a commit (7-40 "
            "hex digits), so the model traces back to its code.",
        ],
        id="code-unpinned",
    ),
    pytest.param(
        {"maxRuntimeMinutes": None, "wait": "forever"},
        [
            f"{T0} [maxRuntimeMinutes]: is required; got nothing. Set the longest one attempt may run, in minutes, "
            "e.g. 240.",
            f"{T0} [wait]: must be one of 'none', 'running' or 'completed'; got 'forever'. Write completed (resume "
            "after preemption while pulumi up waits), running or none.",
        ],
        id="runtime-and-wait",
    ),
]


@pytest.mark.parametrize(("changes", "expected"), BAD_TRAINING)
def test_bad_training_input_is_reported_with_exact_message(changes: dict[str, Any], expected: list[str]) -> None:
    job = {k: v for k, v in {**SPOT_JOB, **changes}.items() if v is not None}
    assert problems_of(with_jobs(job)) == expected


def test_training_job_names_are_unique() -> None:
    assert problems_of(with_jobs(SPOT_JOB, {**SPOT_JOB, "run": "r2"})) == [
        "pai-mlops:training.jobs[1] [name]: is already used by jobs[0]; got 'fraud_scorer'. Give every training job "
        "its own name; change run to start a new run of the same job."
    ]


# --- serving: contracts, metrics, scaling


def test_one_group_serves_one_major_contract_unless_a_breaking_change_is_allowed() -> None:
    raw = edited("serving.services.0.contracts", {"v6": "v1.4", "v7": "v2.0"})
    assert problems_of(raw) == [
        f"{S0} [contracts]: mixes major API versions in one service group (v6 v1.4, v7 v2.0), so a release or "
        "rollback would send clients a schema they do not expect; got {'v6': 'v1.4', 'v7': 'v2.0'}. Serve the new "
        "major version as a new service (its own group), or set rollout.allowBreakingChange if every client "
        "handles both."
    ]
    raw["serving"]["services"][0]["rollout"]["allowBreakingChange"] = True
    assert parse_stack_config(raw, "prod").serving.services[0].rollout.allow_breaking_change is True


def test_contracts_cover_every_version_and_name_a_major() -> None:
    assert problems_of(edited("serving.services.0.contracts", {"v6": "v1.4"})) == [
        f"{S0} [contracts]: has no contract for v7; got {{'v6': 'v1.4'}}. Declare the API contract of every "
        "version, e.g. {v6: v1.4, v7: v1.5}."
    ]
    assert problems_of(edited("serving.services.0.contracts", {"v6": "beta", "v7": "v1"})) == [
        f"{S0} [contracts]: gives v6 a contract without a major version; got {{'v6': 'beta', 'v7': 'v1'}}. "
        "Write contract versions as v<major>[.<minor>], e.g. v2 or v2.1."
    ]


def test_prometheus_metrics_need_an_endpoint() -> None:
    assert problems_of(edited("serving.metrics", {"source": "prometheus"})) == [
        "pai-mlops:serving.metrics [endpoint]: is required with source prometheus; got nothing. Give the Prometheus "
        "HTTP API base URL, e.g. 'https://prometheus.example.com'."
    ]
    config = parse_stack_config(
        edited("serving.metrics", {"source": "prometheus", "endpoint": "https://prom.example.com"}), "prod"
    )
    assert config.serving.metrics.endpoint == "https://prom.example.com"


def test_cron_schedules_have_six_fields() -> None:
    cron = [{"name": "peak", "schedule": "0 8 * * 1-5", "targetSize": 4}]
    assert problems_of(edited("serving.services.0.cron", cron)) == [
        f"{S0}.cron[0] [schedule]: must be 6 cron fields (second minute hour day month weekday); got "
        "'0 8 * * 1-5'. Give 6 cron fields: second minute hour day month weekday, e.g. '0 0 8 * * 1-5'."
    ]


# --- notebooks and provenance


def test_every_served_version_needs_a_code_commit_or_a_training_run() -> None:
    raw = edited("serving.services.0.codeCommits", {"v6": "9f1c2ab7"})
    assert problems_of(raw) == [
        f"{S0} [codeCommits]: has no code commit for v7, so the model registry could not trace them to code; got "
        "{'v6': '9f1c2ab7'}. Add codeCommits: {<version>: <commit>}, or train the version as a run of that id under "
        "pai-mlops:training."
    ]
    job = {
        **SPOT_JOB,
        "run": "v7",
        "code": {"repository": "https://github.com/acme/fraud-models.git", "commit": "abc1234"},
    }
    raw["training"] = {"jobs": [job]}
    assert parse_stack_config(raw, "prod").serving.services[0].code_commits == {"v6": "9f1c2ab7"}


def test_notebooks_need_one_image_a_machine_and_a_short_name() -> None:
    raw = copy.deepcopy(VALID_RAW)
    raw["notebook"] = {
        "instances": [
            {"name": "a_very_long_person_name", "resourceGroup": "shared", "idleShutdownMinutes": 60},
            {"name": "bob", "resourceGroup": "rg-1", "imageId": "img", "imageUrl": "r/x:1", "idleShutdownMinutes": 60},
        ]
    }
    assert problems_of(raw) == [
        "pai-mlops:notebook.instances[0] [name]: makes the DSW instance name mlops_prod_a_very_long_person_name "
        "longer than 27 characters; got 'a_very_long_person_name'. Shorten the notebook name.",
        "pai-mlops:notebook.instances[0] [imageUrl]: or imageId is required, not both; got None. Give a custom image "
        "(imageUrl) or a built-in DSW image (imageId).",
        "pai-mlops:notebook.instances[0] [instanceType]: is required on shared resources; got nothing. Give an ECS "
        "type, e.g. 'ecs.g6.xlarge' (CPU) or 'ecs.gn6i-c4g1.xlarge' (GPU).",
        "pai-mlops:notebook.instances[1] [imageUrl]: or imageId is required, not both; got 'r/x:1'. Give a custom "
        "image (imageUrl) or a built-in DSW image (imageId).",
        "pai-mlops:notebook.instances[1] [resources]: is required on a dedicated resource group; got nothing. Give "
        "resources {cpu, memoryGb[, gpu, gpuType]}.",
    ]


def test_prod_notebooks_must_set_their_idle_shutdown() -> None:
    raw = copy.deepcopy(VALID_RAW)
    raw["notebook"] = {
        "instances": [{"name": "ann", "resourceGroup": "shared", "instanceType": "ecs.g6.xlarge", "imageId": "i"}]
    }
    [(where, key)] = [(p.where, p.key) for p in parse_errors(raw)]
    assert (where, key) == ("pai-mlops:notebook.instances[0]", "idleShutdownMinutes")


def test_gpu_types_are_refused_unless_in_the_form_each_api_documents() -> None:
    job = {
        **SPOT_JOB,
        "resourceGroup": "quota1a2b3c",
        "instanceType": None,
        "spot": False,
        "spotDiscountLimit": None,
        "resources": {"cpu": 16, "memoryGb": 60, "gpu": 1, "gpuType": "NVIDIA A10"},
    }
    raw = with_jobs({k: v for k, v in job.items() if v is not None})
    raw["notebook"] = {
        "instances": [
            {
                "name": "ann",
                "resourceGroup": "rg-1",
                "imageId": "img",
                "idleShutdownMinutes": 60,
                "resources": {"cpu": 8, "memoryGb": 32, "gpu": 1, "gpuType": "Tesla-V100-16G"},
            }
        ]
    }
    assert problems_of(raw) == [
        "pai-mlops:training.jobs[0].resources [gpuType]: is not a DLC GPU type name (the ResourceConfig doc's example "
        "is 'Tesla-V100-16G': hyphen-separated, no spaces); got 'NVIDIA A10'. Write the quota's GPU type as DLC "
        "names it, e.g. 'Tesla-V100-16G', or leave gpuType out.",
        "pai-mlops:notebook.instances[0].resources [gpuType]: is not one of DSW's GPU types V100, A100, T4, A10, P100; "
        "got 'Tesla-V100-16G'. Write e.g. 'A10' or 'V100', or leave gpuType out.",
    ]


# --- runtime images: the registry's VPC host, and credentials a private image can be pulled with

PERSONAL = {"host": "registry.cn-hangzhou.aliyuncs.com", "namespace": "acme-ml", "repositories": ["tagger", "train"]}
ENTERPRISE = {**PERSONAL, "host": "acme-registry.cn-hangzhou.cr.aliyuncs.com", "instanceId": "cri-acme01"}
TAGGER = {"image": "", "port": 8000, "command": "python -m tagger"}


def with_images(raw: dict[str, Any], registry: dict[str, Any], serving: str) -> dict[str, Any]:
    raw["registry"] = registry
    service = raw["serving"]["services"][0]
    service.pop("processor", None)
    service["container"] = {**TAGGER, "image": serving}
    return raw


def image_problems(raw: dict[str, Any], secrets: frozenset[str] = frozenset()) -> list[str]:
    try:
        parse_stack_config(raw, "prod", secrets)
    except StackConfigError as error:
        return [str(p) for p in error.problems]
    return []


@pytest.mark.parametrize(
    ("host", "vpc"),
    [
        ("registry.cn-hangzhou.aliyuncs.com", "registry-vpc.cn-hangzhou.aliyuncs.com"),
        ("acme-registry.cn-shanghai.cr.aliyuncs.com", "acme-registry-vpc.cn-shanghai.cr.aliyuncs.com"),
        ("acme-registry-vpc.cn-shanghai.cr.aliyuncs.com", "acme-registry-vpc.cn-shanghai.cr.aliyuncs.com"),
        ("r.example.com", "r.example.com"),
    ],
)
def test_vpc_registry_host(host: str, vpc: str) -> None:
    assert vpc_registry_host(host) == vpc


def test_a_runtime_image_on_the_public_host_is_refused(raw: dict[str, Any]) -> None:
    image = "acme-registry.cn-hangzhou.cr.aliyuncs.com/acme-ml/tagger:1.0.0"
    assert image_problems(with_images(raw, ENTERPRISE, image)) == [
        f"{S0}.container [image]: pulls over the registry's public endpoint; EAS and DLC pull over its VPC address; "
        f"got '{image}'. Write it as acme-registry-vpc.cn-hangzhou.cr.aliyuncs.com/acme-ml/tagger:1.0.0."
    ]
    assert image_problems(with_images(raw, ENTERPRISE, image.replace("-registry.", "-registry-vpc."))) == []


def test_a_personal_edition_serving_image_needs_the_registry_auth_secret(raw: dict[str, Any]) -> None:
    image = "registry-vpc.cn-hangzhou.aliyuncs.com/acme-ml/tagger:1.0.0"
    assert image_problems(with_images(raw, PERSONAL, image)) == [
        f"{S0}.container [image]: is a private Personal Edition image and EAS gets no credentials for it; got "
        f"'{image}'. Set `pulumi config set --secret registryAuth <base64 of user:password>` (sent as dockerAuth), "
        "or use an Enterprise Edition instance (pai-mlops:registry.instanceId)."
    ]
    assert image_problems(with_images(raw, PERSONAL, image), frozenset({"registryAuth"})) == []


def test_a_personal_edition_training_image_is_refused(raw: dict[str, Any]) -> None:
    image = "registry-vpc.cn-hangzhou.aliyuncs.com/acme-ml/train:1.0.0"
    raw = with_images(raw, PERSONAL, "registry-vpc.cn-hangzhou.aliyuncs.com/acme-ml/tagger:1.0.0")
    raw["training"] = {"jobs": [{"image": image}]}
    found = [p for p in image_problems(raw, frozenset({"registryAuth"})) if "Personal Edition" in p]
    assert found == [
        f"pai-mlops:training.jobs[0] [image]: is a private Personal Edition image, which DLC and PAI Flow cannot pull "
        f"here (no ImageConfig credentials are sent); got '{image}'. Use an Enterprise Edition instance "
        "(pai-mlops:registry.instanceId), as Pulumi.prod.yaml does."
    ]


def test_an_unknown_key_in_a_promoted_or_retrained_by_version_lists_that_versions_keys() -> None:
    raw = edited("serving.services.0.promoted", {"v7": {"from": "staging", "foo": 1}})
    raw["serving"]["services"][0]["retrainedBy"] = {"v7": {"trigger": "drift", "method": "psi", "score": 0.3, "foo": 1}}
    assert problems_of(raw) == [
        f"{S0}.retrainedBy.v7 [foo]: is not a known key; got a value not shown here. "
        "Known keys here: method, score, trigger.",
        f"{S0}.promoted.v7 [foo]: is not a known key; got a value not shown here. Known keys here: from, override.",
    ]
