"""pai-mlops: the PAI pipeline for one stack — workspace, artifact bucket, service roles, EAS services.

    DSW (develop) ──► DLC (train) ──► OSS (artifacts, checkpoints) ──► EAS (serve)

Everything here is wiring; the logic lives in ``stack_config`` and ``components``.
"""

import pulumi

from components import (
    ArtifactStore,
    ArtifactStoreArgs,
    MlWorkspace,
    MlWorkspaceArgs,
    ModelService,
    ModelServiceArgs,
    ServiceRoles,
    ServiceRolesArgs,
    tag_transform,
)
from stack_config import load_stack_config

config = load_stack_config()
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
    ),
)
services = [
    ModelService(
        svc.name,
        ModelServiceArgs(service=svc, bucket_name=config.storage.bucket_name, workspace_id=workspace.workspace_id),
        opts=pulumi.ResourceOptions(depends_on=[store]),
    )
    for svc in config.serving.services
]

pulumi.export("workspaceId", workspace.workspace_id)
pulumi.export("bucketName", store.bucket_name)
pulumi.export("roleArns", roles.role_arns)
pulumi.export("liveServices", {service.group: service.live_service_name for service in services})
