"""Promotions: the versions this stack copies from another stack's bucket, gated on their release there.

For every ``promoted`` version of a served model, one ``pulumi.StackReference`` per source stack gives the source's
``modelArtifacts`` (bucket, URI, commit, training job, checksums) and ``releaseHistory``; nothing about the source
is typed twice. A :class:`~providers.promotion.ModelPromotion` copies ``models/<name>/<version>/`` into this
stack's bucket, verifying it against the source's checksums, and carries the gate's evidence, which the policy
``promotion-gate`` judges at preview (policies/rules/promotion.py). An override is logged and recorded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_alicloud import ram

from components.ram_documents import PrefixAccess, oss_prefix_policy
from config_promotion import PromotionConfig, artifact_entry
from pai_facts import model_prefix
from providers.promotion import ModelPromotion, ModelPromotionArgs
from stack_config import ModelServiceConfig, StackConfig


@dataclass(frozen=True, kw_only=True)
class PromotionsArgs:
    services: Sequence[ModelServiceConfig]
    bucket_name: str
    name_prefix: str = "pai-mlops"  # of the read policy's name: one stack per environment per account

    @classmethod
    def of_stack(cls, config: StackConfig) -> PromotionsArgs:
        return cls(
            services=config.serving.services, bucket_name=config.storage.bucket_name, name_prefix=config.name_prefix
        )


def read_policy_document(bucket: str, prefix: str) -> str:
    """Read access to one version's prefix of the source bucket, nothing else (what the copying role needs)."""
    return json.dumps(oss_prefix_policy(bucket, PrefixAccess(read=(prefix,))))


def _pick(outputs: Any, model: str, version: str) -> dict[str, Any]:
    """The source's ``modelArtifacts`` entry of one version ({} when it exports none)."""
    models = outputs if isinstance(outputs, Mapping) else {}
    versions = models.get(model)  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    entry = versions.get(version) if isinstance(versions, Mapping) else None  # pyright: ignore[reportUnknownMemberType]
    return dict(entry) if isinstance(entry, Mapping) else {}  # pyright: ignore[reportUnknownArgumentType]


def _history(outputs: Any, model: str) -> list[Any]:
    groups = outputs if isinstance(outputs, Mapping) else {}
    events = groups.get(model)  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    return list(events) if isinstance(events, list) else []  # pyright: ignore[reportUnknownArgumentType]


def override_record(promotion: PromotionConfig) -> dict[str, str] | None:
    if promotion.override is None:
        return None
    found = promotion.override
    return {"reason": found.reason, "approvedBy": found.approved_by, "ticket": found.ticket}


