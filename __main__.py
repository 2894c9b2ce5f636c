"""pai-mlops: the PAI pipeline for one stack — workspace, artifact bucket, service roles, training runs, EAS services.

    DSW (develop) ──► DLC (train) ──► OSS (artifacts, checkpoints) ──► EAS (serve)

Everything here is wiring; the logic lives in ``stack_config`` and ``components``.
"""

import pulumi

from components import (
    ArtifactStore,
    ArtifactStoreArgs,
    BlueGreenService,
    BlueGreenServiceArgs,
    CodeRepositories,
    CodeRepositoriesArgs,
    ContainerRegistry,
    ContainerRegistryArgs,
    MlWorkspace,
    MlWorkspaceArgs,
    ModelRegistry,
    ModelRegistryArgs,
    Notebooks,
    NotebooksArgs,
    ProductionAlarms,
    ProductionAlarmsArgs,
    RetrainingPipeline,
    RetrainingPipelineArgs,
    ServiceRoles,
    ServiceRolesArgs,
    TrainedRun,
    Training,
    TrainingArgs,
    tag_transform,
)
from components.monitoring import metric_checks, uses_gpu
from components.promotion import Promotions, PromotionsArgs, model_artifacts
from components.provider_hosts import set_lanes
from providers.metric_meta import MetricMetaCheck, MetricMetaCheckArgs
from stack_config import RepositoryConfig, load_stack_config

config = load_stack_config()
set_lanes(config.provider_hosts)
pulumi.runtime.register_resource_transform(tag_transform(config.tags))

workspace = MlWorkspace(
    "workspace",
    MlWorkspaceArgs(workspace_name=config.workspace.name, description=config.workspace.description),
)
store = ArtifactStore(
    "artifacts",
    ArtifactStoreArgs(
        bucket_name=config.storage.bucket_name,
        kms_encryption=config.storage.kms_encryption,
        checkpoint_retention_days=config.storage.checkpoint_retention_days,
        access_log_retention_days=config.storage.access_log_retention_days,
        resource_group_id=workspace.resource_group_id,
        protect=config.protect_stateful,
    ),
)
roles = ServiceRoles(
    "roles",
    ServiceRolesArgs(
        bucket_name=config.storage.bucket_name,
        name_prefix=config.name_prefix,
        kms_key_arn=store.kms_key_arn,
        training_runs=tuple((job.name, job.run) for job in config.training.jobs),
        pipeline_models=tuple(item.training for item in config.pipeline.retraining),  # models/<job name>/
        deployed_versions=tuple((svc.name, version) for svc in config.serving.services for version in svc.versions),
    ),
)
# Versions copied from another stack's bucket, gated on their release there (README "Promotion").
promotions = (
    Promotions(
        "promotions",
        PromotionsArgs(
            services=config.serving.services, bucket_name=config.storage.bucket_name, name_prefix=config.name_prefix
        ),
        opts=pulumi.ResourceOptions(depends_on=[store]),
    )
    if any(svc.promoted for svc in config.serving.services)
    else None
)
serving_token = pulumi.Config().get_secret("servingToken")  # optional: rotates every EAS service's access token
registry_auth = pulumi.Config().get_secret("registryAuth")  # optional: dockerAuth for private serving images
services = [
    BlueGreenService(
        svc.name,
        BlueGreenServiceArgs(
            service=svc,
            bucket_name=config.storage.bucket_name,
            workspace_id=workspace.workspace_id,
            metrics=config.serving.metrics,
            token=serving_token,
            role_arn=roles.role_arns["eas"],
            retain_legacy=config.serving.retain_pai_services,
            docker_auth=registry_auth,
            artifacts={v: p for (m, v), p in (promotions.by_version if promotions else {}).items() if m == svc.name},
        ),
        opts=pulumi.ResourceOptions(depends_on=[store, roles]),
    )
    for svc in config.serving.services
]

# Secret config is read as an Output, so it stays encrypted in state and masked in previews.
git_access_token = pulumi.Config().get_secret("gitAccessToken")
repositories: dict[str, RepositoryConfig] = {
    job.code.repository: job.code for job in config.training.jobs if job.code is not None
}
if config.notebook.code is not None:
    repositories.setdefault(config.notebook.code.repository, config.notebook.code)
