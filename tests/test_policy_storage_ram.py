"""OSS, KMS and RAM policies on fixtures (Checkov CKV_ALI_1, 6, 10, 12, 27 and the RAM rules)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pulumi_policy import EnforcementLevel

from components.ram_documents import PrefixAccess, kms_key_policy, oss_prefix_policy, trust_policy
from policies.rules import ram, storage
from policies.rules.common import (
    KMS_KEY,
    OSS_BUCKET,
    OSS_BUCKET_ACL,
    OSS_BUCKET_LOGGING,
    OSS_BUCKET_SSE,
    OSS_BUCKET_VERSIONING,
    RAM_POLICY,
    RAM_ROLE,
)
from tests.policy_harness import UNKNOWN, Fixture, NotApplicable, check, check_stack


def test_policy_metadata() -> None:
    assert [(p.name, p.enforcement_level, type(p).__name__) for p in [*storage.POLICIES, *ram.POLICIES]] == [
        ("oss-bucket-private", EnforcementLevel.MANDATORY, "ResourceValidationPolicy"),
        ("oss-bucket-encrypted-kms", EnforcementLevel.MANDATORY, "StackValidationPolicy"),
        ("oss-bucket-versioning", EnforcementLevel.MANDATORY, "StackValidationPolicy"),
        ("oss-bucket-access-logging", EnforcementLevel.MANDATORY, "StackValidationPolicy"),
        ("kms-key-rotation", EnforcementLevel.MANDATORY, "ResourceValidationPolicy"),
        ("ram-no-wildcard-actions", EnforcementLevel.MANDATORY, "ResourceValidationPolicy"),
        ("ram-no-wildcard-resources", EnforcementLevel.MANDATORY, "ResourceValidationPolicy"),
        ("ram-trusted-service-principals", EnforcementLevel.MANDATORY, "ResourceValidationPolicy"),
    ]
    assert [p.description for p in storage.POLICIES] == [
        "OSS buckets are not public (CKV_ALI_1).",
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


# --- ram-no-wildcard-actions / ram-no-wildcard-resources


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"policyName": "p1", "policyDocument": json.dumps({"Version": "1", "Statement": list(statements)})}


WILD = {"Effect": "Allow", "Action": ["oss:*", "oss:GetObject", "*"], "Resource": ["*", "acs:oss:*:*:*"]}


def test_wildcard_actions_fire_with_every_wildcard_named() -> None:
    assert check(ram.ram_no_wildcard_actions, RAM_POLICY, document(WILD)) == [
        "RAM policy 'p1' allows every action of a service (*, oss:*). Grant only the actions the role needs "
        "(e.g. oss:GetObject), or list 'p1' in this policy's exemptPolicies with a reason."
    ]


def test_wildcard_resources_fire_with_every_wildcard_named() -> None:
    assert check(ram.ram_no_wildcard_resources, RAM_POLICY, document(WILD)) == [
        "RAM policy 'p1' allows access to every resource (*, acs:oss:*:*:*). Name the resources, e.g. "
        "acs:oss:*:*:<bucket>/<prefix>*, or list 'p1' in this policy's exemptPolicies with a reason."
    ]


def test_wildcards_in_the_deprecated_statements_form_fire_too() -> None:
    props = {"policyName": "old", "statements": [{"effect": "Allow", "actions": ["ecs:*"], "resources": ["*"]}]}
    assert len(check(ram.ram_no_wildcard_actions, RAM_POLICY, props)) == 1
    assert len(check(ram.ram_no_wildcard_resources, RAM_POLICY, props)) == 1


def test_wildcards_are_quiet_on_the_projects_own_documents_and_on_deny() -> None:
    access = PrefixAccess(read=("data/",), write=("models/", "checkpoints/"), delete=("checkpoints/",))
    for doc in (oss_prefix_policy("acme-data", access), kms_key_policy("acs:kms:cn-hangzhou:1:key/k", encrypt=True)):
        props = {"policyName": "own", "policyDocument": json.dumps(doc)}
        assert check(ram.ram_no_wildcard_actions, RAM_POLICY, props) == []
        assert check(ram.ram_no_wildcard_resources, RAM_POLICY, props) == []
    deny = document({"Effect": "Deny", "Action": "*", "Resource": "*"})
    assert check(ram.ram_no_wildcard_actions, RAM_POLICY, deny) == []


def test_wildcard_exemption_is_by_policy_name_only() -> None:
    with pytest.raises(NotApplicable) as exempt:
        check(ram.ram_no_wildcard_actions, RAM_POLICY, document(WILD), config={"exemptPolicies": ["p1"]})
    assert exempt.value.reason == "RAM policy 'p1' is exempt by name (exemptPolicies)"
    assert len(check(ram.ram_no_wildcard_actions, RAM_POLICY, document(WILD), config={"exemptPolicies": ["p2"]})) == 1


def test_wildcards_report_a_document_that_is_not_json() -> None:
    assert check(ram.ram_no_wildcard_actions, RAM_POLICY, {"policyName": "bad", "policyDocument": "Statement"}) == [
        "RAM policy 'bad': policyDocument is not valid JSON (Expecting value at character 0), so what it allows "
        "cannot be checked. Fix the policy document."
    ]


# --- ram-trusted-service-principals

TRUST_FIX = (
    "pai-mlops roles are for the PAI services (pai.aliyuncs.com) only. Remove the other principals from the "
    "trust policy, or add the service to this policy's principals."
)


def role(trust: dict[str, Any]) -> dict[str, Any]:
    return {"roleName": "pai-mlops-prod-dlc", "assumeRolePolicyDocument": json.dumps(trust)}


def test_trust_fires_on_accounts_other_services_and_anyone() -> None:
    trust = {
        "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": ["acs:ram::1234:root"]}},
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": ["ecs.aliyuncs.com"]}},
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": "*"},
        ]
    }
    assert check(ram.ram_trusted_service_principals, RAM_ROLE, role(trust)) == [
        "RAM role 'pai-mlops-prod-dlc' can be assumed by *:*, RAM:acs:ram::1234:root, Service:ecs.aliyuncs.com; "
        + TRUST_FIX
    ]


def test_trust_fires_on_the_deprecated_ram_users_form() -> None:
    props = {"roleName": "r", "services": ["pai.aliyuncs.com"], "ramUsers": ["acs:ram::1234:root"]}
    assert check(ram.ram_trusted_service_principals, RAM_ROLE, props) == [
        f"RAM role 'r' can be assumed by RAM:acs:ram::1234:root; {TRUST_FIX}"
    ]


def test_trust_is_quiet_for_the_pai_principal_and_configured_extras() -> None:
    assert check(ram.ram_trusted_service_principals, RAM_ROLE, role(trust_policy(["pai.aliyuncs.com"]))) == []
    both = role(trust_policy(["pai.aliyuncs.com", "eas.pai.aliyuncs.com"]))
    assert len(check(ram.ram_trusted_service_principals, RAM_ROLE, both)) == 1
    allowed = {"principals": ["pai.aliyuncs.com", "eas.pai.aliyuncs.com"]}
    assert check(ram.ram_trusted_service_principals, RAM_ROLE, both, config=allowed) == []
