"""Components under Pulumi's mock engine: exact children, names, parents and inputs."""

from __future__ import annotations

import copy
import json
from typing import Any

import pulumi
import pytest

from components import (
    ArtifactStore,
    ArtifactStoreArgs,
    BlueGreenService,
    BlueGreenServiceArgs,
    CodeRepositories,
    CodeRepositoriesArgs,
    MlWorkspace,
    MlWorkspaceArgs,
    ModelRegistry,
    ModelRegistryArgs,
    ModelService,
    ModelServiceArgs,
    Notebooks,
    NotebooksArgs,
    ServiceRoles,
    ServiceRolesArgs,
    TrainedRun,
    Training,
    TrainingArgs,
)
from components.code import repository_slug
from components.eas_config import service_config
from stack_config import MetricsConfig, ModelServiceConfig, RepositoryConfig, TrainingJobConfig, parse_stack_config
from tests.conftest import VALID_RAW
from tools.mock_engine import RecordingMocks, Registration, run_under_mocks


def children(mocks: RecordingMocks, parent_type: str, parent_name: str) -> list[tuple[str, str]]:
    parent = mocks.one(parent_type, parent_name)
    assert parent.parent_urn == mocks.stack_urn == "urn:pulumi:test::pai-mlops::pulumi:pulumi:Stack::pai-mlops-test"
    return sorted((r.type, r.name) for r in mocks.registrations if r.parent_urn == parent.urn)


def store(mocks: RecordingMocks, *, kms: bool, protect: bool = False) -> None:
    args = ArtifactStoreArgs(
        bucket_name="acme-pai-dev",
        kms_encryption=kms,
        checkpoint_retention_days=14,
        access_log_retention_days=90,
        resource_group_id="rg-123",
        protect=protect,
    )
    run_under_mocks(lambda: ArtifactStore("artifacts", args))


def test_artifact_store_children(mocks: RecordingMocks) -> None:
    store(mocks, kms=True)
    assert children(mocks, "pai-mlops:storage:ArtifactStore", "artifacts") == [
        ("alicloud:kms/key:Key", "artifacts-key"),
        ("alicloud:oss/bucket:Bucket", "artifacts-bucket"),
        ("alicloud:oss/bucketAcl:BucketAcl", "artifacts-acl"),
        ("alicloud:oss/bucketLogging:BucketLogging", "artifacts-logging"),
        ("alicloud:oss/bucketPublicAccessBlock:BucketPublicAccessBlock", "artifacts-public-access-block"),
        ("alicloud:oss/bucketServerSideEncryption:BucketServerSideEncryption", "artifacts-encryption"),
        ("alicloud:oss/bucketVersioning:BucketVersioning", "artifacts-versioning"),
    ]


def test_artifact_store_bucket_is_private_versioned_kms_encrypted_and_logged(mocks: RecordingMocks) -> None:
    store(mocks, kms=True)
    inputs = {r.name: r.inputs for r in mocks.registrations}
    assert inputs["artifacts-key"] == {
        "automaticRotation": "Enabled",
        "description": "Encrypts OSS bucket acme-pai-dev",
        "keyUsage": "ENCRYPT/DECRYPT",
        "pendingWindowInDays": 30,
        "rotationInterval": "365d",
    }
    assert inputs["artifacts-acl"] == {"acl": "private", "bucket": "acme-pai-dev"}
    assert inputs["artifacts-public-access-block"] == {"blockPublicAccess": True, "bucket": "acme-pai-dev"}
    assert inputs["artifacts-versioning"] == {"bucket": "acme-pai-dev", "status": "Enabled"}
    assert inputs["artifacts-encryption"] == {
        "bucket": "acme-pai-dev",
        "kmsMasterKeyId": "artifacts-key-id",
        "sseAlgorithm": "KMS",
    }
    assert inputs["artifacts-logging"] == {
        "bucket": "acme-pai-dev",
        "targetBucket": "acme-pai-dev",
        "targetPrefix": "access-logs/",
    }


def test_artifact_store_lifecycle_expires_checkpoints_and_logs_only(mocks: RecordingMocks) -> None:
    store(mocks, kms=False)
    bucket = mocks.one("alicloud:oss/bucket:Bucket", "artifacts-bucket").inputs
    assert (bucket["bucket"], bucket["storageClass"], bucket["resourceGroupId"]) == (
        "acme-pai-dev",
        "Standard",
        "rg-123",
    )
    assert bucket["lifecycleRules"] == [
        {
            "enabled": True,
            "expirations": [{"days": 14}],
            "id": "expire-checkpoints",
            "noncurrentVersionExpirations": [{"days": 7}],
            "prefix": "checkpoints/",
        },
        {
            "enabled": True,
            "expirations": [{"days": 90}],
            "id": "expire-access-logs",
            "noncurrentVersionExpirations": [{"days": 7}],
            "prefix": "access-logs/",
        },
        {"abortMultipartUploads": [{"days": 7}], "enabled": True, "id": "abort-incomplete-uploads", "prefix": ""},
    ]


