"""Pure builders for RAM documents: role trust policies and least-privilege OSS/KMS policies.

Everything here takes plain values and returns plain dicts, so the documents are known at
preview (the policy pack can check them) and are table-tested without any engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

POLICY_VERSION: Final = "1"
OBJECT_READ: Final = ("oss:GetObject",)
OBJECT_WRITE: Final = ("oss:PutObject", "oss:AbortMultipartUpload", "oss:ListParts")
OBJECT_DELETE: Final = ("oss:DeleteObject",)
OBJECT_OVERWRITE: Final = ("oss:PutObject", "oss:DeleteObject")


@dataclass(frozen=True, kw_only=True)
class PrefixAccess:
    """What one service role may do under which bucket prefixes (each ending in '/')."""

    read: tuple[str, ...] = ()
    write: tuple[str, ...] = ()
    delete: tuple[str, ...] = ()


def trust_policy(services: Sequence[str]) -> dict[str, Any]:
    """A trust policy that lets only the given Alibaba Cloud services assume the role."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": sorted(services)}},
        ],
    }


def account_trust_policy(principals: Sequence[str]) -> dict[str, Any]:
    """A trust policy that lets only the given RAM identities assume the role: ``acs:ram::<uid>:root`` (any identity
    of that account that is also granted ``sts:AssumeRole`` on the role) or one user's or role's ARN (RAM CreateRole,
    AssumeRolePolicyDocument example ``{"RAM": "acs:ram::<uid>:root"}``,
    https://help.aliyun.com/zh/resource-management/api-createrole; a role's ARN as principal:
    aliyun/alibabacloud-landing-zone solution/solution-ecs-sts-token/deployment/create_role_cross_account/main.tf)."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": sorted(principals)}}],
    }


def _objects(bucket: str, prefixes: Sequence[str]) -> list[str]:
    return [f"acs:oss:*:*:{bucket}/{prefix}*" for prefix in prefixes]


def oss_prefix_policy(bucket: str, access: PrefixAccess) -> dict[str, Any]:
    """Object access scoped to prefixes of one bucket; listing is limited to the same prefixes.

    Writers of a prefix can also read it (a resumed training job reads its own checkpoints).
    """
    readable = sorted({*access.read, *access.write})
    statements: list[dict[str, Any]] = []
    if readable:
        statements += [
            {"Effect": "Allow", "Action": list(OBJECT_READ), "Resource": _objects(bucket, readable)},
            {
                "Effect": "Allow",
                "Action": ["oss:ListObjects"],
                "Resource": [f"acs:oss:*:*:{bucket}"],
                "Condition": {"StringLike": {"oss:Prefix": [f"{prefix}*" for prefix in readable]}},
            },
        ]
    if access.write:
        statements.append({"Effect": "Allow", "Action": list(OBJECT_WRITE), "Resource": _objects(bucket, access.write)})
    if access.delete:
        statements.append(
            {"Effect": "Allow", "Action": list(OBJECT_DELETE), "Resource": _objects(bucket, access.delete)}
        )
    return {"Version": POLICY_VERSION, "Statement": statements}


def kms_key_policy(key_arn: str, *, encrypt: bool) -> dict[str, Any]:
    """Use of the bucket's KMS key: decrypt to read SSE-KMS objects, data keys to write them."""
    actions = ["kms:Decrypt", "kms:GenerateDataKey"] if encrypt else ["kms:Decrypt"]
    return {"Version": POLICY_VERSION, "Statement": [{"Effect": "Allow", "Action": actions, "Resource": [key_arn]}]}


def deny_overwrite(bucket: str, prefixes: Sequence[str]) -> dict[str, Any]:
    """A Deny statement: nothing under ``prefixes`` may be written or deleted (an explicit Deny beats any Allow,
    RAM docs "Policy evaluation logic")."""
    return {"Effect": "Deny", "Action": list(OBJECT_OVERWRITE), "Resource": _objects(bucket, sorted(prefixes))}
