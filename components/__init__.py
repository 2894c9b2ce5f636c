"""ComponentResources of the pipeline, one concern per module."""

from components.blue_green import BlueGreenService, BlueGreenServiceArgs
from components.code import CodeRepositories, CodeRepositoriesArgs
from components.container_registry import ContainerRegistry, ContainerRegistryArgs
from components.dashboards import StackDashboard, StackDashboardArgs, dashboard_checks, merged_checks
from components.identity import ServiceRoles, ServiceRolesArgs
from components.model_registry import ModelRegistry, ModelRegistryArgs, TrainedRun
from components.monitoring import ProductionAlarms, ProductionAlarmsArgs
from components.notebook import Notebooks, NotebooksArgs
from components.pipeline import RetrainingPipeline, RetrainingPipelineArgs
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
    "CodeRepositories",
    "CodeRepositoriesArgs",
    "ContainerRegistry",
    "ContainerRegistryArgs",
    "MlWorkspace",
    "MlWorkspaceArgs",
    "ModelRegistry",
    "ModelRegistryArgs",
    "ModelService",
    "ModelServiceArgs",
    "Notebooks",
    "NotebooksArgs",
    "ProductionAlarms",
    "ProductionAlarmsArgs",
    "RetrainingPipeline",
    "RetrainingPipelineArgs",
    "ServiceRoles",
    "ServiceRolesArgs",
    "StackDashboard",
    "StackDashboardArgs",
    "TrainedRun",
    "Training",
    "TrainingArgs",
    "dashboard_checks",
    "merged_checks",
    "tag_transform",
]
