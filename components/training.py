"""Training: one configured DLC training run wired to the stack's workspace, DLC role and artifact bucket."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

import pai_facts
from components.provider_hosts import host_for
from components.storage import CHECKPOINTS_PREFIX, DATA_PREFIX
from providers.training import CodeSource, DataSource, PodResources, TrainingJob, TrainingJobArgs
from stack_config import StackConfig, TrainingJobConfig


@dataclass(frozen=True, kw_only=True)
class TrainingArgs:
    """``job`` is the validated config of one run; ``role_arn`` is the stack's DLC role (``ServiceRoles``)."""

    job: TrainingJobConfig
    bucket_name: str
    workspace_id: pulumi.Input[str]
    role_arn: pulumi.Input[str]
    code_source_id: pulumi.Input[str] | None = None  # the job's repository, from CodeRepositories

    @classmethod
    def of_stack(
        cls,
        config: StackConfig,
        job: TrainingJobConfig,
        workspace_id: pulumi.Input[str],
        role_arn: pulumi.Input[str],
        code_source_id: pulumi.Input[str] | None,
    ) -> TrainingArgs:
        return cls(
            job=job,
            bucket_name=config.storage.bucket_name,
            workspace_id=workspace_id,
            role_arn=role_arn,
            code_source_id=code_source_id,
        )


def model_uri(bucket: str, job: TrainingJobConfig) -> str:
    """Where the run writes its model: the prefix a ``ModelService`` version of the same id reads."""
    return pai_facts.model_uri(bucket, job.name, job.run)


def checkpoint_uri(bucket: str, job: TrainingJobConfig) -> str:
    return f"oss://{bucket}/{CHECKPOINTS_PREFIX}{job.name}/{job.run}/"


class Training(pulumi.ComponentResource):
    """A ``TrainingJob`` on PAI-DLC, cloning its repository's code source (``CodeRepositories``) at the run's commit.

    The job runs as the stack's DLC RAM role (injected through ``CredentialConfig``), whose policy already limits
    it to reading ``data/`` and writing ``models/`` and ``checkpoints/``. Its mounts match: the configured
    ``data/`` folders read-only, ``models/<name>/<run>/`` at /mnt/output and ``checkpoints/<name>/<run>/`` at
    /mnt/checkpoints read-write. Outputs: ``job_id``, ``status``, ``model_uri``, ``attempts``.
    """

    def __init__(self, name: str, args: TrainingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pai-mlops:training:Training", name, None, opts)
        job = args.job
        code: CodeSource | None = None
        if job.code is not None:
            if args.code_source_id is None:
                raise ValueError(f"training job {job.name} trains from {job.code.repository}: give its code_source_id")
            code = CodeSource(
                source_id=args.code_source_id,
                commit=job.code.commit,
                branch=job.code.branch,
                repository=job.code.repository,
            )
        resources = job.resources
        self.job = TrainingJob(
            f"{name}-job",
            TrainingJobArgs(
                display_name=f"{job.name}-{job.run}",
                job_type=job.job_type,
                image=job.image,
                command=job.command,
                worker_count=job.worker_count,
                roles=dict(job.roles),
                instance_type=job.instance_type,
                resource_group=job.resource_group if job.dedicated else None,
                resources=PodResources(
                    cpu=resources.cpu, memory_gb=resources.memory_gb, gpu=resources.gpu, gpu_type=resources.gpu_type
                )
                if resources is not None
                else None,
                spot=job.spot,
                spot_discount_limit=job.spot_discount_limit,
                checkpoint_interval_minutes=job.checkpoint_interval_minutes,
                max_runtime_minutes=job.max_runtime_minutes,
                queue_timeout_minutes=job.queue_timeout_minutes,
                data_sources=[
                    DataSource(uri=f"oss://{args.bucket_name}/{DATA_PREFIX}{source.path}", mount_path=source.mount_path)
                    for source in job.data
                ],
                output_uri=model_uri(args.bucket_name, job),
                checkpoint_uri=checkpoint_uri(args.bucket_name, job),
                code=code,
                workspace_id=args.workspace_id,
                role_arn=args.role_arn,
                wait=job.wait,
                max_resubmits=job.max_resubmits,
                resubmit_on=job.resubmit_on,
                env=dict(job.env),
                tags=dict(job.tags),
                description=job.description,
                delete_records=job.delete_records,
            ),
            # A waited-for run holds a gRPC thread for hours: not on the default host.
            opts=pulumi.ResourceOptions(parent=self, provider=host_for(f"{name}-job")),
        )
        self.job_id = self.job.job_id
        self.status = self.job.status
        self.model_uri = self.job.model_uri
        self.attempts = self.job.attempts
        self.register_outputs(
            {"job_id": self.job_id, "status": self.status, "model_uri": self.model_uri, "attempts": self.attempts}
        )
