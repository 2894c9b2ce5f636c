"""ServiceRoles: one RAM role each for DSW, DLC and EAS, scoped to the bucket prefixes they need.

The ``-eas`` role is the custom role every EAS service runs with (``role_arn`` + ``options.enable_ram_role`` in the
service config, providers/eas_service.py): per "Configure the EAS RAM role"
(https://www.alibabacloud.com/help/en/pai/user-guide/configure-the-eas-ram-role), with a custom role EAS accesses
the mounted data sources and pulls the custom image with that role's permissions, so its OSS read on ``models/`` and
its ``kms:Decrypt`` on the bucket's customer key are what let EAS load an SSE-KMS model. The deployer needs
``ram:PassRole`` on it (same page). The trust principal PAI uses for custom roles is UNCONFIRMED (docs/day-one.md
checklist).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import pulumi
from pulumi_alicloud import ram

from components.ram_documents import PrefixAccess, deny_overwrite, kms_key_policy, oss_prefix_policy, trust_policy
from components.storage import CHECKPOINTS_PREFIX, DATA_PREFIX
from pai_facts import MODELS_PREFIX, model_prefix
from stack_config import StackConfig

# DSW explores data; DLC trains on data and writes its own runs' models and (rotating) checkpoints (training_access);
# EAS serves models.
ROLE_ACCESS: Final[Mapping[str, PrefixAccess]] = {
    "dsw": PrefixAccess(read=(DATA_PREFIX,)),
    "dlc": PrefixAccess(read=(DATA_PREFIX,)),
    "eas": PrefixAccess(read=(MODELS_PREFIX,)),
}


def attach_custom_policy(
    name: str,
    role: ram.Role,
    *,
    policy_name: pulumi.Input[str],
    document: pulumi.Input[str],
    description: str,
    opts: pulumi.ResourceOptions,
) -> ram.Policy:
    """A custom RAM policy and its attachment to ``role``, both under the logical name ``name`` (their URNs are in
    every stack's state: the roles of this module, the retraining trigger's, and its drift check's)."""
    policy = ram.Policy(name, policy_name=policy_name, policy_document=document, description=description, opts=opts)
    ram.RolePolicyAttachment(
        name, policy_name=policy.policy_name, policy_type="Custom", role_name=role.role_name, opts=opts
    )
    return policy


def training_access(runs: Sequence[tuple[str, str]], pipeline_models: Sequence[str] = ()) -> PrefixAccess:
    """What the DLC role may do: read ``data/``, write only each configured run's ``models/<name>/<run>/`` and
    ``checkpoints/<name>/<run>/`` (the paths components/training.py mounts), delete only those checkpoints.

    A retraining pipeline's DLC job runs as this role too (components/pipeline.py ``job_config``). Its run ids are
    made when a run starts (``r<UTC time>``), so for each model a pipeline trains the role may write
    ``models/<model>/`` and ``checkpoints/<model>/`` under any run; the served versions stay protected by the
    explicit Deny (``deny_overwrite``)."""
    retrained = set(pipeline_models)
    own = sorted({(name, run) for name, run in runs if name not in retrained})  # a model's whole prefix covers them
    models = tuple(model_prefix(name, run) for name, run in own)
    checkpoints = tuple(f"{CHECKPOINTS_PREFIX}{name}/{run}/" for name, run in own)
    models += tuple(f"{MODELS_PREFIX}{name}/" for name in sorted(retrained))
    checkpoints += tuple(f"{CHECKPOINTS_PREFIX}{name}/" for name in sorted(retrained))
    return PrefixAccess(read=(DATA_PREFIX,), write=models + checkpoints, delete=checkpoints)


def deployed_prefixes(versions: Sequence[tuple[str, str]]) -> list[str]:
    """``models/<model>/<version>/`` of every version the stack serves (pai_facts.model_prefix)."""
    return sorted({model_prefix(model, version) for model, version in versions})


# UNCONFIRMED: the principal PAI uses to assume a custom instance role; override per role if needed.
PAI_SERVICE_PRINCIPAL: Final = "pai.aliyuncs.com"


@dataclass(frozen=True, kw_only=True)
class ServiceRolesArgs:
    """``name_prefix`` makes role and policy names unique per stack in a shared account. ``training_runs``
    (name, run) are the runs the DLC role may write, ``pipeline_models`` the models retraining pipelines train;
    ``deployed_versions`` (model, version) are served, so no
    training role may overwrite them (an explicit Deny, even when a run has a served version's name)."""

    bucket_name: str
    name_prefix: str
    kms_key_arn: pulumi.Input[str] | None = None
    training_runs: tuple[tuple[str, str], ...] = ()
    pipeline_models: tuple[str, ...] = ()
    deployed_versions: tuple[tuple[str, str], ...] = ()
    trusted_services: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: {kind: (PAI_SERVICE_PRINCIPAL,) for kind in ROLE_ACCESS}
    )

    @classmethod
    def of_stack(cls, config: StackConfig, *, kms_key_arn: pulumi.Input[str] | None) -> ServiceRolesArgs:
        """The roles of every configured training run and served version."""
        return cls(
            bucket_name=config.storage.bucket_name,
            name_prefix=config.name_prefix,
            kms_key_arn=kms_key_arn,
            training_runs=config.training_runs(),
            pipeline_models=config.pipeline_models(),
            deployed_versions=config.deployed_versions(),
        )


