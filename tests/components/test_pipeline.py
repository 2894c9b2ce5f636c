"""The retraining pipeline: its PAI Flow manifest, built by a pure function from typed config, and its wiring."""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_openapi.client import Client
from darabonba.runtime import RuntimeOptions
from Tea.exceptions import TeaException

from components.pipeline import (
    RetrainingPipeline,
    RetrainingPipelineArgs,
    dlc_role_arn,
    manifest_text,
    retraining_manifest,
)
from stack_config import RetrainingConfig, parse_stack_config
from tests.conftest import VALID_RAW
from tests.emulator import Control, Emulator
from tests.emulator.paiflow import manifest_problems
from tests.stack_config.test_stack import SPOT_JOB
from tools.mock_engine import RecordingMocks, run_under_mocks

STEP = {"image": "registry/prep:1.0", "command": "python -m prep"}
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


def build(job: dict[str, Any] | None = None, **changes: Any) -> list[dict[str, Any]]:
    raw = raw_with({"provider": "1234567890", "retraining": [{**RETRAINING, **changes}]})
    if job is not None:
        raw["training"] = {"jobs": [job]}
    config = parse_stack_config(raw, "prod")
    return retraining_manifest(
        config.pipeline.retraining[0],
        provider="1234567890",
        bucket="acme-pai-prod",
        region="cn-hangzhou",
        training=config.training.jobs[0],
        service=config.serving.services[0],
    )


def manifest(**changes: Any) -> str:
    """The registered manifest text, as pai.FlowPipeline receives it."""
    return manifest_text(build(**changes))


RUN_REF = "{{inputs.parameters.run}}"
RUN_INPUTS = ("trigger", "drift_score", "drift_report")


def test_the_manifest_is_inline_components_then_the_pipeline_in_the_sdks_shape() -> None:
    *components, pipeline = build()
    assert (pipeline["apiVersion"], pipeline["metadata"]) == (
        "core/v1",
        {"provider": "1234567890", "identifier": "fraud_retraining", "version": "v1", "name": "fraud_retraining"},
    )
    # run is required; the rest default (pai-python-sdk PipelineParameter.to_dict writes a default as value), so a
    # run started by hand needs only run, and the trigger function adds what started it and the drift figures
    assert pipeline["spec"]["inputs"] == {
        "parameters": [
            {"name": "run", "type": "String", "desc": "the new model version of fraud_scorer, e.g. r20261201"},
            {
                "name": "trigger",
                "type": "String",
                "value": "manual",
                "desc": "what started the run: schedule, data, drift or manual",
            },
            {
                "name": "drift_method",
                "type": "String",
                "value": "",
                "desc": "the drift check's method (psi or ks) of a drift run",
            },
            {
                "name": "drift_score",
                "type": "String",
                "value": "",
                "desc": "the largest per-feature figure of the drift check",
            },
            {"name": "drift_feature", "type": "String", "value": "", "desc": "the feature with that figure"},
            {"name": "drift_report", "type": "String", "value": "", "desc": "the drift check's report on OSS"},
        ]
    }
    nodes = pipeline["spec"]["pipelines"]
    assert [(n["metadata"]["name"], n["spec"].get("dependencies")) for n in nodes] == [
        ("preprocess", None),  # pai-python-sdk leaves dependencies out of an entry step
        ("train", ["preprocess"]),
        ("evaluate", ["train"]),
    ]
    # Every step names an inline component by its guid; no step names an (undocumented) built-in identifier.
    guids = [c["metadata"]["guid"] for c in components]
    assert [n["metadata"] for n in nodes] == [
        {"name": name, "guid": guid} for name, guid in zip(["preprocess", "train", "evaluate"], guids, strict=True)
    ]
    assert [sorted(c) for c in components] == [["apiVersion", "metadata", "spec"]] * 3
    assert [sorted(c["spec"]) for c in components] == [["container", "inputs", "outputs"]] * 3
    assert [c["metadata"]["name"] for c in components] == [
        "fraud_retraining-preprocess",
        "fraud_retraining-train",
        "fraud_retraining-evaluate",
    ]
    assert build() == build()  # stable guids: registering the same config twice is no change