def test_artifact_store_without_kms_uses_aes256_and_no_key(mocks: RecordingMocks) -> None:
    store(mocks, kms=False)
    assert mocks.by_type("alicloud:kms/key:Key") == []
    assert mocks.one(
        "alicloud:oss/bucketServerSideEncryption:BucketServerSideEncryption", "artifacts-encryption"
    ).inputs == {
        "bucket": "acme-pai-dev",
        "sseAlgorithm": "AES256",
    }


def role_inputs(mocks: RecordingMocks) -> dict[str, Registration]:
    return {r.name: r for r in mocks.registrations if r.type.startswith("alicloud:ram/")}


def test_service_roles_children_and_least_privilege_documents(mocks: RecordingMocks) -> None:
    args = ServiceRolesArgs(bucket_name="acme-pai-dev", name_prefix="pai-mlops-dev")
    run_under_mocks(lambda: ServiceRoles("roles", args))
    assert children(mocks, "pai-mlops:identity:ServiceRoles", "roles") == sorted(
        [
            (f"alicloud:ram/{kind}", f"roles-{role}{suffix}")
            for role in ("dsw", "dlc", "eas")
            for kind, suffix in (
                ("role:Role", ""),
                ("policy:Policy", "-oss"),
                ("rolePolicyAttachment:RolePolicyAttachment", "-oss"),
            )
        ]
    )
    ram = role_inputs(mocks)
    assert json.loads(ram["roles-dlc"].inputs["assumeRolePolicyDocument"]) == {
        "Version": "1",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": ["pai.aliyuncs.com"]}}],
    }
    assert ram["roles-dlc"].inputs["roleName"] == "pai-mlops-dev-dlc"
    assert ram["roles-dlc"].inputs["maxSessionDuration"] == 3600
    dsw = json.loads(
        next(r for r in mocks.by_type("alicloud:ram/policy:Policy") if r.name == "roles-dsw-oss").inputs[
            "policyDocument"
        ]
    )
    assert dsw == {
        "Version": "1",
        "Statement": [
            {"Effect": "Allow", "Action": ["oss:GetObject"], "Resource": ["acs:oss:*:*:acme-pai-dev/data/*"]},
            {
                "Effect": "Allow",
                "Action": ["oss:ListObjects"],
                "Resource": ["acs:oss:*:*:acme-pai-dev"],
                "Condition": {"StringLike": {"oss:Prefix": ["data/*"]}},
            },
        ],
    }
    attachment = next(
        r for r in mocks.by_type("alicloud:ram/rolePolicyAttachment:RolePolicyAttachment") if r.name == "roles-eas-oss"
    )
    assert attachment.inputs == {
        "policyName": "pai-mlops-dev-eas-oss",
        "policyType": "Custom",
        "roleName": "pai-mlops-dev-eas",
    }


def test_the_dlc_role_writes_only_its_runs_and_never_a_deployed_version(mocks: RecordingMocks) -> None:
    args = ServiceRolesArgs(
        bucket_name="b1",
        name_prefix="pai-mlops-dev",
        training_runs=(("fraud", "v7"),),  # a run named like a served version: the Deny still wins
        deployed_versions=(("fraud", "v6"), ("fraud", "v7")),
    )
    run_under_mocks(lambda: ServiceRoles("roles", args))
    documents = {r.name: json.loads(r.inputs["policyDocument"]) for r in mocks.by_type("alicloud:ram/policy:Policy")}
    dlc = documents["roles-dlc-oss"]["Statement"]
    assert dlc[2]["Resource"] == ["acs:oss:*:*:b1/models/fraud/v7/*", "acs:oss:*:*:b1/checkpoints/fraud/v7/*"]
    assert dlc[-1] == {
        "Effect": "Deny",
        "Action": ["oss:PutObject", "oss:DeleteObject"],
        "Resource": ["acs:oss:*:*:b1/models/fraud/v6/*", "acs:oss:*:*:b1/models/fraud/v7/*"],
    }
    # Readers get no Deny statement: they cannot write anyway.
    assert all(s["Effect"] == "Allow" for s in documents["roles-eas-oss"]["Statement"])


