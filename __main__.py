"""pai-mlops: the PAI pipeline for one stack — workspace, artifact bucket, service roles, training runs, EAS services.

    DSW (develop) ──► DLC (train) ──► OSS (artifacts, checkpoints) ──► EAS (serve)

Everything here is wiring; the logic (joins between config sections included) lives in ``stack_config`` and
``components``.
"""

import pulumi

import components as c
from components.monitoring import metric_checks, uses_gpu
from components.outputs import export_stack
from providers.metric_meta import MetricMetaCheck, MetricMetaCheckArgs
from stack_config import load_secrets, load_stack_config

config, secrets = load_stack_config(), load_secrets()  # secrets as Outputs: encrypted in state, masked in previews
pulumi.runtime.register_resource_transform(c.tag_transform(config.tags))
bucket = config.storage.bucket_name

workspace = c.MlWorkspace(
    "workspace", c.MlWorkspaceArgs(workspace_name=config.workspace.name, description=config.workspace.description)
)
ws = workspace.workspace_id
store = c.ArtifactStore(
    "artifacts", c.ArtifactStoreArgs.of_stack(config, resource_group_id=workspace.resource_group_id)
)
roles = c.ServiceRoles("roles", c.ServiceRolesArgs.of_stack(config, kms_key_arn=store.kms_key_arn))
after_store = pulumi.ResourceOptions(depends_on=[store, roles])

services = [
    c.BlueGreenService(
        svc.name,
        c.BlueGreenServiceArgs.of_stack(
            config,
            svc,
            workspace_id=ws,
            role_arn=roles.role_arns["eas"],
            token=secrets.serving_token,
            docker_auth=secrets.registry_auth,
        ),
        opts=after_store,
    )
    for svc in config.serving.services
]
code = c.CodeRepositories(
    "code",
    c.CodeRepositoriesArgs(
        repositories=config.code_repositories(), workspace_id=ws, access_token=secrets.git_access_token
    ),
)
trainings = {
    job.name: c.Training(
        f"train-{job.name}",
        c.TrainingArgs(
            job=job,
            bucket_name=bucket,
            workspace_id=ws,
            role_arn=roles.role_arns["dlc"],
            code_source_id=code.source_ids[job.code.repository] if job.code else None,
        ),
        opts=after_store,
    )
    for job in config.training.jobs
}
notebooks = c.Notebooks(
    "notebooks", c.NotebooksArgs.of_stack(config, workspace_id=ws, role_arn=roles.role_arns["dsw"]), opts=after_store
)
for svc in config.serving.services:
    trained = {
        job.run: c.TrainedRun(repository=job.code.repository, commit=job.code.commit, job_id=trainings[job.name].job_id)
        for job in config.runs_serving(svc)
        if job.code
    }
    c.ModelRegistry(
        f"registry-{svc.name}",
        c.ModelRegistryArgs(service=svc, bucket_name=bucket, workspace_id=ws, region=config.region, trained=trained),
    )
pipelines = {
    item.name: c.RetrainingPipeline(
        f"pipeline-{item.name}",
        c.RetrainingPipelineArgs.of_stack(config, item, workspace_id=ws),
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
watched = metric_checks(
    config.serving.metrics if config.serving.services else None,
    config.alarms if config.alarms_enabled else None,
    gpu=any(uses_gpu(job) for job in config.training.jobs),
)
metric_check = MetricMetaCheck("metric-meta", MetricMetaCheckArgs(checks=watched)) if watched else None
alarms = None
if config.alarms_enabled:
    account_id = roles.role_arns["dlc"].apply(lambda arn: arn.split(":")[3])  # acs:ram::<uid>:role/<name>
    alarms = c.ProductionAlarms(
        "alarms",
        c.ProductionAlarmsArgs.of_stack(config, workspace_id=ws, account_id=account_id, metric_check=metric_check),
    )

export_stack(
    workspace=workspace,
    store=store,
    roles=roles,
    services=services,
    trainings=trainings,
    pipelines=pipelines,
    notebooks=notebooks,
    registry=registry,
    alarms=alarms,
)
