"""The whole program per stack under mocks, the project files, and the offline plan command."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from config_problems import StackConfigError
from tests.support.program_copy import project_copy
from tools import plan
from tools.mock_engine import MOCK_ACCOUNT_ID, ROOT, run_program, stack_config_values

SCHEMA = ROOT.parent / "shared" / "schemas" / "pulumi-project.schema.json"


def test_pulumi_yaml_matches_the_pulumi_project_schema() -> None:
    if not SCHEMA.is_file():
        pytest.skip(f"{SCHEMA.name} not found beside the project (../shared/schemas/{SCHEMA.name})")
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    jsonschema.validate(project, json.loads(SCHEMA.read_text()))
    assert project["name"] == "pai-mlops"
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_program_registers_the_pipeline(stack: str) -> None:
    mocks = run_program(stack)
    counts = Counter(r.type for r in mocks.registrations)
    assert counts == {
        "pai-mlops:workspace:MlWorkspace": 1,
        "pai-mlops:storage:ArtifactStore": 1,
        "pai-mlops:identity:ServiceRoles": 1,
        "pai-mlops:serving:ModelService": 2,
        "alicloud:resourcemanager/resourceGroup:ResourceGroup": 1,
        "alicloud:pai/workspaceWorkspace:WorkspaceWorkspace": 1,
        "alicloud:kms/key:Key": 1,
        "alicloud:oss/bucket:Bucket": 1,
        "alicloud:oss/bucketAcl:BucketAcl": 1,
        "alicloud:oss/bucketPublicAccessBlock:BucketPublicAccessBlock": 1,
        "alicloud:oss/bucketVersioning:BucketVersioning": 1,
        "alicloud:oss/bucketServerSideEncryption:BucketServerSideEncryption": 1,
        "alicloud:oss/bucketLogging:BucketLogging": 1,
        # DSW, DLC, EAS; the trigger's start role and OSS invocation role; prod: the promotion copy role
        "alicloud:ram/role:Role": 6 if stack == "prod" else 5,
        # prod: the read and write policies of its promotion and the copy role's KMS use, each attached to the role;
        # dev: the trigger's drift check (OSS, and the bucket's KMS key), each attached to the start role
        "alicloud:ram/policy:Policy": {"prod": 11, "dev": 10}.get(stack, 8),
        "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment": {"prod": 11, "dev": 10}.get(stack, 8),
        "pulumi-python:dynamic/pai:EasService": 3,
        "pai-mlops:training:Training": 1,
        "pai-mlops:code:CodeRepositories": 1,
        "alicloud:pai/workspaceCodeSource:WorkspaceCodeSource": 1,
        "pulumi-python:dynamic/pai:TrainingJob": 1,
        "pai-mlops:notebook:Notebooks": 1,
        "alicloud:pai/workspaceDataset:WorkspaceDataset": 1,
        **({"pulumi-python:dynamic/pai:DswInstance": 2} if stack == "dev" else {}),  # prod runs no notebooks
        "pai-mlops:registry:ModelRegistry": 2,
        "alicloud:pai/workspaceModel:WorkspaceModel": 2,
        "alicloud:pai/workspaceModelVersion:WorkspaceModelVersion": 3,
        "pai-mlops:pipeline:RetrainingPipeline": 1,
        "alicloud:pai/flowPipeline:FlowPipeline": 1,
        "pai-mlops:pipeline:RetrainingTrigger": 1,
        "alicloud:fc/v3Function:V3Function": 1,
        # dev: the drift check's layer, built by the stack (trigger.drift.layer: build), and its zip on OSS
        **(
            {"alicloud:fc/v3LayerVersion:V3LayerVersion": 1, "alicloud:oss/bucketObject:BucketObject": 1}
            if stack == "dev"
            else {}
        ),
        "alicloud:log/project:Project": 1,  # the trigger function's logs
        "alicloud:log/store:Store": 1,
        "alicloud:fc/v3Trigger:V3Trigger": 1 if stack == "dev" else 2,  # dev: new data only; prod: also weekly
        "pai-mlops:serving:BlueGreenService": 2,
        "pulumi:providers:pulumi-python": 6,  # a lane for each of the 6 long-running resources (provider_hosts.py)
        "pai-mlops:images:ContainerRegistry": 1,
        "alicloud:cs/registryEnterpriseNamespace:RegistryEnterpriseNamespace": 1,
        "alicloud:cs/registryEnterpriseRepo:RegistryEnterpriseRepo": 5 if stack == "dev" else 4,  # dev: + drift-check
        "alicloud:cr/scanRule:ScanRule": 1,  # the registry scans each pushed image (registry.scanOnPush)
        **(
            {  # prod only: 2 rules per served version (3 versions) and the GPU rule of the training run
                "pai-mlops:monitoring:ProductionAlarms": 1,
                "alicloud:cms/alarmContactGroup:AlarmContactGroup": 1,
                "alicloud:cms/alarm:Alarm": 7,
            }
            if stack == "prod"
            else {}
        ),
        "pulumi-python:dynamic/pai:EasAutoscaler": 3,
        "pulumi-python:dynamic/pai:ServiceEndpoint": 2,
        "pulumi-python:dynamic/pai:TrafficShift": 2,
        "pulumi-python:dynamic/pai:MetricMetaCheck": 1,  # the watched CloudMonitor metrics, verified at up
        # prod promotes fraud_scorer v7 from staging: one StackReference read (not a registration) and one copy
        **(
            {"pai-mlops:promotion:Promotions": 1, "pulumi-python:dynamic/pai:ModelPromotion": 1}
            if stack == "prod"
            else {}
        ),
    }
    bucket = mocks.one("alicloud:oss/bucket:Bucket", "artifacts-bucket")
    assert bucket.inputs["bucket"] == f"acme-pai-mlops-{stack}"
    # terraform reads the inline blocks back and would delete what the standalone resources set (audit S3/T3).
    assert bucket.ignore_changes == ("serverSideEncryptionRule", "logging", "versioning")
    assert (bucket.protect, "serverSideEncryptionRule" in bucket.inputs, "logging" in bucket.inputs) == (
        stack == "prod",
        False,
        False,
    )
    # Every stack output (components/outputs.py; docs/releasing.md names them).
    assert mocks.stack_outputs == [
        "alarmRules",
        "bucketKmsKeyArn",
        "bucketName",
        "groupAccessTokens",
        "groupEndpoints",
        "imageRepositories",
        "liveServices",
        "modelArtifacts",
        "notebookUrls",
        "releaseHistory",
        "retrainingPipelines",
        "roleArns",
        "trafficWeights",
        "trainingRuns",
        "workspaceId",
    ]


def eas_configs(stack: str) -> dict[str, dict[str, Any]]:
    mocks = run_program(stack)
    return {
        r.name: json.loads(r.inputs["service_config"]) for r in mocks.by_type("pulumi-python:dynamic/pai:EasService")
    }


def test_dev_services_start_with_one_instance_on_the_shared_group() -> None:
    configs = eas_configs("dev")
    assert sorted(configs) == ["fraud_scorer-v6", "fraud_scorer-v7", "image_tagger-v3"]
    assert configs["fraud_scorer-v7"]["metadata"] == {"name": "fraud_scorer_v7", "group": "fraud_scorer", "instance": 1}
    assert configs["image_tagger-v3"]["cloud"] == {"computing": {"instance_type": "ecs.gn6i-c4g1.xlarge"}}


def test_prod_services_keep_min_instances_and_use_the_dedicated_group() -> None:
    configs = eas_configs("prod")
    assert configs["fraud_scorer-v7"]["metadata"]["instance"] == 2
    assert configs["image_tagger-v3"]["metadata"] == {
        "name": "image_tagger_v3",
        "group": "image_tagger",
        "instance": 1,
        "resource": "eas-r-acmegpu01",
        "cpu": 8,
        "memory": 30000,
        "gpu": 1,
        "resource_burstable": True,  # prod's GPU service bursts into public instances (docs/burst.md)
    }
    assert configs["image_tagger-v3"]["cloud"] == {
        "computing": {"instance_type": "ecs.gn6i-c8g1.2xlarge"},
        "networking": {
            "vpc_id": "vpc-bp1acmeprod01",
            "vswitch_id": "vsw-bp1acmeprod01",
            "security_group_id": "sg-bp1acmeprod01",
        },
    }


def test_stack_file_values_are_passed_as_the_engine_passes_them(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: pai-mlops\nruntime: python\n")
    (tmp_path / "Pulumi.x.yaml").write_text(
        "config:\n  owner: me\n  pai-mlops:flag: true\n  pai-mlops:storage: {bucketName: b}\n"
        "  pai-mlops:token:\n    secure: AAABAJ==\n"
    )
    values, secrets = stack_config_values("x", tmp_path)
    assert values == {
        "pai-mlops:owner": "me",
        "pai-mlops:flag": "true",
        "pai-mlops:storage": '{"bucketName": "b"}',
        "pai-mlops:token": "[secret]",
    }
    assert secrets == ["pai-mlops:token"]


def test_bad_stack_file_fails_before_any_resource_is_registered(tmp_path: Path) -> None:
    dev = (ROOT / "Pulumi.dev.yaml").read_text().replace("live: v7", "live: v9")
    root = project_copy(tmp_path, stack_yaml=dev)
    with pytest.raises(StackConfigError) as caught:
        run_program("broken", root)
    assert [str(p) for p in caught.value.problems] == [
        "pai-mlops:serving.services[0] [live]: must be one of versions; got 'v9'. "
        "Set live to one of ['v6', 'v7'] or add it to versions."
    ]


def test_plan_prints_the_tree_and_writes_the_json_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plan.json"
    assert plan.main(["--stack", "prod", "--out", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == (
        "Offline plan of stack 'prod' (project pai-mlops): Pulumi mock engine as a preview, no cloud calls"
    )
    at = printed.index(" +   │  │  └─ pulumi-python:dynamic/pai:EasService  fraud_scorer-v7")
    assert printed[at + 1] == "     │  │           name=fraud_scorer_v7 group=fraud_scorer instances=2 on=ecs.c7.xlarge"
    assert "Resources: 101 to create: the stack, 83 cloud resources and 17 components" in printed
    document = json.loads(out.read_text())
    assert document["stack"] == "prod"
    # with the Promotions component, its copy role, policies and attachments, its ModelPromotion, the lanes and
    # the registry's scan rule
    assert len(document["resources"]) == 100


def test_plan_exits_2_with_the_problems_on_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dev = (ROOT / "Pulumi.dev.yaml").read_text().replace("bucketName: acme-pai-mlops-dev", "bucketName: Acme")
    root = project_copy(tmp_path, stack_yaml=dev)
    assert plan.main(["--stack", "broken", "--root", str(root)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: Stack 'broken' has invalid configuration (Pulumi.broken.yaml), 1 problem:",
        "  - pai-mlops:storage [bucketName]: must be a valid OSS bucket name; got 'Acme'. Use 3-63 lower-case "
        "letters, digits or hyphens, starting and ending with a letter or digit, unique across all of OSS "
        "(e.g. 'acme-pai-mlops-dev').",
    ]


def test_plan_refuses_an_unknown_stack(capsys: pytest.CaptureFixture[str]) -> None:
    assert plan.main(["--stack", "qa"]) == 2
    assert capsys.readouterr().err == "error: no Pulumi.qa.yaml; stacks here: dev, prod, staging\n"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_eas_service_runs_with_the_eas_role(stack: str) -> None:
    """EAS reads the SSE-KMS models/ prefix and pulls the image with the -eas role (role_arn in the service config)."""
    mocks = run_program(stack)
    role = mocks.one("alicloud:ram/role:Role", "roles-eas").inputs["roleName"]
    arns = {r.name: r.inputs["role_arn"] for r in mocks.by_type("pulumi-python:dynamic/pai:EasService")}
    assert set(arns.values()) == {f"acs:ram::{MOCK_ACCOUNT_ID}:role/{role}"}
    assert role == f"pai-mlops-{stack}-eas"