def test_service_roles_with_kms_key_get_key_policies(mocks: RecordingMocks) -> None:
    arn = "acs:kms:cn-hangzhou:123456789012:key/key-1"
    args = ServiceRolesArgs(
        bucket_name="acme-pai-dev", name_prefix="pai-mlops-dev", kms_key_arn=arn, training_runs=(("m", "r1"),)
    )
    run_under_mocks(lambda: ServiceRoles("roles", args))
    documents = {r.name: json.loads(r.inputs["policyDocument"]) for r in mocks.by_type("alicloud:ram/policy:Policy")}
    assert documents["roles-dlc-kms"]["Statement"] == [
        {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": [arn]}
    ]
    assert documents["roles-eas-kms"]["Statement"] == [
        {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [arn]}
    ]
    actions = [a for doc in documents.values() for s in doc["Statement"] for a in s["Action"]]
    assert "*" not in "".join(actions)


def test_ml_workspace_children(mocks: RecordingMocks) -> None:
    run_under_mocks(lambda: MlWorkspace("workspace", MlWorkspaceArgs(workspace_name="mlops_dev", description="")))
    assert children(mocks, "pai-mlops:workspace:MlWorkspace", "workspace") == [
        ("alicloud:pai/workspaceWorkspace:WorkspaceWorkspace", "workspace-ws"),
        ("alicloud:resourcemanager/resourceGroup:ResourceGroup", "workspace-rg"),
    ]
    assert mocks.one("alicloud:resourcemanager/resourceGroup:ResourceGroup", "workspace-rg").inputs == {
        "displayName": "pai-mlops mlops_dev",
        "resourceGroupName": "mlops-dev-rg",
    }
    assert mocks.one("alicloud:pai/workspaceWorkspace:WorkspaceWorkspace", "workspace-ws").inputs == {
        "description": "pai-mlops workspace mlops_dev",
        "displayName": "mlops_dev",
        "envTypes": ["prod"],
        "resourceGroupId": "workspace-rg-id",
        "workspaceName": "mlops_dev",
    }


def served(**changes: Any) -> ModelServiceConfig:
    raw = copy.deepcopy(VALID_RAW)
    service = raw["serving"]["services"][0]
    for key, value in changes.items():
        if value is None:
            service.pop(key)
        else:
            service[key] = value
    return parse_stack_config(raw, "prod").serving.services[0]


EAS_SERVICE = "pulumi-python:dynamic/pai:EasService"
ROLE = "acs:ram::1234567890123456:role/mlops-prod-eas"


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


# --- Training


def training_job(**changes: Any) -> TrainingJobConfig:
    job: dict[str, Any] = {
        "name": "fraud_scorer",
        "run": "r20261124",
        "jobType": "PyTorchJob",
        "image": "registry.cn-hangzhou.aliyuncs.com/acme-ml/fraud-train:2.3.0",
        "command": "python -m fraud.train",
        "workerCount": 2,
        "roles": {"Master": 1},
        "resourceGroup": "shared",
        "instanceType": "ecs.gn6i-c4g1.xlarge",
        "spot": True,
        "spotDiscountLimit": 0.6,
        "checkpointIntervalMinutes": 15,
        "maxRuntimeMinutes": 240,
        "data": [{"path": "fraud/transactions/", "mountPath": "/mnt/data/transactions"}],
        "code": {"repository": "https://github.com/acme/fraud-models.git", "commit": "4be2c1d9"},
        "maxResubmits": 3,
        "env": {"EPOCHS": "20"},
        "tags": {"team": "fraud"},
    }
    for key, value in changes.items():
        if value is None:
            job.pop(key)
        else:
            job[key] = value
    return parse_stack_config({**VALID_RAW, "training": {"jobs": [job]}}, "prod").training.jobs[0]


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
        "wait": "completed",
        "max_resubmits": 3,
        "resubmit_on": "preemption",
        "env": {"EPOCHS": "20"},
        "tags": {"team": "fraud"},
        "description": "",
        "poll_seconds": 30,
        "delete_records": False,
    }


