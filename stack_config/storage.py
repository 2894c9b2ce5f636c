"""The artifact bucket and the PAI workspace: ``storage`` and ``workspace``."""

from __future__ import annotations

from pydantic import StrictBool, StrictInt, StrictStr
from pydantic.dataclasses import dataclass

from config_problems import key
from stack_config.fields import MODEL


@dataclass(frozen=True, kw_only=True, config=MODEL)
class StorageConfig:
    """The artifact bucket: data, models and checkpoints under one prefix each."""

    bucket_name: StrictStr = key(
        "Use 3-63 lower-case letters, digits or hyphens, starting and ending with a letter or digit, "
        "unique across all of OSS (e.g. 'acme-pai-mlops-dev')",
        rule="a valid OSS bucket name",
        pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$",
    )
    kms_encryption: StrictBool = key(
        "Write true to encrypt with a rotating KMS key, false for OSS-managed AES256", default=True
    )
    checkpoint_retention_days: StrictInt = key(
        "Set how many days training checkpoints are kept, e.g. 30", dev_default=30, ge=1
    )
    access_log_retention_days: StrictInt = key("Set how many days access logs are kept, e.g. 365", default=365, ge=1)


@dataclass(frozen=True, kw_only=True, config=MODEL)
class WorkspaceConfig:
    """The PAI workspace (and the resource group it lives in)."""

    name: StrictStr = key(
        "Use 3-23 letters, digits or underscores, starting with a letter (e.g. 'mlops_dev')",
        rule="3-23 letters, digits or underscores starting with a letter",
        pattern=r"^[A-Za-z][A-Za-z0-9_]{2,22}$",
    )
    description: StrictStr = key("Shorten the description to 80 characters", default="", max_length=80)
