"""OSS, KMS and RAM policies on fixtures (Checkov CKV_ALI_1, 6, 10, 12, 27 and the RAM rules)."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi_policy import EnforcementLevel

from policies.rules import storage
from policies.rules.common import (
    KMS_KEY,
    OSS_BUCKET,
    OSS_BUCKET_ACL,
    OSS_BUCKET_LOGGING,
    OSS_BUCKET_SSE,
    OSS_BUCKET_VERSIONING,
)
from tests.support.policy_harness import UNKNOWN, Fixture, check, check_stack


def test_policy_metadata() -> None:
    assert [(p.name, p.enforcement_level, type(p).__name__) for p in storage.POLICIES] == [
        ("oss-bucket-private", EnforcementLevel.MANDATORY, "ResourceValidationPolicy"),
        ("oss-bucket-encrypted-kms", EnforcementLevel.MANDATORY, "StackValidationPolicy"),
        ("oss-bucket-versioning", EnforcementLevel.MANDATORY, "StackValidationPolicy"),
        ("oss-bucket-access-logging", EnforcementLevel.MANDATORY, "StackValidationPolicy"),
        ("kms-key-rotation", EnforcementLevel.MANDATORY, "ResourceValidationPolicy"),
    ]
    assert [p.description for p in storage.POLICIES] == [
        "OSS buckets and objects are not public (CKV_ALI_1).",
        "OSS buckets are encrypted server-side with a KMS key (CKV_ALI_6).",
        "OSS buckets keep object versions (CKV_ALI_10).",
        "OSS buckets log access (CKV_ALI_12).",
        "KMS keys rotate automatically (CKV_ALI_27).",
    ]


# --- oss-bucket-private


@pytest.mark.parametrize(("resource_type", "acl"), [(OSS_BUCKET_ACL, "public-read"), (OSS_BUCKET, "public-read-write")])
def test_private_fires_on_a_public_acl(resource_type: str, acl: str) -> None:
    assert check(storage.oss_bucket_private, resource_type, {"bucket": "data", "acl": acl}) == [
        f"OSS bucket 'data' is readable by anyone (acl {acl}); training data, models and checkpoints must stay "
        'private. Set acl to "private" and grant access through RAM roles.'
    ]


def test_private_is_quiet_on_private_or_default_acls() -> None:
    assert check(storage.oss_bucket_private, OSS_BUCKET_ACL, {"bucket": "data", "acl": "private"}) == []
    assert check(storage.oss_bucket_private, OSS_BUCKET, {"bucket": "data"}) == []


# --- bucket settings living on sibling resources

BUCKET = Fixture(OSS_BUCKET, "artifacts-bucket", {"bucket": "acme-data"})


def sibling(resource_type: str, name: str, by_name: bool = True, **props: Any) -> Fixture:
    """A sub-resource naming the bucket by value, or (unknown at preview) only by dependency."""
    return Fixture(
        resource_type,
        name,
        {"bucket": "acme-data" if by_name else UNKNOWN, **props},
        depends_on={} if by_name else {"bucket": [BUCKET]},
    )


ENCRYPT_FIX = (
    'Add an oss.BucketServerSideEncryption with sse_algorithm "KMS" and kms_master_key_id '
    "(in pai-mlops: storage.kmsEncryption: true)."
)


def test_encrypted_fires_without_any_encryption_rule() -> None:
    assert check_stack(storage.oss_bucket_encrypted_kms, [BUCKET]) == [
        (
            "artifacts-bucket",
            "OSS bucket 'acme-data' is not encrypted with a KMS key (it has no BucketServerSideEncryption). "
            + ENCRYPT_FIX,
        )
    ]


def test_encrypted_fires_on_aes256_without_a_key() -> None:
    aes = sibling(OSS_BUCKET_SSE, "sse", sseAlgorithm="AES256")
    assert check_stack(storage.oss_bucket_encrypted_kms, [BUCKET, aes]) == [
        (
            "artifacts-bucket",
            "OSS bucket 'acme-data' is not encrypted with a KMS key (its BucketServerSideEncryption has no KMS key). "
            f"{ENCRYPT_FIX}",
        )
    ]


def test_encrypted_is_quiet_with_a_kms_sibling_even_when_key_and_bucket_are_unknown() -> None:
    # At preview the key id and even the bucket reference are unknown; the dependency still ties them.
    kms = sibling(OSS_BUCKET_SSE, "sse", by_name=False, sseAlgorithm="KMS", kmsMasterKeyId=UNKNOWN)
    assert check_stack(storage.oss_bucket_encrypted_kms, [BUCKET, kms]) == []


def test_encrypted_is_quiet_with_the_deprecated_inline_rule() -> None:
    inline = Fixture(
        OSS_BUCKET, "b", {"bucket": "x", "serverSideEncryptionRule": {"sseAlgorithm": "KMS", "kmsMasterKeyId": "k"}}
    )
    assert check_stack(storage.oss_bucket_encrypted_kms, [inline]) == []


def test_encryption_of_another_bucket_does_not_count() -> None:
    other = Fixture(OSS_BUCKET_SSE, "sse", {"bucket": "other", "sseAlgorithm": "KMS", "kmsMasterKeyId": "k"})
    assert [name for name, _ in check_stack(storage.oss_bucket_encrypted_kms, [BUCKET, other])] == ["artifacts-bucket"]


def test_versioning_fires_when_suspended_or_missing() -> None:
    message = (
        "OSS bucket 'acme-data' does not keep object versions, so an overwritten model or checkpoint is lost. "
        'Add an oss.BucketVersioning with status "Enabled".'
    )
    suspended = sibling(OSS_BUCKET_VERSIONING, "v", status="Suspended")
    assert check_stack(storage.oss_bucket_versioning, [BUCKET, suspended]) == [("artifacts-bucket", message)]
    assert check_stack(storage.oss_bucket_versioning, [BUCKET]) == [("artifacts-bucket", message)]


def test_versioning_is_quiet_when_enabled_on_a_sibling_or_inline() -> None:
    enabled = sibling(OSS_BUCKET_VERSIONING, "v", by_name=False, status="Enabled")
    assert check_stack(storage.oss_bucket_versioning, [BUCKET, enabled]) == []
    inline = Fixture(OSS_BUCKET, "b", {"bucket": "x", "versioning": {"status": "Enabled"}})
    assert check_stack(storage.oss_bucket_versioning, [inline]) == []


def test_access_logging_fires_without_a_logging_target() -> None:
    assert check_stack(storage.oss_bucket_access_logging, [BUCKET]) == [
        (
            "artifacts-bucket",
            "OSS bucket 'acme-data' has no access logging, so reads of models and data cannot be audited. "
            "Add an oss.BucketLogging with a target_bucket and target_prefix.",
        )
    ]


def test_access_logging_is_quiet_with_a_sibling_or_inline_block() -> None:
    logging = sibling(OSS_BUCKET_LOGGING, "log", targetBucket="acme-data", targetPrefix="access-logs/")
    assert check_stack(storage.oss_bucket_access_logging, [BUCKET, logging]) == []
    inline = Fixture(OSS_BUCKET, "b", {"bucket": "x", "logging": {"targetBucket": "logs"}})
    assert check_stack(storage.oss_bucket_access_logging, [inline]) == []


# --- kms-key-rotation


@pytest.mark.parametrize(("rotation", "shown"), [("Disabled", "'Disabled'"), (None, "not set")])
def test_rotation_fires_unless_enabled(rotation: str | None, shown: str) -> None:
    props = {"automaticRotation": rotation} if rotation else {}
    assert check(storage.kms_key_rotation, KMS_KEY, props, name="artifacts-key") == [
        f"KMS key 'artifacts-key' does not rotate automatically (automaticRotation {shown}). "
        'Set automatic_rotation "Enabled" with a rotation_interval such as "365d".'
    ]


def test_rotation_is_quiet_when_enabled() -> None:
    assert check(storage.kms_key_rotation, KMS_KEY, {"automaticRotation": "Enabled"}) == []
