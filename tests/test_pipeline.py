"""The retraining pipeline: its PAI Flow manifest, built by a pure function from typed config, and its wiring."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from components.pipeline import RetrainingPipeline, RetrainingPipelineArgs, retraining_manifest
from stack_config import RetrainingConfig, parse_stack_config
from tests.conftest import VALID_RAW
from tests.test_stack_config import SPOT_JOB
from tools.mock_engine import RecordingMocks, run_under_mocks

STEP = {"image": "registry/prep:1.0", "command": "python -m prep", "instanceType": "ecs.g6.xlarge"}
RETRAINING: dict[str, Any] = {
    "name": "fraud_retraining",
    "model": "fraud_scorer",
    "training": "fraud_scorer",
    "preprocess": STEP,
    "evaluate": {**STEP, "image": "registry/eval:1.0", "command": "python -m eval", "metric": "auc", "minimum": 0.9},
}


def raw_with(pipeline: dict[str, Any]) -> dict[str, Any]:
    raw = copy.deepcopy(VALID_RAW)
    job = {**SPOT_JOB, "code": {"repository": "https://github.com/acme/fraud-models.git", "commit": "4be2c1d9"}}
    raw["training"] = {"jobs": [job]}
    raw["pipeline"] = pipeline
    return raw


def build(**changes: Any) -> dict[str, Any]:
    config = parse_stack_config(raw_with({"provider": "1234567890", "retraining": [{**RETRAINING, **changes}]}), "prod")
    return retraining_manifest(
        config.pipeline.retraining[0],
        provider="1234567890",
        bucket="acme-pai-prod",
        training=config.training.jobs[0],
        service=config.serving.services[0],
    )


def test_the_dag_runs_preprocess_train_evaluate_deploy_in_order() -> None:
    manifest = build()
    assert (manifest["apiVersion"], manifest["metadata"]) == (
        "core/v1",
        {"provider": "1234567890", "identifier": "fraud_retraining", "version": "v1", "name": "fraud_retraining"},
    )
    nodes = manifest["spec"]["pipelines"]
    assert [(n["metadata"]["name"], n["spec"]["dependencies"]) for n in nodes] == [
        ("preprocess", []),
        ("train", ["preprocess"]),
        ("evaluate", ["train"]),
        ("deploy", ["evaluate"]),
    ]
    assert manifest["spec"]["inputs"]["parameters"][0]["name"] == "run"


def test_each_step_reads_and_writes_the_stack_bucket_under_the_run() -> None:
    nodes = {
        n["metadata"]["name"]: dict((p["name"], p["value"]) for p in n["spec"]["arguments"]["parameters"])
        for n in build()["spec"]["pipelines"]
    }
    run = "{{inputs.parameters.run}}"
    assert nodes["preprocess"]["output"] == f"oss://acme-pai-prod/data/prepared/fraud_retraining/{run}/"
    assert nodes["train"]["output"] == f"oss://acme-pai-prod/models/fraud_scorer/{run}/"
    assert (nodes["train"]["image"], nodes["train"]["codeCommit"]) == (SPOT_JOB["image"], "4be2c1d9")
    assert nodes["evaluate"]["command"] == "python -m eval --metric auc --minimum 0.9"
    assert nodes["deploy"] == {
        "serviceGroup": "fraud_scorer",
        "serviceName": f"fraud_scorer_{run}",
        "modelPath": f"oss://acme-pai-prod/models/fraud_scorer/{run}/",
        "trafficState": "standalone",
    }


def test_without_deploy_the_dag_ends_at_the_evaluation_gate() -> None:
    assert [n["metadata"]["name"] for n in build(deploy=False)["spec"]["pipelines"]] == [
        "preprocess",
        "train",
        "evaluate",
    ]


@pytest.mark.parametrize(
    ("pipeline", "expected"),
    [
        (
            {"retraining": [RETRAINING]},
            [
                "pai-mlops:pipeline [provider]: is required with retraining pipelines; got nothing. Give the account "
                "UID that owns them (the console shows it under your account)."
            ],
        ),
        (
            {"provider": "1234567890", "retraining": [{**RETRAINING, "model": "nope", "training": "none"}]},
            [
                "pai-mlops:pipeline.retraining[0] [model]: is not a served model; got 'nope'. Name one of "
                "serving.services: fraud_scorer.",
                "pai-mlops:pipeline.retraining[0] [training]: is not a training job; got 'none'. Name one of "
                "training.jobs: fraud_scorer.",
            ],
        ),
        (
            {
                "provider": "1234567890",
                "retraining": [{**RETRAINING, "preprocess": {**STEP, "image": "registry/prep"}}],
            },
            [
                "pai-mlops:pipeline.retraining[0].preprocess [image]: must name an immutable tag or digest; got "
                "'registry/prep'. Pin the image to a version tag or '@sha256:' digest."
            ],
        ),
    ],
)
def test_pipeline_config_problems(pipeline: dict[str, Any], expected: list[str]) -> None:
    from tests.test_stack_config import problems_of

    assert problems_of(raw_with(pipeline)) == expected


def pipeline_args(**changes: Any) -> RetrainingPipelineArgs:
    """The component's arguments for RETRAINING with ``changes``, in the prod stack of account 1234567890."""
    raw = raw_with({"provider": "1234567890", "retraining": [{**RETRAINING, **changes}]})
    config = parse_stack_config(raw, "prod")
    return RetrainingPipelineArgs(
        pipeline=config.pipeline.retraining[0],
        provider="1234567890",
        bucket_name="acme-pai-prod",
        training=config.training.jobs[0],
        service=config.serving.services[0],
        workspace_id="ws-1",
        region="cn-hangzhou",
        name_prefix="pai-mlops-prod",
    )


def test_the_component_registers_the_manifest_as_yaml(mocks: RecordingMocks) -> None:
    args = pipeline_args()
    run_under_mocks(lambda: RetrainingPipeline("pipeline-fraud_retraining", args))
    assert not [r for r in mocks.registrations if r.type.startswith("alicloud:fc/")]  # no trigger configured
    flow = mocks.one("alicloud:pai/flowPipeline:FlowPipeline", "pipeline-fraud_retraining-flow").inputs
    assert flow["workspaceId"] == "ws-1"
    assert yaml.safe_load(flow["manifest"]) == retraining_manifest(
        RetrainingConfig(**{**args.pipeline.__dict__}),
        provider="1234567890",
        bucket="acme-pai-prod",
        training=args.training,
        service=args.service,
    )
