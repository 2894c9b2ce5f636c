"""ModelRegistry: every served model in the workspace's model registry, every version traced to its code commit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_alicloud import pai

from components.storage import MODELS_PREFIX
from stack_config import ModelServiceConfig


@dataclass(frozen=True, kw_only=True)
class TrainedRun:
    """A version produced by a training run of the stack: its code and the DLC job that trained it."""

    repository: str
    commit: str
    job_id: pulumi.Input[str]


@dataclass(frozen=True, kw_only=True)
class ModelRegistryArgs:
    service: ModelServiceConfig
    bucket_name: str
    workspace_id: pulumi.Input[str]
    trained: Mapping[str, TrainedRun] = field(default_factory=lambda: {})  # version → the run that trained it


class ModelRegistry(pulumi.ComponentResource):
    """A ``pai.WorkspaceModel`` for the served model and a ``pai.WorkspaceModelVersion`` per deployed version.

    Each version records its OSS artifact URI (what EAS serves) and labels ``codeRepository`` and ``codeCommit``;
    a version trained by a run of this stack also names the run's DLC job (``source_type`` TrainingService,
    ``source_id`` the job id), so any endpoint version traces back to the code and the job that made it.
    Output: ``model_id``.
    """

    def __init__(self, name: str, args: ModelRegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pai-mlops:registry:ModelRegistry", name, None, opts)
        svc = args.service
        child = pulumi.ResourceOptions(parent=self)
        self.model = pai.WorkspaceModel(
            f"{name}-model",
            model_name=svc.name,
            model_description=f"{svc.name}, served from EAS group {svc.name}",
            accessibility="PRIVATE",
            origin="Custom",
            workspace_id=args.workspace_id,
            opts=child,
        )
        self.versions: dict[str, pai.WorkspaceModelVersion] = {}
        for version in svc.versions:
            run = args.trained.get(version)
            repository = run.repository if run else str(svc.code_repository)
            commit = run.commit if run else svc.code_commits[version]
            self.versions[version] = pai.WorkspaceModelVersion(
                f"{name}-{version}",
                model_id=self.model.id,
                version_name=version,
                uri=f"oss://{args.bucket_name}/{MODELS_PREFIX}{svc.name}/{version}/",
                version_description=f"{svc.name} {version} from {repository}@{commit}",
                source_type="TrainingService" if run else "Custom",
                source_id=run.job_id if run else None,
                labels=[
                    pai.WorkspaceModelVersionLabelArgs(key="codeRepository", value=repository),
                    pai.WorkspaceModelVersionLabelArgs(key="codeCommit", value=commit),
                ],
                opts=child,
            )
        self.model_id = self.model.id
        self.register_outputs({"model_id": self.model_id})
