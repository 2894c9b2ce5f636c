"""The promotion copy role's documents: its trust policy, one version's read and write grants, its KMS use.

Pure builders (plain values in, JSON text out) so the policy pack and the tests read the same documents the program
creates. The role is ``<prefix>-promote-copy``: RAM role names are 1-64 letters, digits, periods and hyphens
(RAM CreateRole ``RoleName``, https://help.aliyun.com/zh/resource-management/api-createrole), and the stack's name
prefix is at most 24 lower-case letters, digits and hyphens (stack_config ``namePrefix``), so the name always fits.

Each promoted version gets two policies attached to the role:

- read (``<prefix>-promote-<model>-<version>``): ``oss:GetObject`` on ``<source bucket>/models/<m>/<v>/*`` and
  ``oss:ListObjects`` on the source bucket only with ``oss:Prefix`` like ``models/<m>/<v>/*`` (the documented way to
  scope a listing, https://www.alibabacloud.com/help/ja/doc-detail/142249.htm);
- write (``<prefix>-promote-<model>-<version>-write``): ``oss:PutObject`` and ``oss:GetObject`` (the read-back) on
  ``<this bucket>/models/<m>/<v>/*``, ``oss:ListObjects`` there with the same prefix condition; nothing to delete.

Their descriptions start with :data:`DESCRIPTION_HEAD` and end with the prefix they grant: the policy
``promotion-copy-scope`` (policies/rules/promotion.py) holds each document to that prefix.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

from components.ram_documents import POLICY_VERSION, account_trust_policy

COPY_ROLE_SUFFIX: Final = "promote-copy"
DESCRIPTION_HEAD: Final = "pai-mlops promotion copy role:"
READ_ACTIONS: Final = ("oss:GetObject",)
WRITE_ACTIONS: Final = ("oss:GetObject", "oss:PutObject")
LIST_ACTION: Final = "oss:ListObjects"
# SSE-KMS: reading needs kms:Decrypt on the source bucket's key, writing kms:GenerateDataKey (and Decrypt) on this
# bucket's key (components/ram_documents.py kms_key_policy; shared/reference/fidelity-audit.md E14).
KMS_READ: Final = ("kms:Decrypt",)
KMS_WRITE: Final = ("kms:Decrypt", "kms:GenerateDataKey")


def copy_role_name(name_prefix: str) -> str:
    return f"{name_prefix}-{COPY_ROLE_SUFFIX}"


def trust_document(account_id: str, deployer_arn: str | None) -> str:
    """Only the deploying identity (``deployerArn``), else the account (identities granted sts:AssumeRole on it)."""
    return json.dumps(account_trust_policy([deployer_arn or f"acs:ram::{account_id}:root"]))


def prefix_statements(bucket: str, prefix: str, actions: Sequence[str]) -> list[dict[str, Any]]:
    return [
        {"Effect": "Allow", "Action": list(actions), "Resource": [f"acs:oss:*:*:{bucket}/{prefix}*"]},
        {
            "Effect": "Allow",
            "Action": [LIST_ACTION],
            "Resource": [f"acs:oss:*:*:{bucket}"],
            "Condition": {"StringLike": {"oss:Prefix": [f"{prefix}*"]}},
        },
    ]


def read_document(bucket: str, prefix: str) -> str:
    """Read one version's prefix of the source bucket, nothing else."""
    return json.dumps({"Version": POLICY_VERSION, "Statement": prefix_statements(bucket, prefix, READ_ACTIONS)})


def write_document(bucket: str, prefix: str) -> str:
    """Write (and read back) one version's prefix of this stack's bucket, nothing else; no delete."""
    return json.dumps({"Version": POLICY_VERSION, "Statement": prefix_statements(bucket, prefix, WRITE_ACTIONS)})


def kms_document(dest_key: str | None, source_keys: Sequence[str]) -> str:
    """Decrypt with the source buckets' keys, and data keys of this bucket's key (None: the bucket has no CMK)."""
    statements: list[dict[str, Any]] = []
    if dest_key:
        statements.append({"Effect": "Allow", "Action": list(KMS_WRITE), "Resource": [dest_key]})
    sources = sorted({key for key in source_keys if key and key != dest_key})
    if sources:
        statements.append({"Effect": "Allow", "Action": list(KMS_READ), "Resource": sources})
    return json.dumps({"Version": POLICY_VERSION, "Statement": statements})


def description(kind: str, source: str, prefix: str) -> str:
    """``pai-mlops promotion copy role: read staging's models/m/v/`` (the prefix last: the policy pack reads it)."""
    where = f"{source}'s " if kind == "read" else "this stack's "
    return f"{DESCRIPTION_HEAD} {kind} {where}{prefix}"
