"""RetrainingPipeline: preprocess → DLC training → evaluation gate → EAS deployment, as a PAI pipeline.

The manifest is PAI Flow's ``core/v1`` format (https://www.alibabacloud.com/help/en/pai/developer-reference/
pipeline-manifest): a pipeline whose ``spec.pipelines`` are its nodes, each naming the component it runs by
``provider``/``identifier``/``version``, with ``arguments`` and ``dependencies`` (the DAG's edges). It is built by
:func:`retraining_manifest`, a pure function of the typed config (table-tested), so the DAG is reviewed in pull
requests like any other code.

UNCONFIRMED, and therefore configurable in :data:`COMPONENTS`: the identifiers of PAI's built-in components that run
a container as a DLC job and deploy a model to EAS, and the ``{{inputs.parameters.<name>}}`` reference syntax
between a pipeline's inputs and its nodes. Check them against the component list in PAI Designer before the first
run; a wrong identifier fails when the pipeline runs, not when it is registered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import pulumi
import yaml
from pulumi_alicloud import pai

from components.retraining_trigger import RetrainingTrigger, RetrainingTriggerArgs
from components.storage import CHECKPOINTS_PREFIX, DATA_PREFIX, MODELS_PREFIX
from stack_config import ModelServiceConfig, PipelineStepConfig, RetrainingConfig, TrainingJobConfig

API_VERSION: Final = "core/v1"
# provider, identifier, version of the PAI components the nodes run (UNCONFIRMED identifiers, see the docstring).
COMPONENTS: Final[Mapping[str, tuple[str, str, str]]] = {
    "container": ("pai", "dlc_custom_container", "v1"),
    "deploy": ("pai", "eas_model_deploy", "v1"),
}
RUN: Final = "{{inputs.parameters.run}}"


def _component(kind: str, name: str, display: str, parameters: Mapping[str, Any], after: list[str]) -> dict[str, Any]:
    provider, identifier, version = COMPONENTS[kind]
    return {
        "apiVersion": API_VERSION,
        "metadata": {
            "provider": provider,
            "identifier": identifier,
            "version": version,
            "name": name,
            "displayName": display,
        },
        "spec": {
            "arguments": {"parameters": [{"name": key, "value": value} for key, value in parameters.items()]},
            "dependencies": after,
        },
    }


def _container(step: PipelineStepConfig, command: str, **extra: Any) -> dict[str, Any]:
    return {"image": step.image, "command": command, "instanceType": step.instance_type, **extra}


def retraining_manifest(
    pipeline: RetrainingConfig,
    *,
    provider: str,
    bucket: str,
    training: TrainingJobConfig,
    service: ModelServiceConfig,
) -> dict[str, Any]:
    """The PAI Flow manifest of one retraining pipeline. Each run takes a ``run`` id (a new model version)."""
    evaluation = pipeline.evaluate
    data = f"oss://{bucket}/{DATA_PREFIX}"
    prepared = f"oss://{bucket}/{DATA_PREFIX}prepared/{pipeline.name}/{RUN}/"
    model = f"oss://{bucket}/{MODELS_PREFIX}{service.name}/{RUN}/"
    nodes = [
        _component(
            "container",
            "preprocess",
            "Preprocess",
            _container(pipeline.preprocess, pipeline.preprocess.command, input=data, output=prepared),
            [],
        ),
        _component(
            "container",
            "train",
            "Train",
            {
                "image": training.image,
                "command": training.command,
                "jobType": training.job_type,
                "workerCount": training.worker_count,
                "instanceType": training.instance_type or "",
                "resourceGroup": training.resource_group,
                "input": prepared,
                "output": model,
                "checkpoints": f"oss://{bucket}/{CHECKPOINTS_PREFIX}{training.name}/{RUN}/",
                "maxRuntimeMinutes": training.max_runtime_minutes,
                "codeRepository": training.code.repository if training.code else "",
                "codeCommit": training.code.commit if training.code else "",
            },
            ["preprocess"],
        ),
        _component(
            "container",
            "evaluate",
            "Evaluation gate",
            _container(
                evaluation,
                f"{evaluation.command} --metric {evaluation.metric} --minimum {evaluation.minimum:g}",
                model=model,
                data=prepared,
            ),
            ["train"],
        ),
    ]
    if pipeline.deploy:
        nodes.append(
            _component(
                "deploy",
                "deploy",
                "Deploy to EAS (no traffic)",
                {
                    "serviceGroup": service.name,
                    "serviceName": f"{service.name}_{RUN}",
                    "modelPath": model,
                    "trafficState": "standalone",
                },
                ["evaluate"],
            )
        )
    return {
        "apiVersion": API_VERSION,
        "metadata": {"provider": provider, "identifier": pipeline.name, "version": "v1", "name": pipeline.name},
        "spec": {
            "inputs": {
                "parameters": [{"name": "run", "type": "String", "desc": "the new version's id, e.g. r20261201"}]
            },
            "pipelines": nodes,
        },
    }


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


class RetrainingPipeline(pulumi.ComponentResource):
    """The retraining DAG registered as a ``pai.FlowPipeline`` in the workspace, and its trigger when configured.

    Outputs: ``pipeline_id``; ``trigger_function`` (the start function's name, None without a trigger).

    The deploy step creates the new version without traffic; releasing it stays a reviewed change of ``live``
    (a gated TrafficShift), so automated retraining never moves user traffic by itself.
    """

    def __init__(self, name: str, args: RetrainingPipelineArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pai-mlops:pipeline:RetrainingPipeline", name, None, opts)
        manifest = retraining_manifest(
            args.pipeline,
            provider=args.provider,
            bucket=args.bucket_name,
            training=args.training,
            service=args.service,
        )
        self.pipeline = pai.FlowPipeline(
            f"{name}-flow",
            manifest=yaml.safe_dump(manifest, sort_keys=False),
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
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.trigger_function = self.trigger.function_name if self.trigger else None
        self.register_outputs({"pipeline_id": self.pipeline_id, "trigger_function": self.trigger_function})
