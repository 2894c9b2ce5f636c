"""ModelRegistry: every served model in the workspace's model registry, every version traced to its code commit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_alicloud import pai

from pai_facts import model_uri
from stack_config import ModelServiceConfig, StackConfig


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
    region: str = "cn-hangzhou"
    trained: Mapping[str, TrainedRun] = field(default_factory=lambda: {})  # version → the run that trained it
    # version → its promotion's lineage (sourceStack, sourceUri, commit, trainingJob, gateOverride): labels
    promoted: Mapping[str, pulumi.Output[dict[str, str]]] = field(default_factory=lambda: {})

    @classmethod
    def of_stack(
        cls,
        config: StackConfig,
        service: ModelServiceConfig,
        workspace_id: pulumi.Input[str],
        job_ids: Mapping[str, pulumi.Input[str]],
        promotions: Mapping[tuple[str, str], Any] | None = None,
    ) -> ModelRegistryArgs:
        """``service``'s versions, each trained by a run of the stack (``job_ids``: job name → DLC job id) recorded
        with its code and job (:meth:`StackConfig.runs_serving`)."""
        trained = {
            job.run: TrainedRun(repository=job.code.repository, commit=job.code.commit, job_id=job_ids[job.name])
            for job in config.runs_serving(service)
            if job.code is not None
        }
        return cls(
            service=service,
            bucket_name=config.storage.bucket_name,
            workspace_id=workspace_id,
            region=config.region,
            trained=trained,
            promoted={v: p.lineage for (m, v), p in (promotions or {}).items() if m == service.name},
        )


def source_id(region: str, workspace_id: str, job_id: str) -> str:
    # kind: "PipelineRun (PAI pipeline) and ServiceJob (training service)" per the SDK docstring; a DLC job is
    # the training service's job. UNCONFIRMED whether the registry checks the id against DLC.
    return f"region={region},workspaceId={workspace_id},kind=ServiceJob,id={job_id}"


PROMOTION_LABELS = ("sourceStack", "sourceUri", "trainingJob", "gateOverride")


def promotion_labels(lineage: pulumi.Output[dict[str, str]] | None) -> list[pai.WorkspaceModelVersionLabelArgs]:
    """A promoted version's lineage as registry labels ('none' for a value the source did not record)."""
    if lineage is None:
        return []
    return [
        pai.WorkspaceModelVersionLabelArgs(
            key=label, value=lineage.apply(lambda found, k=label: found.get(k) or "none")
        )
        for label in PROMOTION_LABELS
    ]


def retraining_labels(service: ModelServiceConfig, version: str) -> list[pai.WorkspaceModelVersionLabelArgs]:
    """What started the pipeline run that trained ``version`` (``retrainedBy``): ``trigger``, and for a run the drift
    check started, ``driftMethod`` and ``driftScore`` (the largest per-feature figure, e.g. the PSI max)."""
    lineage = service.retrained_by.get(version)
    if lineage is None:
        return []
    labels = {"trigger": lineage.trigger}
    if lineage.method is not None and lineage.score is not None:
        labels.update(driftMethod=lineage.method, driftScore=f"{lineage.score:g}")
    return [pai.WorkspaceModelVersionLabelArgs(key=k, value=v) for k, v in labels.items()]


class ModelRegistry(pulumi.ComponentResource):
    """A ``pai.WorkspaceModel`` for the served model and a ``pai.WorkspaceModelVersion`` per deployed version.

    Each version records its OSS artifact URI (what EAS serves) and labels ``codeRepository``, ``codeCommit`` and
    ``projectVersion`` (the id in config, e.g. ``v6``); a version trained by a run of this stack also names the
    run's DLC job (``source_type`` TrainingService), so any endpoint version traces back to the code and the job.
    A version a retraining pipeline trained says what started the run (``retrainedBy``: ``trigger``, and for drift
    ``driftMethod`` and ``driftScore``).

    The registry's own rules (alibabacloud_aiworkspace20210204 8.3.5 ``CreateModelVersionRequest``): the version
    name is ``major.minor.patch`` (:meth:`ModelServiceConfig.registry_version`: ``registryVersions`` or ``v<N>`` →
    ``N.0.0``); an OSS URI is ``oss://<bucket>.<endpoint>/<path>`` (:func:`pai_facts.model_uri` with the region);
    ``source_id`` is ``region=<r>,workspaceId=<w>,kind=<kind>,id=<id>``. Output: ``model_id``.
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
                version_name=svc.registry_version(version),
                uri=model_uri(args.bucket_name, svc.name, version, region=args.region),
                version_description=f"{svc.name} {version} from {repository}@{commit}",
                source_type="TrainingService" if run else "Custom",
                source_id=(
                    pulumi.Output.all(args.workspace_id, run.job_id).apply(
                        lambda ids: source_id(args.region, str(ids[0]), str(ids[1]))
                    )
                    if run
                    else None
                ),
                labels=[
                    pai.WorkspaceModelVersionLabelArgs(key="codeRepository", value=repository),
                    pai.WorkspaceModelVersionLabelArgs(key="codeCommit", value=commit),
                    pai.WorkspaceModelVersionLabelArgs(key="projectVersion", value=version),
                    *promotion_labels(args.promoted.get(version)),
                    *retraining_labels(svc, version),
                ],
                opts=child,
            )
        self.model_id = self.model.id
        self.register_outputs({"model_id": self.model_id})