def test_code_repositories_register_each_repository_once_with_a_secret_token(mocks: RecordingMocks) -> None:
    repo = RepositoryConfig(repository="https://github.com/acme/fraud-models.git", branch="main", user_name="ci")
    args = CodeRepositoriesArgs(
        repositories={repo.repository: repo},
        workspace_id="ws-1",
        access_token=pulumi.Output.secret("ghp-s3cr3t"),
    )
    run_under_mocks(lambda: CodeRepositories("code", args))
    assert repository_slug(repo.repository) == "fraud-models-" + repository_slug(repo.repository)[-6:]
    code = mocks.one("alicloud:pai/workspaceCodeSource:WorkspaceCodeSource", f"code-{repository_slug(repo.repository)}")
    assert code.additional_secret_outputs == ("codeRepoAccessToken",)
    assert code.properties["codeRepoAccessToken"] == {
        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
        "value": "ghp-s3cr3t",
    }
    assert {k: v for k, v in code.inputs.items() if k != "codeRepoAccessToken"} == {
        "accessibility": "PRIVATE",
        "codeBranch": "main",
        "codeRepo": "https://github.com/acme/fraud-models.git",
        "codeRepoUserName": "ci",
        "description": "Git repository https://github.com/acme/fraud-models.git",
        "displayName": repository_slug(repo.repository),
        "mountPath": "/root/code",
        "workspaceId": "ws-1",
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


# --- BlueGreenService


def blue_green(mocks: RecordingMocks, token: str | None = None, **changes: Any) -> None:
    svc = served(contracts={"v6": "v1.4", "v7": "v1.5"}, **changes)
    args = BlueGreenServiceArgs(
        service=svc,
        bucket_name="acme-pai-prod",
        workspace_id="ws-1",
        metrics=MetricsConfig(),
        token=pulumi.Output.secret(token) if token else None,
    )
    run_under_mocks(lambda: BlueGreenService("fraud_scorer", args))


def test_blue_green_service_children_and_the_order_that_makes_a_release_safe(mocks: RecordingMocks) -> None:
    blue_green(mocks, minInstances=0)
    assert children(mocks, "pai-mlops:serving:BlueGreenService", "fraud_scorer") == [
        ("pai-mlops:serving:ModelService", "fraud_scorer"),
        ("pulumi-python:dynamic/pai:EasAutoscaler", "fraud_scorer-v6-autoscaler"),
        ("pulumi-python:dynamic/pai:EasAutoscaler", "fraud_scorer-v7-autoscaler"),
        ("pulumi-python:dynamic/pai:ServiceEndpoint", "fraud_scorer-endpoint"),
        ("pulumi-python:dynamic/pai:TrafficShift", "fraud_scorer-traffic"),
    ]
    urn = {r.name: r.urn for r in mocks.registrations}
    v6, v7 = urn["fraud_scorer-v6"], urn["fraud_scorer-v7"]
    autoscaler = mocks.one("pulumi-python:dynamic/pai:EasAutoscaler", "fraud_scorer-v7-autoscaler")
    assert autoscaler.dependencies == (v7,)
    endpoint = mocks.one("pulumi-python:dynamic/pai:ServiceEndpoint", "fraud_scorer-endpoint")
    assert sorted(endpoint.dependencies) == sorted((v6, v7))
    shift = mocks.one("pulumi-python:dynamic/pai:TrafficShift", "fraud_scorer-traffic")
    assert sorted(shift.dependencies) == sorted(
        (v6, v7, urn["fraud_scorer-v6-autoscaler"], urn["fraud_scorer-v7-autoscaler"])
    )


def test_blue_green_autoscaler_and_shift_inputs_come_from_the_config(mocks: RecordingMocks) -> None:
    blue_green(mocks, minInstances=0)
    autoscaler = mocks.one("pulumi-python:dynamic/pai:EasAutoscaler", "fraud_scorer-v7-autoscaler").inputs
    assert {k: v for k, v in autoscaler.items() if k != "__provider"} == {
        "service_name": "fraud_scorer_v7",
        "min_instances": 0,
        "max_instances": 4,
        "qps_per_instance": 20.0,
        "scale_in_cooldown_seconds": 300,
        "scale_up_window_seconds": 0,
        "zero_grace_seconds": 600,
        "activation_replicas": 1,
        "cron": [],
        "exclude_dates": [],
    }
    shift = mocks.one("pulumi-python:dynamic/pai:TrafficShift", "fraud_scorer-traffic").inputs
    assert {k: v for k, v in shift.items() if k != "__provider"} == {
        "group": "fraud_scorer",
        "services": {"v6": "fraud_scorer_v6", "v7": "fraud_scorer_v7"},
        "live": "v7",
        "steps": [10, 50, 100],
        "bake_seconds": 300,
        "check_interval_seconds": 30,
        "max_p95_latency_ms": 150.0,
        "max_error_rate": 0.01,
        "min_requests": 50,
        "no_data": "fail",
        "max_bake_extensions": 2,
        "rollback_without_bake": True,
        "shadow_percent": 0,
        "shadow_seconds": 0,
        "contracts": {"v6": "v1.4", "v7": "v1.5"},
        "allow_breaking_change": False,
        "ready_timeout_seconds": 900,
        "metrics": {
            "source": "cloudmonitor",
            "namespace": "acs_pai_eas",
            "dimension": "serviceName",
            "latency_metric": "TP95ResponseTime",
            "error_metric": "5xxResponseRatio",
            "qps_metric": "QueryPerSecondTotal",
        },
    }


def test_blue_green_tokens_are_secret_outputs_and_a_rotation_token_a_secret_input(mocks: RecordingMocks) -> None:
    blue_green(mocks, token="rotated-token-0123456789")
    endpoint = mocks.one("pulumi-python:dynamic/pai:ServiceEndpoint", "fraud_scorer-endpoint")
    assert endpoint.additional_secret_outputs == ("access_token", "group_access_token", "token")
    assert endpoint.properties["token"] == {
        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
        "value": "rotated-token-0123456789",
    }


# --- Notebooks and the model registry


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