class Promotions(pulumi.ComponentResource):
    """Per promoted version a ``ModelPromotion`` and the RAM policy that reads only that version's source prefix
    (``<prefix>-promote-<model>-<version>``; attach it to the role that deploys this stack). Outputs:
    ``by_version`` and ``read_policies``, by (model, version)."""

    def __init__(self, name: str, args: PromotionsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pai-mlops:promotion:Promotions", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        references: dict[str, pulumi.StackReference] = {}
        self.by_version: dict[tuple[str, str], ModelPromotion] = {}
        self.read_policies: dict[tuple[str, str], ram.Policy] = {}
        for svc in args.services:
            for version, promotion in sorted(svc.promoted.items()):
                source = promotion.from_stack
                if source not in references:
                    references[source] = pulumi.StackReference(f"{name}-{promotion.stack_name}", source, opts=child)
                ref = references[source]
                # ``outputs``, not get_output: get_output schedules a secrecy check on the event loop that outlives a
                # mocked run (the offline plan runs several programs in one process).
                artifact = ref.outputs.apply(lambda o, m=svc.name, v=version: _pick(o.get("modelArtifacts"), m, v))
                override = override_record(promotion)
                if override is not None:
                    pulumi.log.warn(
                        f"{svc.name} {version}: the promotion gate is overridden ({override['ticket']}, approved by "
                        f"{override['approvedBy']}: {override['reason']}); recorded in the model registry"
                    )
                # The artifact's bucket, else the source's bucketName (an overridden version it does not list).
                bucket = ref.outputs.apply(
                    lambda o, m=svc.name, v=version: str(
                        _pick(o.get("modelArtifacts"), m, v).get("bucket") or o.get("bucketName") or ""
                    )
                )
                prefix = model_prefix(svc.name, version)
                # RAM policy names take letters, digits and hyphens (RAM CreatePolicy PolicyName).
                self.read_policies[(svc.name, version)] = ram.Policy(
                    f"{name}-{svc.name}-{version}-read",
                    policy_name=f"{args.name_prefix}-promote-{svc.name.replace('_', '-')}-{version.replace('_', '-')}",
                    policy_document=bucket.apply(lambda b, p=prefix: read_policy_document(b, p)),
                    description=f"pai-mlops: read {source}'s {prefix} to promote it (attach to the deploy role)",
                    opts=child,
                )
                self.by_version[(svc.name, version)] = ModelPromotion(
                    f"{name}-{svc.name}-{version}",
                    ModelPromotionArgs(
                        source_bucket=bucket,
                        source_prefix=prefix,
                        dest_bucket=args.bucket_name,
                        dest_prefix=prefix,
                        expected=artifact.apply(lambda a: dict(a.get("checksums") or {})),
                        lineage=artifact.apply(lambda a, s=source, o=override: _lineage(s, a, o)),
                        source_stack=source,
                        model=svc.name,
                        version=version,
                        live=svc.live == version,
                        release_history=ref.outputs.apply(lambda o, m=svc.name: _history(o.get("releaseHistory"), m)),
                        source_artifact=artifact,
                        commit=svc.code_commits.get(version),
                        override=override,
                    ),
                    opts=child,
                )
        self.register_outputs({})


def _lineage(source: str, artifact: Mapping[str, Any], override: Mapping[str, str] | None) -> dict[str, str]:
    """Where the version came from, as the registry labels it: source stack and URI, commit, training job."""
    lineage = {"sourceStack": source, "sourceUri": str(artifact.get("uri") or "")}
    for key in ("commit", "trainingJob"):
        if artifact.get(key):
            lineage[key] = str(artifact[key])
    if override is not None:
        lineage["gateOverride"] = override["ticket"]
    return lineage


def model_artifacts(
    services: Sequence[ModelServiceConfig],
    bucket: str,
    trained: Mapping[tuple[str, str], tuple[str | None, pulumi.Input[str]]],
    promotions: Mapping[tuple[str, str], ModelPromotion],
) -> dict[str, dict[str, Any]]:
    """The ``modelArtifacts`` output other stacks promote from: every served version's bucket, URI and lineage.

    ``trained`` maps (model, version) to the training run's (commit, DLC job id); a promoted version adds the
    checksums its promotion verified and the source's lineage.
    """
    artifacts: dict[str, dict[str, Any]] = {}
    for svc in services:
        entries: dict[str, Any] = {}
        for version in svc.versions:
            run = trained.get((svc.name, version))
            promotion = promotions.get((svc.name, version))
            origin = "trained" if run else "promoted" if promotion else "listed"
            commit = run[0] if run else svc.code_commits.get(version)
            source = svc.promoted[version].from_stack if promotion else None
            entry: dict[str, Any] = artifact_entry(
                bucket, svc.name, version, commit=commit, origin=origin, source_stack=source
            )
            if run:
                entry["trainingJob"] = run[1]
            if promotion:
                entry["checksums"] = promotion.checksums
                entry["trainingJob"] = promotion.source_artifact.apply(lambda a: str(a.get("trainingJob") or ""))
            entries[version] = entry
        artifacts[svc.name] = entries
    return artifacts


def model_artifacts_of(
    config: StackConfig, trainings: Mapping[str, Any], promotions: Mapping[tuple[str, str], ModelPromotion]
) -> dict[str, dict[str, Any]]:
    """:func:`model_artifacts` of the stack: its trained runs (commit, DLC job id) and its promotions."""
    trained = {
        (job.name, job.run): (job.code.commit if job.code else None, trainings[job.name].job_id)
        for job in config.training.jobs
    }
    return model_artifacts(config.serving.services, config.storage.bucket_name, trained, promotions)