def test_parameters_are_whole_values_and_nothing_is_interpolated_inside_a_string() -> None:
    *components, pipeline = build()
    for node in pipeline["spec"]["pipelines"]:
        for argument in node["spec"]["arguments"]["parameters"]:
            assert sorted(argument) in (["from", "name"], ["name", "value"]), argument
            if "from" in argument:
                assert argument["from"] in (RUN_REF, *(f"{{{{inputs.parameters.{n}}}}}" for n in RUN_INPUTS))
            else:
                assert "{{" not in yaml.safe_dump(argument["value"]), argument
    for component in components:
        container = component["spec"]["container"]
        declared = {p["name"] for p in component["spec"]["inputs"]["parameters"]}
        for text in [*container["command"], *container["envs"].values()]:
            if "{{" in text:
                assert text.removeprefix("{{inputs.parameters.").removesuffix("}}") in declared, text
                assert text.startswith("{{") and text.endswith("}}") and text.count("{{") == 1, text


def arguments(node_name: str) -> dict[str, Any]:
    nodes = build()[-1]["spec"]["pipelines"]
    [node] = [n for n in nodes if n["metadata"]["name"] == node_name]
    return {p["name"]: p.get("value", p.get("from")) for p in node["spec"]["arguments"]["parameters"]}


def test_each_step_gets_the_run_and_its_base_locations_and_derives_its_paths() -> None:
    assert arguments("preprocess") == {
        "run": RUN_REF,
        "input": "oss://acme-pai-prod/data/",
        "output_base": "oss://acme-pai-prod/data/prepared/fraud_retraining/",
    }
    preprocess = build()[0]["spec"]["container"]
    assert preprocess == {
        "image": "registry/prep:1.0",
        "command": ["sh", "-c", "python -m prep"],
        "imageRegistryConfig": {},
        "envs": {
            "PAI_MLOPS_RUN": "{{inputs.parameters.run}}",
            "PAI_MLOPS_INPUT": "{{inputs.parameters.input}}",
            "PAI_MLOPS_OUTPUT_BASE": "{{inputs.parameters.output_base}}",
        },
    }
    assert build()[2]["spec"]["container"]["command"] == ["sh", "-c", "python -m eval --metric auc --minimum 0.9"]
    assert arguments("evaluate") == {
        "run": RUN_REF,
        "model_base": "oss://acme-pai-prod/models/fraud_scorer/",
        "data_base": "oss://acme-pai-prod/data/prepared/fraud_retraining/",
        # what started the run, so the evaluation can record it beside the model
        "trigger": "{{inputs.parameters.trigger}}",
        "drift_score": "{{inputs.parameters.drift_score}}",
        "drift_report": "{{inputs.parameters.drift_report}}",
    }


def test_training_runs_through_pais_dlc_executor_and_only_the_job_uses_the_quota() -> None:
    quota_job = {
        **SPOT_JOB,
        "resourceGroup": "quota1a2b3c",
        "instanceType": None,
        "spot": False,
        "spotDiscountLimit": None,
        "workerCount": 2,
        "resources": {"cpu": 16, "memoryGb": 60, "gpu": 1, "gpuType": "Tesla-V100-16G"},
    }
    documents = build(job={k: v for k, v in quota_job.items() if v is not None})
    train = documents[1]["spec"]["container"]
    assert (train["image"], train["command"]) == (
        "registry.cn-hangzhou.aliyuncs.com/paiflow-core/dlc-executor-v2:v1.0.4",
        ["python", "-um", "pai_running.cmd.custom_job_submit"],
    )
    assert train["envs"] == {
        "CUSTOM_JOB_MODE": "1",
        "CUSTOM_JOB_IMAGE_URI": SPOT_JOB["image"],
        "CUSTOM_JOB_TYPE": "PyTorchJob",
        "CUSTOM_JOB_COMMAND": SPOT_JOB["command"],
        "CUSTOM_JOB_BASE_PATH": "/ml",
        "CUSTOM_JOB_WORK_DIR": "/ml/code",
    }
    node = documents[-1]["spec"]["pipelines"][1]
    values = {p["name"]: p.get("value") for p in node["spec"]["arguments"]["parameters"]}
    assert values["job_config"] == {
        "JobSpecs": [
            {
                "Type": "Worker",
                "Image": SPOT_JOB["image"],
                "PodCount": 2,
                "ResourceConfig": {"CPU": "16", "Memory": "60Gi", "GPU": "1", "GPUType": "Tesla-V100-16G"},
            }
        ],
        "ResourceId": "quota1a2b3c",
    }
    assert (values["output_path"], values["checkpoint_base"]) == (
        "oss://acme-pai-prod/models/fraud_scorer/",
        "oss://acme-pai-prod/checkpoints/fraud_scorer/",
    )
    # No step asks for a resource group: custom containers run on the public one.
    assert "resourceGroup" not in manifest_text(documents) and "quota1a2b3c" not in yaml.safe_dump(documents[:3])


