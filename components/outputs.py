"""The stack's outputs: one ``pulumi.export`` per name, from the components the program built.

The names are the stack's contract with scripts and operators (``pulumi stack output``); tests pin the list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi

from components.blue_green import BlueGreenService
from components.container_registry import ContainerRegistry
from components.identity import ServiceRoles
from components.monitoring import ProductionAlarms
from components.notebook import Notebooks
from components.pipeline import RetrainingPipeline
from components.storage import ArtifactStore
from components.training import Training
from components.workspace import MlWorkspace


def export_stack(
    workspace: MlWorkspace,
    store: ArtifactStore,
    roles: ServiceRoles,
    services: Sequence[BlueGreenService],
    trainings: Mapping[str, Training],
    pipelines: Mapping[str, RetrainingPipeline],
    notebooks: Notebooks,
    registry: ContainerRegistry | None,
    alarms: ProductionAlarms | None,
) -> None:
    """Export every stack output (``groupAccessTokens`` is secret: the tokens are)."""
    pulumi.export("workspaceId", workspace.workspace_id)
    pulumi.export("bucketName", store.bucket_name)
    pulumi.export("roleArns", roles.role_arns)
    pulumi.export("liveServices", {service.group: service.live_service_name for service in services})
    pulumi.export("trafficWeights", {service.group: service.weights for service in services})
    pulumi.export("releaseHistory", {service.group: service.history for service in services})
    pulumi.export("groupEndpoints", {service.group: service.group_endpoint for service in services})
    pulumi.export("groupAccessTokens", {service.group: service.group_access_token for service in services})
    pulumi.export(
        "trainingRuns",
        {
            name: {"jobId": training.job_id, "status": training.status, "modelUri": training.model_uri}
            for name, training in trainings.items()
        },
    )
    pulumi.export(
        "retrainingPipelines",
        {
            name: {"pipelineId": pipeline.pipeline_id, "triggerFunction": pipeline.trigger_function}
            for name, pipeline in pipelines.items()
        },
    )
    pulumi.export("notebookUrls", notebooks.urls)
    pulumi.export("imageRepositories", registry.repositories if registry else {})
    pulumi.export("alarmRules", alarms.rules if alarms else {})  # alarm name → what to do when it fires
