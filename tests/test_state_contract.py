"""What every stack's state and the policy pack depend on: provider paths, class names, type tokens, input names.

A dynamic provider is pickled into state by its module path and class name, a component's type token is part of
every URN, and the policy pack reads dynamic resources by their snake_case input names. Moving a module, renaming a
class or an input silently breaks ``pulumi refresh``/``destroy`` of existing stacks, so all of them are pinned here
(not derived from the code they guard).
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# token -> (resource module, resource class, provider class, args class, input names: every argument, optional too)
DYNAMIC = {
    "pulumi-python:dynamic/pai:EasAutoscaler": (
        "providers.autoscaler",
        "EasAutoscaler",
        "EasAutoscalerProvider",
        "EasAutoscalerArgs",
        "activation_replicas cpu_percent cron exclude_dates max_instances min_instances qps_per_instance "
        "scale_in_cooldown_seconds scale_up_window_seconds service_name zero_grace_seconds",
    ),
    "pulumi-python:dynamic/pai:EasService": (
        "providers.eas_service",
        "EasService",
        "EasServiceProvider",
        "EasServiceArgs",
        "docker_auth poll_seconds ready_timeout_seconds role_arn service_config service_name tags workspace_id",
    ),
    "pulumi-python:dynamic/pai:ModelPromotion": (
        "providers.promotion",
        "ModelPromotion",
        "ModelPromotionProvider",
        "ModelPromotionArgs",
        # copy_role_arn: added with the promotion copy role; state written before it still reads (test_promotion).
        "commit copy_role_arn deadline_seconds dest_bucket dest_prefix expected lineage live model override "
        "release_history "
        "source_artifact source_bucket source_prefix source_stack version",
    ),
    "pulumi-python:dynamic/pai:MetricMetaCheck": (
        "providers.metric_meta",
        "MetricMetaCheck",
        "MetricMetaCheckProvider",
        "MetricMetaCheckArgs",
        "checks deadline_seconds",
    ),
    "pulumi-python:dynamic/pai:ServiceEndpoint": (
        "providers.endpoint",
        "ServiceEndpoint",
        "ServiceEndpointProvider",
        "ServiceEndpointArgs",
        "group services token",
    ),
    "pulumi-python:dynamic/pai:ApiProbe": (
        "providers.probe",
        "ApiProbe",
        "ApiProbeProvider",
        "ApiProbeArgs",
        "apis bucket deadline_seconds",
    ),
    "pulumi-python:dynamic/pai:TrafficShift": (
        "providers.traffic",
        "TrafficShift",
        "TrafficShiftProvider",
        "TrafficShiftArgs",
        "allow_breaking_change bake_seconds check_interval_seconds contracts deadline_seconds group live "
        "max_bake_extensions max_error_rate max_p95_latency_ms metrics min_requests no_data ready_timeout_seconds "
        "rollback_without_bake "
        "services shadow_percent shadow_seconds steps",
    ),
    "pulumi-python:dynamic/pai:DswInstance": (
        "providers.notebook",
        "DswInstance",
        "DswInstanceProvider",
        "DswInstanceArgs",
        "datasets env idle_shutdown_minutes image_id image_url instance_name instance_type labels poll_seconds "
        "resource_group resources role_arn start_command tags vpc wait_timeout_seconds workspace_id",
    ),
    "pulumi-python:dynamic/pai:TrainingJob": (
        "providers.training",
        "TrainingJob",
        "TrainingJobProvider",
        "TrainingJobArgs",
        # "scope" is computed by the resource from its arguments.
        "checkpoint_interval_minutes checkpoint_uri code command data_sources delete_records description "
        "display_name env image instance_type job_type max_resubmits max_runtime_minutes output_uri poll_seconds "
        "queue_timeout_minutes resource_group resources resubmit_on role_arn roles spot spot_discount_limit tags "
        "wait worker_count workspace_id",
    ),
}

# component class -> type token (the module part is the token's, not necessarily the file's)
COMPONENTS = {
    "ArtifactStore": "pai-mlops:storage:ArtifactStore",
    "BlueGreenService": "pai-mlops:serving:BlueGreenService",
    "CodeRepositories": "pai-mlops:code:CodeRepositories",
    "ContainerRegistry": "pai-mlops:images:ContainerRegistry",
    "MlWorkspace": "pai-mlops:workspace:MlWorkspace",
    "ModelRegistry": "pai-mlops:registry:ModelRegistry",
    "ModelService": "pai-mlops:serving:ModelService",
    "Notebooks": "pai-mlops:notebook:Notebooks",
    "ProductionAlarms": "pai-mlops:monitoring:ProductionAlarms",
    "Promotions": "pai-mlops:promotion:Promotions",
    "RetrainingPipeline": "pai-mlops:pipeline:RetrainingPipeline",
    "RetrainingTrigger": "pai-mlops:pipeline:RetrainingTrigger",
    "ServiceRoles": "pai-mlops:identity:ServiceRoles",
    "StackDashboard": "pai-mlops:dashboards:StackDashboard",
    "Training": "pai-mlops:training:Training",
}


@pytest.mark.parametrize("token", sorted(DYNAMIC))
def test_each_dynamic_resource_keeps_its_module_class_token_and_input_names(token: str) -> None:
    module_name, resource_name, provider_name, args_name, inputs = DYNAMIC[token]
    module = importlib.import_module(module_name)
    resource = getattr(module, resource_name)
    provider = getattr(module, provider_name)
    assert provider.__module__ == module_name
    assert provider.__qualname__ == provider_name
    assert resource.__module__ == module_name
    # pulumi.dynamic.Resource.__init_subclass__(module=, name=) sets "dynamic/<module>:<name>"; the Python
    # language host prefixes "pulumi-python:".
    assert f"pulumi-python:{resource._resource_type_name}" == token
    fields = {field.name for field in dataclasses.fields(getattr(module, args_name))}
    assert fields == set(inputs.split())


def _component_tokens() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted((ROOT / "components").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ClassDef):
                continue
            for call in ast.walk(node):
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "__init__"
                    and call.args
                    and isinstance(call.args[0], ast.Constant)
                    and str(call.args[0].value).startswith("pai-mlops:")
                ):
                    found[node.name] = str(call.args[0].value)
    return found


def test_every_component_keeps_its_type_token() -> None:
    assert _component_tokens() == COMPONENTS


# Settings inside inputs that are dicts: stored in state like the inputs themselves. TrafficShift ``metrics``
# (cloudmonitor; latency_statistic, latency_unit and error_unit added with the units, a state without them reads as
# providers.metrics.LEGACY_CLOUDMONITOR, tests/providers/test_traffic_spec.py) and MetricMetaCheck ``checks`` entries
# (statistic_key, unit, unit_key added with the units, optional: an older entry checks no unit).
METRICS_SETTINGS = (
    "dimension error_metric error_unit latency_metric latency_statistic latency_unit namespace period_seconds "
    "qps_metric source"
)
METRIC_CHECK_FIELDS = (
    "dimension_key dimensions key metric namespace namespace_key statistic statistic_key unit unit_key"
)


def test_the_settings_stored_inside_dict_inputs_keep_their_names() -> None:
    from providers import metric_meta, metrics

    assert set(metrics.CLOUDMONITOR_DEFAULTS) == set(METRICS_SETTINGS.split())
    assert set(metrics.LEGACY_CLOUDMONITOR) == set(METRICS_SETTINGS.split())
    assert set(metric_meta.CHECK_FIELDS) == set(METRIC_CHECK_FIELDS.split())
    assert {field.name for field in dataclasses.fields(metric_meta.MetricCheckInput)} == set(
        METRIC_CHECK_FIELDS.split()
    )


# A TrainingJob's outputs and the fields of each record in its ``attempts`` output: the next ``pulumi up`` reads
# them back from state to decide whether the run is due a resubmission (providers/training_attempts.py follow_up).
TRAINING_OUTPUTS = ("key", "job_id", "status", "attempts", "model_uri", "duration_seconds")
ATTEMPT_FIELDS = "attempt job_id status reason checkpoint submitted started ended duration_seconds preempted"


def test_a_training_runs_outputs_and_attempt_records_keep_their_names() -> None:
    training = importlib.import_module("providers.training")
    attempts = importlib.import_module("providers.training_attempts")
    outputs: tuple[str, ...] = training.OUTPUTS
    assert outputs == TRAINING_OUTPUTS
    assert [field.name for field in dataclasses.fields(attempts.Attempt)] == ATTEMPT_FIELDS.split()