def run_pipeline(emulator: Emulator, pipeline_id: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """CreatePipelineRun through the real signing client (as the trigger function sends it); the answer or error."""
    client = Client(
        open_api_models.Config(
            access_key_id="testak", access_key_secret="testsk", endpoint=urlsplit(emulator.url).netloc, protocol="http"
        )
    )
    params = open_api_models.Params(
        action="CreatePipelineRun",
        version="2021-02-02",
        protocol="HTTP",
        pathname="/api/v1/pipelineruns",
        method="POST",
        auth_type="AK",
        style="ROA",
        req_body_type="json",
        body_type="json",
    )
    body = {"PipelineId": pipeline_id, "WorkspaceId": "ws-1", "Name": "run-1", "NoConfirmRequired": True}
    request = open_api_models.OpenApiRequest(body={**body, "Arguments": json.dumps(arguments)})
    try:
        answer = client.call_api(params, request, RuntimeOptions(autoretry=False))
    except TeaException as error:
        return {
            "status": 400,
            "code": error.code,
            "message": str(error.message).split(" request id:")[0].split(", ", 1)[1],
        }
    return {"status": answer["statusCode"], "id": answer["body"]["PipelineRunId"]}


def test_the_emulator_runs_the_built_manifest(emulator: Emulator, cloud: Control) -> None:
    cloud.register_pipeline("flow-1", manifest())
    answer = run_pipeline(emulator, "flow-1", {"arguments": {"parameters": [{"name": "run", "value": "r1"}]}})
    assert (answer["status"], answer["id"].startswith("flow-")) == (200, True)


OLD_MANIFEST = """
apiVersion: core/v1
metadata: {provider: "1234567890", identifier: fraud_retraining, version: v1, name: fraud_retraining}
spec:
  inputs:
    parameters: [{name: run, type: String}]
  pipelines:
    - apiVersion: core/v1
      metadata: {provider: pai, identifier: dlc_custom_container, version: v1, name: train}
      spec:
        arguments:
          parameters:
            - {name: output, value: "oss://b/models/m/{{inputs.parameters.run}}/"}
            - {name: resourceGroup, value: quota1}
"""


@pytest.mark.parametrize(
    ("text", "arguments_", "messages"),
    [
        (
            OLD_MANIFEST,
            {"arguments": {"parameters": [{"name": "run", "value": "r1"}]}},
            ["step train: component pai/dlc_custom_container@v1 does not exist"],
        ),
        (
            None,
            {"arguments": {"parameters": [{"name": "runs", "value": "r1"}]}},
            ["Arguments: the pipeline has no input runs", "Arguments: input run is required"],
        ),
    ],
)
def test_the_emulator_refuses_a_manifest_that_would_not_run(
    emulator: Emulator, cloud: Control, text: str | None, arguments_: dict[str, Any], messages: list[str]
) -> None:
    cloud.register_pipeline("flow-1", text or manifest())
    body = run_pipeline(emulator, "flow-1", arguments_)
    assert (body["status"], body["code"]) == (400, "InvalidPipelineManifest")
    assert body["message"] == "the pipeline would not run: " + "; ".join(messages)


def test_the_emulator_refuses_interpolation_and_unknown_inputs_inside_a_component() -> None:
    documents = build()
    documents[0]["spec"]["container"]["envs"]["PAI_MLOPS_OUTPUT"] = "oss://b/{{inputs.parameters.run}}/"
    documents[-1]["spec"]["pipelines"][0]["spec"]["arguments"]["parameters"].append(
        {"name": "output", "value": "oss://b/{{inputs.parameters.run}}/"}
    )
    guid = documents[0]["metadata"]["guid"]
    assert manifest_problems(manifest_text(documents), None) == [
        f"component {guid}: 'oss://b/{{{{inputs.parameters.run}}}}/' interpolates inside a string; pass a whole-value "
        "reference",
        "step preprocess: the component has no input output",
        "step preprocess: argument output interpolates inside a value; pass a whole-value reference",
        "Arguments: input run is required",
    ]


def test_the_emulator_refuses_a_conditional_step_and_a_string_input_given_a_number() -> None:
    documents = build()
    documents[-1]["spec"]["pipelines"][1]["spec"]["when"] = "{{pipelines.preprocess.outputs.parameters.drift}} == 1"
    arguments_ = {"arguments": {"parameters": [{"name": "run", "value": "r1"}, {"name": "drift_score", "value": 0.3}]}}

    assert manifest_problems(manifest_text(documents), json.dumps(arguments_)) == [
        "step train: spec.when (a conditional step) is not confirmed to run: pai-python-sdk writes it (ConditionStep) "
        "but skips its own condition test as 'Backend is not stable'; gate in the trigger",
        "Arguments: drift_score must be a string for a String input; got 0.3",
    ]


def test_the_emulator_accepts_a_drift_runs_arguments_and_a_run_given_only_its_id() -> None:
    drift = [
        {"name": "run", "value": "r1"},
        {"name": "trigger", "value": "drift"},
        {"name": "drift_method", "value": "psi"},
        {"name": "drift_score", "value": "0.31"},
        {"name": "drift_feature", "value": "amount"},
        {"name": "drift_report", "value": "oss://b/data/drift-reports/p/r1.json"},
    ]

    assert manifest_problems(manifest(), json.dumps({"arguments": {"parameters": drift}})) == []
    assert manifest_problems(manifest(), json.dumps({"arguments": {"parameters": drift[:1]}})) == []


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
                "retraining": [
                    {
                        **RETRAINING,
                        "deploy": True,
                        "evaluate": {**RETRAINING["evaluate"], "instanceType": "ecs.g6.xlarge"},
                    }
                ],
            },
            [
                "pai-mlops:pipeline.retraining[0].evaluate [instanceType]: cannot be honoured: a pipeline's container "
                "step has no instance type and runs on the public resource group; got 'ecs.g6.xlarge'. Remove it; size "
                "the training itself through the training job.",
                "pai-mlops:pipeline.retraining[0] [deploy]: has no documented PAI Flow component to deploy to EAS; got "
                "True. Remove it; serve a trained run by adding it to the service's versions (a reviewed change).",
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
    from tests.stack_config.test_stack import problems_of

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
    assert list(yaml.safe_load_all(flow["manifest"])) == retraining_manifest(
        RetrainingConfig(**{**args.pipeline.__dict__}),
        provider="1234567890",
        bucket="acme-pai-prod",
        region="cn-hangzhou",
        training=args.training,
        service=args.service,
        role_arn=f"acs:ram::1234567890:role/{args.name_prefix}-dlc",
    )


def test_a_spot_job_on_shared_resources_is_submitted_as_the_training_job_would_be() -> None:
    node = build()[-1]["spec"]["pipelines"][1]
    [config] = [p["value"] for p in node["spec"]["arguments"]["parameters"] if p["name"] == "job_config"]
    assert config == {
        "JobSpecs": [
            {
                "Type": "Worker",
                "Image": SPOT_JOB["image"],
                "PodCount": 1,
                "EcsSpec": "ecs.gn6i-c4g1.xlarge",
                "UseSpotInstance": True,
                "SpotSpec": {"SpotStrategy": "SpotWithPriceLimit", "SpotDiscountLimit": 0.6},
            }
        ]
    }


def _job_config(documents: list[dict[str, Any]]) -> dict[str, Any]:
    [train] = [node for node in documents[-1]["spec"]["pipelines"] if node["metadata"]["name"] == "train"]
    [value] = [p["value"] for p in train["spec"]["arguments"]["parameters"] if p["name"] == "job_config"]
    return value


def test_the_pipelines_dlc_job_runs_as_the_stacks_dlc_role() -> None:
    """Never as the workspace's default DLC identity: the -dlc role's least-privilege grant covers pipeline runs."""
    assert "CredentialConfig" not in _job_config(build())  # the builder alone names no role
    args = pipeline_args()
    documents = retraining_manifest(
        RetrainingConfig(**{**args.pipeline.__dict__}),
        provider="1234567890",
        bucket="acme-pai-prod",
        region="cn-hangzhou",
        training=args.training,
        service=args.service,
        role_arn=dlc_role_arn("1234567890", "pai-mlops-prod"),
    )
    assert _job_config(documents)["CredentialConfig"] == {
        "EnableCredentialInject": True,
        "CredentialConfigItems": [
            {
                "Key": "default",
                "Type": "Role",
                "Roles": [
                    {
                        "RoleArn": "acs:ram::1234567890:role/pai-mlops-prod-dlc",
                        "RoleType": "service",
                        "AssumeRoleFor": "1234567890",
                    }
                ],
            }
        ],
    }