class ServiceRoles(pulumi.ComponentResource):
    """Three RAM roles (``<prefix>-dsw``, ``-dlc``, ``-eas``), each with a custom OSS policy.

    The OSS policy documents are built from plain values, so they are known at preview. With a KMS
    key, each role also gets a second policy allowing the key's use (its ARN is only known after
    the key exists). Output: ``role_arns`` (kind → ARN).
    """

    def __init__(self, name: str, args: ServiceRolesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pai-mlops:identity:ServiceRoles", name, None, opts)
        self.roles: dict[str, ram.Role] = {}
        for kind, access in ROLE_ACCESS.items():
            self.roles[kind] = self._role(
                name, kind, training_access(args.training_runs, args.pipeline_models) if kind == "dlc" else access, args
            )
        self.role_arns = {kind: role.arn for kind, role in self.roles.items()}
        # The account the roles live in, read from an ARN (acs:ram::<uid>:role/<name>).
        self.account_id: pulumi.Output[str] = self.role_arns["dlc"].apply(lambda arn: arn.split(":")[3])
        self.register_outputs({"role_arns": self.role_arns})

    def _role(self, name: str, kind: str, access: PrefixAccess, args: ServiceRolesArgs) -> ram.Role:
        child = pulumi.ResourceOptions(parent=self)
        role_name = f"{args.name_prefix}-{kind}"
        role = ram.Role(
            f"{name}-{kind}",
            role_name=role_name,
            assume_role_policy_document=json.dumps(trust_policy(args.trusted_services[kind])),
            description=f"pai-mlops {kind.upper()} role: bucket {args.bucket_name}",
            max_session_duration=3600,
            opts=child,
        )
        oss = oss_prefix_policy(args.bucket_name, access)
        if access.write and args.deployed_versions:
            oss["Statement"].append(deny_overwrite(args.bucket_name, deployed_prefixes(args.deployed_versions)))
        documents: dict[str, pulumi.Input[str]] = {"oss": json.dumps(oss)}
        if args.kms_key_arn is not None:
            encrypt = bool(access.write)
            documents["kms"] = pulumi.Output.from_input(args.kms_key_arn).apply(
                lambda arn: json.dumps(kms_key_policy(arn, encrypt=encrypt))
            )
        for suffix, document in documents.items():
            attach_custom_policy(
                f"{name}-{kind}-{suffix}",
                role,
                policy_name=f"{role_name}-{suffix}",
                document=document,
                description=f"pai-mlops {kind.upper()} {suffix.upper()} access",
                opts=child,
            )
        return role
