"""ArtifactStore: the one OSS bucket for data, models and checkpoints, locked down.

Uses the pulumi-alicloud 4.x standalone sub-resources (ACL, public-access block, versioning,
encryption, logging) rather than the deprecated inline bucket fields, so each setting is its own
resource the policy pack can check. The bucket ignores changes to its inline encryption, logging and versioning
blocks (:data:`STANDALONE_MANAGED`), which terraform reads back from the API and would otherwise delete.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import pulumi
from pulumi_alicloud import kms, oss

from stack_config import StackConfig

DATA_PREFIX: Final = "data/"
CHECKPOINTS_PREFIX: Final = "checkpoints/"
ACCESS_LOGS_PREFIX: Final = "access-logs/"
# Old versions of an expired checkpoint stay this long, so a mistaken delete can still be undone.
NONCURRENT_VERSION_DAYS: Final = 7
ABORT_MULTIPART_DAYS: Final = 7
KMS_ROTATION_INTERVAL: Final = "365d"
KMS_PENDING_WINDOW_DAYS: Final = 30
# The bucket's inline blocks that the standalone resources own. terraform's oss_bucket reads them back from the API
# (Optional, not Computed) and, left unset in the program, deletes them on the next update: DeleteBucketEncryption
# and DeleteBucketLogging in resourceAlicloudOssBucketEncryptionUpdate / LoggingUpdate
# (aliyun/terraform-provider-alicloud alicloud/resource_alicloud_oss_bucket.go; shared/reference/fidelity-audit.md S3,
# T3). So a `pulumi refresh` followed by `up` would silently drop SSE-KMS and access logging. The engine's property
# names (camelCase) of pulumi-alicloud 4.0.0's Bucket.
STANDALONE_MANAGED: Final = ("serverSideEncryptionRule", "logging", "versioning")


@dataclass(frozen=True, kw_only=True)
class ArtifactStoreArgs:
    bucket_name: str
    kms_encryption: bool
    checkpoint_retention_days: int
    access_log_retention_days: int
    resource_group_id: pulumi.Input[str] | None = None
    protect: bool = False

    @classmethod
    def of_stack(cls, config: StackConfig, *, resource_group_id: pulumi.Input[str]) -> ArtifactStoreArgs:
        """The bucket of ``config.storage``, protected in prod."""
        storage = config.storage
        return cls(
            bucket_name=storage.bucket_name,
            kms_encryption=storage.kms_encryption,
            checkpoint_retention_days=storage.checkpoint_retention_days,
            access_log_retention_days=storage.access_log_retention_days,
            resource_group_id=resource_group_id,
            protect=config.protect_stateful,
        )


def _expiring(rule_id: str, prefix: str, days: int) -> oss.BucketLifecycleRuleArgs:
    """Current objects under ``prefix`` expire after ``days``; their old versions a week later."""
    return oss.BucketLifecycleRuleArgs(
        id=rule_id,
        enabled=True,
        prefix=prefix,
        expirations=[oss.BucketLifecycleRuleExpirationArgs(days=days)],
        noncurrent_version_expirations=[
            oss.BucketLifecycleRuleNoncurrentVersionExpirationArgs(days=NONCURRENT_VERSION_DAYS)
        ],
    )


def lifecycle_rules(checkpoint_days: int, access_log_days: int) -> list[oss.BucketLifecycleRuleArgs]:
    """Expire checkpoints and access logs; data and models are kept until deleted on purpose."""
    return [
        _expiring("expire-checkpoints", CHECKPOINTS_PREFIX, checkpoint_days),
        _expiring("expire-access-logs", ACCESS_LOGS_PREFIX, access_log_days),
        oss.BucketLifecycleRuleArgs(
            id="abort-incomplete-uploads",
            enabled=True,
            prefix="",
            abort_multipart_uploads=[oss.BucketLifecycleRuleAbortMultipartUploadArgs(days=ABORT_MULTIPART_DAYS)],
        ),
    ]


class ArtifactStore(pulumi.ComponentResource):
    """A private, versioned, encrypted, access-logged OSS bucket with a public-access block.

    With ``kms_encryption`` the bucket is encrypted with its own KMS key that rotates yearly;
    otherwise with OSS-managed AES256. Access logs go to ``access-logs/`` in the same bucket.
    ``protect`` guards the bucket and key against deletion (set for prod).
    Outputs: ``bucket_name``, ``kms_key_arn`` (None without KMS).
    """

    def __init__(self, name: str, args: ArtifactStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pai-mlops:storage:ArtifactStore", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protect)
        self.kms_key: kms.Key | None = None
        if args.kms_encryption:
            self.kms_key = kms.Key(
                f"{name}-key",
                description=f"Encrypts OSS bucket {args.bucket_name}",
                key_usage="ENCRYPT/DECRYPT",
                automatic_rotation="Enabled",
                rotation_interval=KMS_ROTATION_INTERVAL,
                pending_window_in_days=KMS_PENDING_WINDOW_DAYS,
                opts=stateful,
            )
        self.bucket = oss.Bucket(
            f"{name}-bucket",
            bucket=args.bucket_name,
            storage_class="Standard",
            resource_group_id=args.resource_group_id,
            lifecycle_rules=lifecycle_rules(args.checkpoint_retention_days, args.access_log_retention_days),
            opts=pulumi.ResourceOptions.merge(
                stateful, pulumi.ResourceOptions(ignore_changes=list(STANDALONE_MANAGED))
            ),
        )
        bucket = self.bucket.bucket
        self.acl = oss.BucketAcl(f"{name}-acl", bucket=bucket, acl="private", opts=child)
        self.public_access_block = oss.BucketPublicAccessBlock(
            f"{name}-public-access-block", bucket=bucket, block_public_access=True, opts=child
        )
        self.versioning = oss.BucketVersioning(f"{name}-versioning", bucket=bucket, status="Enabled", opts=child)
        self.encryption = oss.BucketServerSideEncryption(
            f"{name}-encryption",
            bucket=bucket,
            sse_algorithm="KMS" if self.kms_key else "AES256",
            kms_master_key_id=self.kms_key.id if self.kms_key else None,
            opts=child,
        )
        self.logging = oss.BucketLogging(
            f"{name}-logging", bucket=bucket, target_bucket=bucket, target_prefix=ACCESS_LOGS_PREFIX, opts=child
        )
        self.bucket_name = bucket
        self.kms_key_arn: pulumi.Output[str] | None = self.kms_key.arn if self.kms_key else None
        self.register_outputs({"bucket_name": self.bucket_name, "kms_key_arn": self.kms_key_arn})
