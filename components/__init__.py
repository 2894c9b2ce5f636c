"""ComponentResources of the pipeline, one concern per module."""

from components.blue_green import BlueGreenService, BlueGreenServiceArgs
from components.identity import ServiceRoles, ServiceRolesArgs
from components.serving import ModelService, ModelServiceArgs
from components.storage import ArtifactStore, ArtifactStoreArgs
from components.tagging import tag_transform
from components.training import Training, TrainingArgs
from components.workspace import MlWorkspace, MlWorkspaceArgs

__all__ = [
    "ArtifactStore",
    "ArtifactStoreArgs",
    "BlueGreenService",
    "BlueGreenServiceArgs",
    "MlWorkspace",
    "MlWorkspaceArgs",
    "ModelService",
    "ModelServiceArgs",
    "ServiceRoles",
    "ServiceRolesArgs",
    "Training",
    "TrainingArgs",
    "tag_transform",
]
