"""components/storage.py: the artifact bucket under the mock engine (children, encryption, lifecycle)."""

from __future__ import annotations

from components import ArtifactStore, ArtifactStoreArgs
from tests.support.components import children
from tools.mock_engine import RecordingMocks, run_under_mocks


def store(mocks: RecordingMocks, *, kms: bool, protect: bool = False) -> None:
    args = ArtifactStoreArgs(
        bucket_name="acme-pai-dev",
        kms_encryption=kms,
        checkpoint_retention_days=14,
        access_log_retention_days=90,
        resource_group_id="rg-123",
        protect=protect,
    )
    run_under_mocks(lambda: ArtifactStore("artifacts", args))


def test_artifact_store_children(mocks: RecordingMocks) -> None:
    store(mocks, kms=True)
    assert children(mocks, "pai-mlops:storage:ArtifactStore", "artifacts") == [
        ("alicloud:kms/key:Key", "artifacts-key"),
        ("alicloud:oss/bucket:Bucket", "artifacts-bucket"),
        ("alicloud:oss/bucketAcl:BucketAcl", "artifacts-acl"),
        ("alicloud:oss/bucketLogging:BucketLogging", "artifacts-logging"),
        ("alicloud:oss/bucketPublicAccessBlock:BucketPublicAccessBlock", "artifacts-public-access-block"),
        ("alicloud:oss/bucketServerSideEncryption:BucketServerSideEncryption", "artifacts-encryption"),
        ("alicloud:oss/bucketVersioning:BucketVersioning", "artifacts-versioning"),
    ]


def test_artifact_store_bucket_is_private_versioned_kms_encrypted_and_logged(mocks: RecordingMocks) -> None:
    store(mocks, kms=True)
    inputs = {r.name: r.inputs for r in mocks.registrations}
    assert inputs["artifacts-key"] == {
        "automaticRotation": "Enabled",
        "description": "Encrypts OSS bucket acme-pai-dev",
        "keyUsage": "ENCRYPT/DECRYPT",
        "pendingWindowInDays": 30,
        "rotationInterval": "365d",
    }
    assert inputs["artifacts-acl"] == {"acl": "private", "bucket": "acme-pai-dev"}
    assert inputs["artifacts-public-access-block"] == {"blockPublicAccess": True, "bucket": "acme-pai-dev"}
    assert inputs["artifacts-versioning"] == {"bucket": "acme-pai-dev", "status": "Enabled"}
    assert inputs["artifacts-encryption"] == {
        "bucket": "acme-pai-dev",
        "kmsMasterKeyId": "artifacts-key-id",
        "sseAlgorithm": "KMS",
    }
    assert inputs["artifacts-logging"] == {
        "bucket": "acme-pai-dev",
        "targetBucket": "acme-pai-dev",
        "targetPrefix": "access-logs/",
    }


def test_artifact_store_lifecycle_expires_checkpoints_and_logs_only(mocks: RecordingMocks) -> None:
    store(mocks, kms=False)
    bucket = mocks.one("alicloud:oss/bucket:Bucket", "artifacts-bucket").inputs
    assert (bucket["bucket"], bucket["storageClass"], bucket["resourceGroupId"]) == (
        "acme-pai-dev",
        "Standard",
        "rg-123",
    )
    assert bucket["lifecycleRules"] == [
        {
            "enabled": True,
            "expirations": [{"days": 14}],
            "id": "expire-checkpoints",
            "noncurrentVersionExpirations": [{"days": 7}],
            "prefix": "checkpoints/",
        },
        {
            "enabled": True,
            "expirations": [{"days": 90}],
            "id": "expire-access-logs",
            "noncurrentVersionExpirations": [{"days": 7}],
            "prefix": "access-logs/",
        },
        {"abortMultipartUploads": [{"days": 7}], "enabled": True, "id": "abort-incomplete-uploads", "prefix": ""},
    ]


def test_artifact_store_without_kms_uses_aes256_and_no_key(mocks: RecordingMocks) -> None:
    store(mocks, kms=False)
    assert mocks.by_type("alicloud:kms/key:Key") == []
    assert mocks.one(
        "alicloud:oss/bucketServerSideEncryption:BucketServerSideEncryption", "artifacts-encryption"
    ).inputs == {
        "bucket": "acme-pai-dev",
        "sseAlgorithm": "AES256",
    }
