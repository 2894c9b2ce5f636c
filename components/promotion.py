"""Promotions: the versions this stack copies from another stack's bucket, gated on their release there.

For every ``promoted`` version of a served model, one ``pulumi.StackReference`` per source stack gives the source's
``modelArtifacts`` (bucket, URI, commit, training job, checksums) and ``releaseHistory``; nothing about the source
is typed twice. A :class:`~providers.promotion.ModelPromotion` copies ``models/<name>/<version>/`` into this
stack's bucket, verifying it against the source's checksums, and carries the gate's evidence, which the policy
``promotion-gate`` judges at preview (policies/rules/promotion.py). An override is logged and recorded.

The copy runs as the stack's copy role (``<prefix>-promote-copy``, components/copy_role.py), which only the
deploying identity may assume and which holds, per promoted version, a read policy on exactly the source prefix
and a write policy on exactly the destination prefix, attached before the copy starts; with SSE-KMS also the keys'
use. Each copy's session is narrowed further to its own version's prefixes by an STS session policy
(providers/copy_session.py ``session_policy``), so one version's copy cannot touch another's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_alicloud import ram

from components import copy_role as documents
from config_promotion import PromotionConfig, artifact_entry
from pai_facts import model_prefix
from providers.promotion import ModelPromotion, ModelPromotionArgs
from stack_config import ModelServiceConfig, StackConfig


@dataclass(frozen=True, kw_only=True)
class PromotionsArgs:
    services: Sequence[ModelServiceConfig]
    bucket_name: str
    account_id: pulumi.Input[str]  # the account the copy role lives in (its trust names it or the deployer)
    name_prefix: str = "pai-mlops"  # of the role's and policies' names: one stack per environment per account
    deployer_arn: str | None = None  # the one identity the copy role trusts (None: the account's root principal)
    kms_key_arn: pulumi.Input[str] | None = None  # this bucket's CMK (SSE-KMS writes need its data keys)

    @classmethod
    def of_stack(
        cls, config: StackConfig, *, account_id: pulumi.Input[str], kms_key_arn: pulumi.Input[str] | None
    ) -> PromotionsArgs:
        return cls(
            services=config.serving.services,
            bucket_name=config.storage.bucket_name,
            account_id=account_id,
            name_prefix=config.name_prefix,
            deployer_arn=config.deployer_arn,
            kms_key_arn=kms_key_arn,
        )


def read_policy_document(bucket: str, prefix: str) -> str:
    """Read access to one version's prefix of the source bucket, nothing else (what the copy role needs)."""
    return documents.read_document(bucket, prefix)


def policy_name(name_prefix: str, model: str, version: str) -> str:
    # RAM policy names take letters, digits and hyphens (RAM CreatePolicy PolicyName).
    return f"{name_prefix}-promote-{model.replace('_', '-')}-{version.replace('_', '-')}"


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
    """The copy role and, per promoted version, a ``ModelPromotion`` and the two RAM policies attached to the role:
    read only that version's source prefix (``<prefix>-promote-<model>-<version>``), write only its destination
    prefix (``…-write``). Outputs: ``copy_role``, and ``by_version``, ``read_policies``, ``write_policies`` by
    (model, version)."""

    def __init__(self, name: str, args: PromotionsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pai-mlops:promotion:Promotions", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        references: dict[str, pulumi.StackReference] = {}
        self.by_version: dict[tuple[str, str], ModelPromotion] = {}
        self.read_policies: dict[tuple[str, str], ram.Policy] = {}
        self.write_policies: dict[tuple[str, str], ram.Policy] = {}
        role_name = documents.copy_role_name(args.name_prefix)
        self.copy_role = ram.Role(
            f"{name}-copy",
            role_name=role_name,
            # Known at preview when the deployer is named, so the trust rule judges it offline.
            assume_role_policy_document=documents.trust_document("", args.deployer_arn)
            if args.deployer_arn
            else pulumi.Output.from_input(args.account_id).apply(
                lambda account: documents.trust_document(account, None)
            ),
            description=f"pai-mlops: copies promoted model versions into {args.bucket_name} (ModelPromotion)",
            max_session_duration=3600,
            opts=child,
        )
        for svc in args.services:
            for promotion in svc.promoted.values():
                if promotion.from_stack not in references:
                    references[promotion.from_stack] = pulumi.StackReference(
                        f"{name}-{promotion.stack_name}", promotion.from_stack, opts=child
                    )
        # Each source stack's bucket key, when it exports one; used to decrypt what the copy reads.
        source_keys = [ref.outputs.apply(lambda o: str(o.get("bucketKmsKeyArn") or "")) for ref in references.values()]
        attachments = self._kms(name, args, source_keys)
        for svc in args.services:
            for version, promotion in sorted(svc.promoted.items()):
                source = promotion.from_stack
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
                read = ram.Policy(
                    f"{name}-{svc.name}-{version}-read",
                    policy_name=policy_name(args.name_prefix, svc.name, version),
                    policy_document=bucket.apply(lambda b, p=prefix: read_policy_document(b, p)),
                    description=documents.description("read", source, prefix),
                    opts=child,
                )
                write = ram.Policy(
                    f"{name}-{svc.name}-{version}-write",
                    policy_name=policy_name(args.name_prefix, svc.name, version) + "-write",
                    policy_document=documents.write_document(args.bucket_name, prefix),
                    description=documents.description("write", source, prefix),
                    opts=child,
                )
                self.read_policies[(svc.name, version)], self.write_policies[(svc.name, version)] = read, write
                attached = [
                    self._attach(f"{name}-{svc.name}-{version}-{kind}-attachment", p)
                    for kind, p in (("read", read), ("write", write))
                ]
                self.by_version[(svc.name, version)] = ModelPromotion(
                    f"{name}-{svc.name}-{version}",
                    ModelPromotionArgs(
                        source_bucket=bucket,
                        source_prefix=prefix,
                        dest_bucket=args.bucket_name,
                        dest_prefix=prefix,
                        copy_role_arn=self.copy_role.arn,
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
                    # The role's policies attached first (RAM may still take a moment: the copy waits, bounded).
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[*attachments, *attached]),
                )
        self.register_outputs({"copy_role_arn": self.copy_role.arn})

    def _attach(self, name: str, policy: ram.Policy) -> ram.RolePolicyAttachment:
        return ram.RolePolicyAttachment(
            name,
            policy_name=policy.policy_name,
            policy_type="Custom",
            role_name=self.copy_role.role_name,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _kms(
        self, name: str, args: PromotionsArgs, source_keys: list[pulumi.Output[str]]
    ) -> list[ram.RolePolicyAttachment]:
        """The keys' use, when this bucket has a CMK (a source stack exports its own as ``bucketKmsKeyArn``); the
        attachment every copy waits for."""
        if args.kms_key_arn is None:
            return []
        document = pulumi.Output.all(pulumi.Output.from_input(args.kms_key_arn), *source_keys).apply(
            lambda keys: documents.kms_document(str(keys[0]), [str(k) for k in keys[1:]])
        )
        policy = ram.Policy(
            f"{name}-copy-kms",
            policy_name=f"{documents.copy_role_name(args.name_prefix)}-kms",
            policy_document=document,
            description="pai-mlops promotion copy role: decrypt the source buckets' objects, encrypt this bucket's",
            opts=pulumi.ResourceOptions(parent=self),
        )
        return [self._attach(f"{name}-copy-kms-attachment", policy)]


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
