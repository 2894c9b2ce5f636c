"""pai-mlops: the PAI pipeline for one stack — workspace, artifact bucket, service roles, training runs, EAS services.

    DSW (develop) ──► DLC (train) ──► OSS (artifacts, checkpoints) ──► EAS (serve)

Everything here is wiring; the logic (joins between config sections included) lives in ``stack_config`` and
``components``.
"""

import pulumi

import components as c
from components.monitoring import metric_checks_of
from components.outputs import export_stack
from components.promotion import Promotions, PromotionsArgs, model_artifacts_of
from components.provider_hosts import set_lanes
from providers.metric_meta import MetricMetaCheck, MetricMetaCheckArgs
from stack_config import load_secrets, load_stack_config

config, secrets = load_stack_config(), load_secrets()  # secrets as Outputs: encrypted in state, masked in previews
pulumi.runtime.register_resource_transform(c.tag_transform(config.tags))
set_lanes(config.provider_hosts)  # long waits spread over provider processes (docs/provider-hosts.md)

workspace = c.MlWorkspace("workspace", c.MlWorkspaceArgs.of_stack(config))
ws = workspace.workspace_id
store = c.ArtifactStore(
    "artifacts", c.ArtifactStoreArgs.of_stack(config, resource_group_id=workspace.resource_group_id)
)
roles = c.ServiceRoles("roles", c.ServiceRolesArgs.of_stack(config, kms_key_arn=store.kms_key_arn))
after_store = pulumi.ResourceOptions(depends_on=[store, roles])
# Versions copied from another stack's bucket, gated on their release there (docs: "Promotion").
promotion_args = PromotionsArgs.of_stack(config, account_id=roles.account_id, kms_key_arn=store.kms_key_arn)
promotions = Promotions("promotions", promotion_args, opts=after_store) if config.promotes else None
promoted = promotions.by_version if promotions else {}

services = [
    c.BlueGreenService(
        svc.name,
        c.BlueGreenServiceArgs.of_stack(config, svc, ws, roles.role_arns["eas"], secrets, promoted),
        opts=after_store,
    )
    for svc in config.serving.services
]
repositories = c.CodeRepositoriesArgs(
    repositories=config.code_repositories(), workspace_id=ws, access_token=secrets.git_access_token
)
code = c.CodeRepositories("code", repositories)
trainings = {
    job.name: c.Training(
        f"train-{job.name}",
        c.TrainingArgs.of_stack(config, job, ws, roles.role_arns["dlc"], code.source_id_of(job.code)),
        opts=after_store,
    )
    for job in config.training.jobs
}
notebooks = c.Notebooks(
    "notebooks", c.NotebooksArgs.of_stack(config, workspace_id=ws, role_arn=roles.role_arns["dsw"]), opts=after_store
)
job_ids = {name: training.job_id for name, training in trainings.items()}
for svc in config.serving.services:
    c.ModelRegistry(f"registry-{svc.name}", c.ModelRegistryArgs.of_stack(config, svc, ws, job_ids, promoted))
pipelines = {
    item.name: c.RetrainingPipeline(
        f"pipeline-{item.name}",
        c.RetrainingPipelineArgs.of_stack(config, item, workspace_id=ws, kms_key_arn=store.kms_key_arn),
        opts=pulumi.ResourceOptions(depends_on=[store]),
    )
    for item in config.pipeline.retraining
}
registry = (
    c.ContainerRegistry("images", c.ContainerRegistryArgs(registry=config.registry, environment=config.environment))
    if config.registry
    else None
)

# `pulumi up` first proves the CloudMonitor metrics the gates and alarms watch exist (their names are unconfirmed).
watched = c.merged_checks(metric_checks_of(config), c.dashboard_checks(config))
metric_check = MetricMetaCheck("metric-meta", MetricMetaCheckArgs(checks=watched)) if watched else None
alarms = None
if config.alarms_enabled:
    alarm_args = c.ProductionAlarmsArgs.of_stack(
        config, workspace_id=ws, account_id=roles.account_id, metric_check=metric_check
    )
    alarms = c.ProductionAlarms("alarms", alarm_args)

# Generated from this config: a new service or GPU training run gets its panels (docs/dashboards.md).
if config.dashboards.enabled:
    dashboard_args = c.StackDashboardArgs.of_stack(
        config, auth=secrets.grafana_auth, workspace_id=ws, job_ids=job_ids, metric_check=metric_check
    )
    pulumi.export("dashboardUrl", c.StackDashboard("dashboard", dashboard_args).url)

export_stack(workspace, store, roles, services, trainings, pipelines, notebooks, registry, alarms)
pulumi.export("modelArtifacts", model_artifacts_of(config, trainings, promoted))  # what another stack promotes from
pulumi.export("bucketKmsKeyArn", store.kms_key_arn or "")  # what another stack's copy role decrypts with