code = CodeRepositories(
    "code",
    CodeRepositoriesArgs(repositories=repositories, workspace_id=workspace.workspace_id, access_token=git_access_token),
)
trainings = {
    job.name: Training(
        f"train-{job.name}",
        TrainingArgs(
            job=job,
            bucket_name=config.storage.bucket_name,
            workspace_id=workspace.workspace_id,
            role_arn=roles.role_arns["dlc"],
            code_source_id=code.source_ids[job.code.repository] if job.code else None,
        ),
        opts=pulumi.ResourceOptions(depends_on=[store, roles]),
    )
    for job in config.training.jobs
}
notebooks = Notebooks(
    "notebooks",
    NotebooksArgs(
        notebook=config.notebook,
        bucket_name=config.storage.bucket_name,
        region=config.region,
        workspace_id=workspace.workspace_id,
        workspace_name=config.workspace.name,
        role_arn=roles.role_arns["dsw"],
    ),
    opts=pulumi.ResourceOptions(depends_on=[store, roles]),
)
registries = [
    ModelRegistry(
        f"registry-{svc.name}",
        ModelRegistryArgs(
            service=svc,
            bucket_name=config.storage.bucket_name,
            workspace_id=workspace.workspace_id,
            region=config.region,
            trained={
                job.run: TrainedRun(
                    repository=job.code.repository, commit=job.code.commit, job_id=trainings[job.name].job_id
                )
                for job in config.training.jobs
                if job.name == svc.name and job.code is not None and job.run in svc.versions
            },
            promoted={
                version: promotion.lineage
                for (model, version), promotion in (promotions.by_version if promotions else {}).items()
                if model == svc.name
            },
        ),
    )
    for svc in config.serving.services
]
services_by_name = {svc.name: svc for svc in config.serving.services}
jobs_by_name = {job.name: job for job in config.training.jobs}
pipelines = [
    RetrainingPipeline(
        f"pipeline-{item.name}",
        RetrainingPipelineArgs(
            pipeline=item,
            provider=str(config.pipeline.provider),
            bucket_name=config.storage.bucket_name,
            training=jobs_by_name[item.training],
            service=services_by_name[item.model],
            workspace_id=workspace.workspace_id,
            region=config.region,
            name_prefix=config.name_prefix,
        ),
        opts=pulumi.ResourceOptions(depends_on=[store]),
    )
    for item in config.pipeline.retraining
]
registry = (
    ContainerRegistry("images", ContainerRegistryArgs(registry=config.registry, environment=config.environment))
    if config.registry is not None
    else None
)
# `pulumi up` first proves the CloudMonitor metrics the gates and alarms watch exist (their names are unconfirmed).
watched = metric_checks(
    config.serving.metrics if config.serving.services else None,
    config.alarms if config.environment == "prod" else None,
    gpu=any(uses_gpu(job) for job in config.training.jobs),
)
metric_check = MetricMetaCheck("metric-meta", MetricMetaCheckArgs(checks=watched)) if watched else None
alarms = (
    ProductionAlarms(
        "alarms",
        ProductionAlarmsArgs(
            services=config.serving.services,
            metrics=config.serving.metrics,
            alarms=config.alarms,
            training_jobs=config.training.jobs,
            workspace_id=workspace.workspace_id,
            name_prefix=config.name_prefix,
            account_id=roles.role_arns["dlc"].apply(lambda arn: arn.split(":")[3]),  # acs:ram::<uid>:role/<name>
            region=config.region,
            metric_check=metric_check,
        ),
    )
    if config.environment == "prod"
    else None
)

pulumi.export("workspaceId", workspace.workspace_id)
pulumi.export("bucketName", store.bucket_name)
pulumi.export("roleArns", roles.role_arns)
pulumi.export("liveServices", {service.group: service.live_service_name for service in services})
pulumi.export("trafficWeights", {service.group: service.weights for service in services})
pulumi.export("releaseHistory", {service.group: service.history for service in services})
pulumi.export("groupEndpoints", {service.group: service.group_endpoint for service in services})
pulumi.export("groupAccessTokens", {service.group: service.group_access_token for service in services})  # secret
pulumi.export(
    "trainingRuns",
    {
        job.name: {"jobId": training.job_id, "status": training.status, "modelUri": training.model_uri}
        for job, training in ((job, trainings[job.name]) for job in config.training.jobs)
    },
)
pulumi.export(
    "retrainingPipelines",
    {
        item.name: {"pipelineId": pipeline.pipeline_id, "triggerFunction": pipeline.trigger_function}
        for item, pipeline in zip(config.pipeline.retraining, pipelines, strict=True)
    },
)
pulumi.export(
    "modelArtifacts",  # what another stack promotes from
    model_artifacts(
        config.serving.services,
        config.storage.bucket_name,
        {
            (job.name, job.run): (job.code.commit if job.code else None, trainings[job.name].job_id)
            for job in config.training.jobs
        },
        promotions.by_version if promotions else {},
    ),
)
pulumi.export("notebookUrls", notebooks.urls)
pulumi.export("imageRepositories", registry.repositories if registry else {})
pulumi.export("alarmRules", alarms.rules if alarms else {})  # alarm name → what to do when it fires
