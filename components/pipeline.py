"""RetrainingPipeline: preprocess → DLC training → evaluation gate, as a PAI pipeline.

The manifest follows PAI Flow's ``core/v1`` format (https://www.alibabacloud.com/help/en/pai/developer-reference/
pipeline-manifest) in the form ``aliyun/pai-python-sdk`` builds for steps that run containers not registered as
components: a multi-document YAML whose first documents are the steps' inline container components and whose last
document is the pipeline (``pai/pipeline/core.py`` ``Pipeline.to_dict``: unregistered components first, the entry
point last). Each component is ``{apiVersion, metadata {name, guid, provider}, spec {inputs, outputs, container
{image, command[], imageRegistryConfig, envs}}}`` (``pai/pipeline/component/_container.py``); each step names its
component by ``guid`` and passes arguments as ``{name, value}`` or a whole-value ``{name, from:
"{{inputs.parameters.<x>}}"}`` (``pai/pipeline/step.py``, ``pai/pipeline/types/variable.py`` ``to_argument``).
Nothing is interpolated inside a string: a step gets the ``run`` id and its base locations as separate parameters
(through environment variables whose whole value is a reference, as ``_container.py`` ``_transform_env`` writes
them) and derives ``<base><run>/`` itself.

Training runs as pai-python-sdk's ``CustomJobComponent`` runs a DLC job from a pipeline
(``pai/pipeline/component/_custom_job.py``): the step is PAI's DLC executor container
(``registry.<region>.aliyuncs.com/paiflow-core/dlc-executor-v2:v1.0.4``, ``pai/common/image_utils.py``) that submits
the job described by its ``job_config`` parameter (``JobSpecs``, ``ResourceId``; the pipeline's workspace is the
job's). So the step
itself stays on the public resource group, the only one Designer's custom containers run on
(https://help.aliyun.com/en/pai/use-custom-components), while the training job runs where its config says (a
quota's ``ResourceId``). No step carries a resource group.

Not built: an EAS deployment step. No official component for it is documented, so a trained run is released the
reviewed way (add it to ``serving`` versions). The inline container spec has no instance-type field, so
``preprocess``/``evaluate`` take none.

UNCONFIRMED: how the DLC executor hands the job's own parameters (``run``, the output and checkpoint bases) to the
training command; pai-python-sdk passes job parameters as component inputs and leaves the rest to the executor.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import pulumi
import yaml
from pulumi_alicloud import pai

from components.retraining_trigger import RetrainingTrigger, RetrainingTriggerArgs
from components.storage import CHECKPOINTS_PREFIX, DATA_PREFIX
from pai_facts import MODELS_PREFIX
from providers.training_request import credential_config, pod_spec
from stack_config import ModelServiceConfig, RetrainingConfig, StackConfig, TrainingJobConfig

API_VERSION: Final = "core/v1"
RUN: Final = "run"
# PAI's DLC executor, as pai-python-sdk's CustomJobComponent uses it (ExecutorType, ExecutorVersion, command).
DLC_EXECUTOR_IMAGE: Final = "registry.{region}.aliyuncs.com/paiflow-core/dlc-executor-v2:v1.0.4"
DLC_EXECUTOR_COMMAND: Final = ("python", "-um", "pai_running.cmd.custom_job_submit")
CUSTOM_JOB_BASE_PATH: Final = "/ml"
# What a container step's environment carries: the run id and the step's base locations, each a whole value.
RUN_ENV: Final = "PAI_MLOPS_RUN"


# The run's other parameters, each with a default so a run started by hand needs only ``run``: what started it
# (functions/start_pipeline.py passes schedule, data or drift) and, for a drift run, the drift check's figures.
RUN_PARAMETERS: Final = (
    ("trigger", "manual", "what started the run: schedule, data, drift or manual"),
    ("drift_method", "", "the drift check's method (psi or ks) of a drift run"),
    ("drift_score", "", "the largest per-feature figure of the drift check"),
    ("drift_feature", "", "the feature with that figure"),
    ("drift_report", "", "the drift check's report on OSS"),
)


@dataclass(frozen=True)
class Ref:
    """A step input taken whole from a pipeline input (``from: "{{inputs.parameters.<name>}}"``)."""

    name: str


def reference(parameter: str) -> str:
    """A whole-value reference to a pipeline or component input (pai-python-sdk ``enclosed_fullname``)."""
    return "{{" + f"inputs.parameters.{parameter}" + "}}"


def _guid(pipeline: str, step: str) -> str:
    """A stable component guid (pai-python-sdk draws a random one; a stable one keeps the manifest diff-free)."""
    return hashlib.sha256(f"pai-mlops/{pipeline}/{step}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class _Step:
    name: str
    image: str
    command: Sequence[str]
    # component input → (type, the value this pipeline passes, or None to pass the pipeline's ``run``)
    inputs: Mapping[str, tuple[str, Any]]
    envs: Mapping[str, str]
    after: Sequence[str] = ()


def _component(pipeline: str, provider: str, step: _Step) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "metadata": {"name": f"{pipeline}-{step.name}", "guid": _guid(pipeline, step.name), "provider": provider},
        "spec": {
            "inputs": {"parameters": [{"name": name, "type": kind} for name, (kind, _) in step.inputs.items()]},
            "outputs": {},
            "container": {
                "image": step.image,
                "command": list(step.command),
                "imageRegistryConfig": {},
                "envs": dict(step.envs),
            },
        },
    }


def _node(pipeline: str, step: _Step) -> dict[str, Any]:
    parameters = [
        {"name": name, "from": reference(RUN)}
        if value is None
        else {"name": name, "from": reference(value.name)}
        if isinstance(value, Ref)
        else {"name": name, "value": value}
        for name, (_, value) in step.inputs.items()
    ]
    spec: dict[str, Any] = {"arguments": {"parameters": parameters}}
    if step.after:
        spec["dependencies"] = list(step.after)
    return {"metadata": {"name": step.name, "guid": _guid(pipeline, step.name)}, "spec": spec}


def _shell(command: str) -> list[str]:
    return ["sh", "-c", command]


def dlc_role_arn(provider: str, name_prefix: str) -> str:
    """The stack's ``<prefix>-dlc`` role (components/identity.py) by its ARN, known at preview: ``provider`` is the
    account UID the manifest names (fidelity-audit P4), and a RAM role ARN is ``acs:ram::<uid>:role/<name>``."""
    return f"acs:ram::{provider}:role/{name_prefix}-dlc"


def job_config(training: TrainingJobConfig, role_arn: str | None = None) -> dict[str, Any]:
    """The DLC job the train step submits, as pai-python-sdk's ``JobConfig.to_dict`` writes it (``JobSpecs`` in
    CreateJob's wire form, ``ResourceId`` on a quota), built by the same pod-spec rule as the TrainingJob provider.

    With ``role_arn`` the job runs as that role (``CredentialConfig``, the form TrainingJob sends), never as the
    workspace's default DLC identity: the stack's least-privilege ``-dlc`` role covers pipeline runs too."""
    props = {
        "image": training.image,
        "resource_group": training.resource_group if training.dedicated else None,
        "resources": training.resources.__dict__ if training.resources is not None else None,
        "instance_type": training.instance_type,
        "spot": training.spot,
        "spot_discount_limit": training.spot_discount_limit,
    }
    specs = [pod_spec(props, "Worker", training.worker_count)]
    specs += [pod_spec(props, role, pods) for role, pods in sorted(training.roles.items())]
    config: dict[str, Any] = {"JobSpecs": specs}
    if training.dedicated:
        config["ResourceId"] = training.resource_group
    if role_arn is not None:
        config["CredentialConfig"] = credential_config(role_arn)
    return config


def _steps(
    pipeline: RetrainingConfig, *, bucket: str, region: str, training: TrainingJobConfig, role_arn: str | None
) -> list[_Step]:
    prepared = f"oss://{bucket}/{DATA_PREFIX}prepared/{pipeline.name}/"
    models = f"oss://{bucket}/{MODELS_PREFIX}{training.name}/"
    evaluation = pipeline.evaluate
    string = "String"
    return [
        _Step(
            "preprocess",
            pipeline.preprocess.image,
            _shell(pipeline.preprocess.command),
            {
                RUN: (string, None),
                "input": (string, f"oss://{bucket}/{DATA_PREFIX}"),
                "output_base": (string, prepared),
            },
            {
                RUN_ENV: reference(RUN),
                "PAI_MLOPS_INPUT": reference("input"),
                "PAI_MLOPS_OUTPUT_BASE": reference("output_base"),
            },
        ),
        _Step(
            "train",
            DLC_EXECUTOR_IMAGE.format(region=region),
            DLC_EXECUTOR_COMMAND,
            {
                "job_config": ("Map", job_config(training, role_arn)),
                "output_path": (string, models),
                RUN: (string, None),
                "data_base": (string, prepared),
                "checkpoint_base": (string, f"oss://{bucket}/{CHECKPOINTS_PREFIX}{training.name}/"),
                "code_commit": (string, training.code.commit if training.code else ""),
            },
            {
                "CUSTOM_JOB_MODE": "1",
                "CUSTOM_JOB_IMAGE_URI": training.image,
                "CUSTOM_JOB_TYPE": training.job_type,
                "CUSTOM_JOB_COMMAND": training.command,
                "CUSTOM_JOB_BASE_PATH": CUSTOM_JOB_BASE_PATH,
                "CUSTOM_JOB_WORK_DIR": f"{CUSTOM_JOB_BASE_PATH}/code",
            },
            ("preprocess",),
        ),
        _Step(
            "evaluate",
            evaluation.image,
            _shell(f"{evaluation.command} --metric {evaluation.metric} --minimum {evaluation.minimum:g}"),
            {
                RUN: (string, None),
                "model_base": (string, models),
                "data_base": (string, prepared),
                "trigger": (string, Ref("trigger")),
                "drift_score": (string, Ref("drift_score")),
                "drift_report": (string, Ref("drift_report")),
            },
            {
                RUN_ENV: reference(RUN),
                "PAI_MLOPS_MODEL_BASE": reference("model_base"),
                "PAI_MLOPS_DATA_BASE": reference("data_base"),
                # what started the run, for the evaluation to record beside the model (docs/retraining.md)
                "PAI_MLOPS_TRIGGER": reference("trigger"),
                "PAI_MLOPS_DRIFT_SCORE": reference("drift_score"),
                "PAI_MLOPS_DRIFT_REPORT": reference("drift_report"),
            },
            ("train",),
        ),
    ]


def retraining_manifest(
    pipeline: RetrainingConfig,
    *,
    provider: str,
    bucket: str,
    region: str,
    training: TrainingJobConfig,
    service: ModelServiceConfig,
    role_arn: str | None = None,
) -> list[dict[str, Any]]:
    """The PAI Flow manifest of one retraining pipeline as its YAML documents (components first, the pipeline last).

    Each run takes a ``run`` id: the model lands in ``models/<training>/<run>/``, ready to serve as a version of
    ``service`` once a reviewed change adds it there.
    """
    steps = _steps(pipeline, bucket=bucket, region=region, training=training, role_arn=role_arn)
    entry = {
        "apiVersion": API_VERSION,
        "metadata": {"provider": provider, "identifier": pipeline.name, "version": "v1", "name": pipeline.name},
        "spec": {
            "inputs": {
                "parameters": [
                    {"name": RUN, "type": "String", "desc": f"the new model version of {service.name}, e.g. r20261201"},
                    *(
                        {"name": name, "type": "String", "value": default, "desc": desc}
                        for name, default, desc in RUN_PARAMETERS
                    ),
                ]
            },
            "pipelines": [_node(pipeline.name, step) for step in steps],
        },
    }
    return [*(_component(pipeline.name, provider, step) for step in steps), entry]


def manifest_text(documents: Sequence[Mapping[str, Any]]) -> str:
    """The manifest as ``pai.FlowPipeline`` takes it: the documents as one multi-document YAML."""
    return yaml.safe_dump_all(list(documents), sort_keys=False)


@dataclass(frozen=True, kw_only=True)
class RetrainingPipelineArgs:
    pipeline: RetrainingConfig
    provider: str
    bucket_name: str
    training: TrainingJobConfig
    service: ModelServiceConfig
    workspace_id: pulumi.Input[str]
    region: str
    name_prefix: str
    kms_key_arn: pulumi.Input[str] | None = None

    @classmethod
    def of_stack(
        cls,
        config: StackConfig,
        pipeline: RetrainingConfig,
        *,
        workspace_id: pulumi.Input[str],
        kms_key_arn: pulumi.Input[str] | None = None,
    ) -> RetrainingPipelineArgs:
        """``pipeline`` with the training job and the service it names (and the bucket's KMS key, which the trigger's
        drift check needs to read an encrypted batch)."""
        return cls(
            pipeline=pipeline,
            provider=str(config.pipeline.provider),
            bucket_name=config.storage.bucket_name,
            training=config.job(pipeline.training),
            service=config.service(pipeline.model),
            workspace_id=workspace_id,
            region=config.region,
            name_prefix=config.name_prefix,
            kms_key_arn=kms_key_arn,
        )


class RetrainingPipeline(pulumi.ComponentResource):
    """The retraining DAG registered as a ``pai.FlowPipeline`` in the workspace, and its trigger when configured.

    Outputs: ``pipeline_id``; ``trigger_function`` (the start function's name, None without a trigger).

    A run ends with a model under ``models/``; serving it stays a reviewed change of ``versions`` and ``live`` (a
    gated TrafficShift), so automated retraining never moves user traffic by itself.
    """

    def __init__(self, name: str, args: RetrainingPipelineArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pai-mlops:pipeline:RetrainingPipeline", name, None, opts)
        manifest = retraining_manifest(
            args.pipeline,
            provider=args.provider,
            bucket=args.bucket_name,
            region=args.region,
            training=args.training,
            service=args.service,
            role_arn=dlc_role_arn(args.provider, args.name_prefix),
        )
        self.pipeline = pai.FlowPipeline(
            f"{name}-flow",
            manifest=manifest_text(manifest),
            workspace_id=args.workspace_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.pipeline_id = self.pipeline.id
        self.trigger: RetrainingTrigger | None = None
        if args.pipeline.trigger is not None:
            self.trigger = RetrainingTrigger(
                f"{name}-trigger",
                RetrainingTriggerArgs(
                    pipeline=args.pipeline,
                    pipeline_id=self.pipeline_id,
                    workspace_id=args.workspace_id,
                    bucket_name=args.bucket_name,
                    region=args.region,
                    account_id=args.provider,
                    name_prefix=args.name_prefix,
                    service=args.service,
                    kms_key_arn=args.kms_key_arn,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.trigger_function = self.trigger.function_name if self.trigger else None
        self.register_outputs({"pipeline_id": self.pipeline_id, "trigger_function": self.trigger_function})
