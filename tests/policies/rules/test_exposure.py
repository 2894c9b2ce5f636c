"""Public-exposure policies on fixtures: bucket policies, public-access blocks, access points, registries, FC HTTP
triggers, KMS policies, and weaker siblings of a bucket's settings. Each fires with its exact message and stays
quiet on what the program itself creates."""

from __future__ import annotations

import json
from typing import Any

import pytest

from policies.rules import exposure, storage
from policies.rules.common import (
    CR_REPO,
    FC2_TRIGGER,
    FC_TRIGGER,
    KMS_KEY,
    OSS_ACCESS_POINT,
    OSS_ACCOUNT_PUBLIC_ACCESS_BLOCK,
    OSS_BUCKET,
    OSS_BUCKET_OBJECT,
    OSS_BUCKET_POLICY,
    OSS_BUCKET_PUBLIC_ACCESS_BLOCK,
    OSS_BUCKET_SSE,
    OSS_BUCKET_VERSIONING,
)
from tests.support.policy_harness import UNKNOWN, Fixture, check, check_stack


def policy(principal: Any, condition: dict[str, Any] | None = None, effect: str = "Allow") -> str:
    statement: dict[str, Any] = {"Effect": effect, "Principal": principal, "Action": ["oss:GetObject"]}
    if condition is not None:
        statement["Condition"] = condition
    return json.dumps({"Version": "1", "Statement": [statement]})


OPEN = (
    "OSS bucket 'b1' is opened to anyone by BucketPolicy 'bp' (Principal {}): any account or anonymous caller gets "
    "what it allows. Grant access to the stack's RAM roles instead (their policies), or limit the statement to one "
    "VPC with an acs:SourceVpc condition."
)


@pytest.mark.parametrize(
    ("principal", "shown"),
    [(["*"], "*"), ("*", "*"), ({"RAM": ["acs:ram::*:*"]}, "acs:ram::*:*"), (["123", "12*"], "12*")],
)
def test_a_public_bucket_policy_fires(principal: Any, shown: str) -> None:
    props = {"bucket": "b1", "policy": policy(principal)}
    assert check(exposure.oss_no_public_bucket_policy, OSS_BUCKET_POLICY, props, name="bp") == [OPEN.format(shown)]


def test_only_one_named_vpc_limits_a_public_statement() -> None:
    in_vpc = {"StringEquals": {"acs:SourceVpc": ["vpc-bp1"]}}
    quiet = {"bucket": "b1", "policy": policy(["*"], in_vpc)}
    assert check(exposure.oss_no_public_bucket_policy, OSS_BUCKET_POLICY, quiet, name="bp") == []
    for condition in ({"IpAddress": {"acs:SourceIp": ["0.0.0.0/0"]}}, {"StringLike": {"acs:SourceVpc": ["vpc-*"]}}):
        props = {"bucket": "b1", "policy": policy(["*"], condition)}
        assert check(exposure.oss_no_public_bucket_policy, OSS_BUCKET_POLICY, props, name="bp") == [OPEN.format("*")]


def test_account_principals_and_deny_statements_are_not_public() -> None:
    named = {"bucket": "b1", "policy": policy(["1234567890123456"])}
    assert check(exposure.oss_no_public_bucket_policy, OSS_BUCKET_POLICY, named) == []
    deny = {"bucket": "b1", "policy": policy(["*"], effect="Deny")}
    assert check(exposure.oss_no_public_bucket_policy, OSS_BUCKET_POLICY, deny) == []


def test_an_inline_bucket_policy_is_read_too() -> None:
    props = {"bucket": "b1", "policy": policy(["*"])}
    assert check(exposure.oss_no_public_bucket_policy, OSS_BUCKET, props) == [
        "OSS bucket 'b1' is opened to anyone by its inline policy (Principal *): any account or anonymous caller gets "
        "what it allows. Grant access to the stack's RAM roles instead (their policies), or limit the statement to "
        "one VPC with an acs:SourceVpc condition."
    ]
    assert check(exposure.oss_no_public_bucket_policy, OSS_BUCKET, {"bucket": "b1"}) == []


BUCKET = Fixture(OSS_BUCKET, "artifacts-bucket", {"bucket": "b1"})


def block(name: str, on: Any, by_name: bool = True) -> Fixture:
    return Fixture(
        OSS_BUCKET_PUBLIC_ACCESS_BLOCK,
        name,
        {"bucket": "b1" if by_name else UNKNOWN, "blockPublicAccess": on},
        depends_on={} if by_name else {"bucket": [BUCKET]},
    )


def test_every_bucket_needs_a_block_and_every_block_is_on() -> None:
    assert check_stack(exposure.oss_public_access_blocked, [BUCKET, block("pab", True, by_name=False)]) == []
    assert check_stack(exposure.oss_public_access_blocked, [BUCKET]) == [
        (
            "artifacts-bucket",
            "OSS bucket 'b1' has no BucketPublicAccessBlock, so a policy or ACL can make it public. Add an "
            "oss.BucketPublicAccessBlock with block_public_access=True (pai-mlops' ArtifactStore has one).",
        )
    ]
    assert check_stack(exposure.oss_public_access_blocked, [BUCKET, block("pab", True), block("off", False)]) == [
        (
            "off",
            "OSS bucket 'b1': BucketPublicAccessBlock 'off' turns its public-access block off (blockPublicAccess "
            "False); the last writer wins, so one such sibling opens the bucket. Set block_public_access=True or "
            "remove 'off'.",
        )
    ]
    account = Fixture(OSS_ACCOUNT_PUBLIC_ACCESS_BLOCK, "acct", {"blockPublicAccess": False})
    assert [name for name, _ in check_stack(exposure.oss_public_access_blocked, [account])] == ["acct"]
    assert check_stack(exposure.oss_public_access_blocked, [Fixture(OSS_ACCOUNT_PUBLIC_ACCESS_BLOCK, "a", {})]) == [
        (
            "a",
            "AccountPublicAccessBlock 'a' turns the account-wide OSS public-access block off (blockPublicAccess not "
            "set), so every bucket of the account may be made public. Set block_public_access=True, or remove the "
            "resource.",
        )
    ]


def test_a_public_object_acl_fires_and_a_private_or_default_one_does_not() -> None:
    props = {"bucket": "b1", "key": "models/m/v1/model.bin", "acl": "public-read"}
    assert check(storage.oss_bucket_private, OSS_BUCKET_OBJECT, props) == [
        "OSS object 'models/m/v1/model.bin' in bucket 'b1' is readable by anyone (acl public-read), whatever the "
        'bucket\'s ACL says. Set its acl to "private" (or leave it unset: "default" follows the bucket).'
    ]
    for acl in ("private", "default", None):
        assert check(storage.oss_bucket_private, OSS_BUCKET_OBJECT, {"bucket": "b1", "key": "k", "acl": acl}) == []


def test_access_points_are_vpc_only_and_block_public_access() -> None:
    props = {"accessPointName": "ap", "bucket": "b1", "networkOrigin": "internet"}
    assert check(exposure.oss_access_point_vpc_only, OSS_ACCESS_POINT, props) == [
        "OSS access point 'ap' of bucket 'b1' is reachable from the internet (networkOrigin 'internet'). Set "
        "network_origin 'vpc' with a vpc_configuration.",
        "OSS access point 'ap' does not block public access (publicAccessBlockConfiguration.blockPublicAccess not "
        "set). Set public_access_block_configuration.block_public_access=True.",
    ]
    quiet = {**props, "networkOrigin": "vpc", "publicAccessBlockConfiguration": {"blockPublicAccess": True}}
    assert check(exposure.oss_access_point_vpc_only, OSS_ACCESS_POINT, quiet) == []


@pytest.mark.parametrize("kind", ["PUBLIC", "public", None])
def test_registry_repositories_are_private(kind: str | None) -> None:
    shown = repr(kind) if kind else "not set"
    assert check(exposure.cr_repository_private, CR_REPO, {"name": "img", "repoType": kind}) == [
        f"Repo 'img' is not private (repoType {shown}): anyone can pull the training and "
        "serving images and what is baked into them. Set repo_type 'PRIVATE'."
    ]
    assert check(exposure.cr_repository_private, CR_REPO, {"name": "img", "repoType": "PRIVATE"}) == []


def test_http_triggers_need_authentication_other_triggers_are_not_concerned() -> None:
    anonymous = {"triggerName": "web", "triggerType": "http", "triggerConfig": json.dumps({"authType": "anonymous"})}
    assert check(exposure.fc_http_trigger_authenticated, FC_TRIGGER, anonymous) == [
        "FC HTTP trigger 'web' lets anyone on the internet invoke the function (authType 'anonymous'), which runs "
        "with the function's role. Set authType 'function' (signed requests) or 'jwt' in its triggerConfig, or use "
        "a timer or OSS trigger."
    ]
    broken = {"name": "web", "type": "HTTP", "config": "{"}
    assert check(exposure.fc_http_trigger_authenticated, FC2_TRIGGER, broken) == [
        "FC HTTP trigger 'web' lets anyone on the internet invoke the function (authType not set) (config is not "
        "valid JSON (Expecting property name enclosed in double quotes at character 1)), which runs with the "
        "function's role. Set authType 'function' (signed requests) or 'jwt' in its config, or use a timer or OSS "
        "trigger."
    ]
    signed = {**anonymous, "triggerConfig": json.dumps({"authType": "function"})}
    assert check(exposure.fc_http_trigger_authenticated, FC_TRIGGER, signed) == []
    timer = {"triggerName": "t", "triggerType": "timer", "triggerConfig": json.dumps({"cronExpression": "@every 1h"})}
    assert check(exposure.fc_http_trigger_authenticated, FC_TRIGGER, timer) == []


def test_kms_policies_admit_only_named_principals() -> None:
    def key(*principals: str) -> dict[str, Any]:
        statement = {"Effect": "Allow", "Principal": {"RAM": list(principals)}, "Action": ["kms:*"], "Resource": "*"}
        return {"policy": json.dumps({"Version": "1", "Statement": [statement]})}

    assert check(exposure.kms_policy_not_public, KMS_KEY, key("acs:ram::*:*"), name="k") == [
        "KMS key 'k' has a policy open to any principal (acs:ram::*:*): any account could use it to decrypt the "
        "bucket's data. Name principals of this account (acs:ram::<account>:role/<roleName>)."
    ]
    # KMS's default key policy: every principal of the owning account (acs:ram::<account>:*).
    assert check(exposure.kms_policy_not_public, KMS_KEY, key("acs:ram::1234567890123456:*"), name="k") == []
    assert check(exposure.kms_policy_not_public, KMS_KEY, {}, name="k") == []


# --- weaker siblings (security review F8)


def sibling(resource_type: str, name: str, **props: Any) -> Fixture:
    return Fixture(resource_type, name, {"bucket": "b1", **props})


def test_a_weaker_second_encryption_downgrades_the_bucket() -> None:
    kms = sibling(OSS_BUCKET_SSE, "kms", sseAlgorithm="KMS", kmsMasterKeyId=UNKNOWN)
    aes = sibling(OSS_BUCKET_SSE, "aes", sseAlgorithm="AES256")
    assert check_stack(storage.oss_bucket_encrypted_kms, [BUCKET, kms]) == []
    assert check_stack(storage.oss_bucket_encrypted_kms, [BUCKET, kms, aes]) == [
        (
            "artifacts-bucket",
            "OSS bucket 'b1' is not encrypted with a KMS key (its BucketServerSideEncryption has no KMS key). Add an "
            'oss.BucketServerSideEncryption with sse_algorithm "KMS" and kms_master_key_id (in pai-mlops: '
            "storage.kmsEncryption: true). BucketServerSideEncryption 'aes' sets it weaker, and in the cloud the last "
            "writer wins, so a compliant setting beside it does not count; remove the weaker one.",
        )
    ]


def test_a_weaker_sibling_or_inline_block_beside_a_compliant_one_downgrades_versioning() -> None:
    on = sibling(OSS_BUCKET_VERSIONING, "on", status="Enabled")
    off = sibling(OSS_BUCKET_VERSIONING, "off", status="Suspended")
    assert [name for name, _ in check_stack(storage.oss_bucket_versioning, [BUCKET, on, off])] == ["artifacts-bucket"]
    inline_off = Fixture(OSS_BUCKET, "artifacts-bucket", {"bucket": "b1", "versioning": {"status": "Suspended"}})
    [(_, message)] = check_stack(storage.oss_bucket_versioning, [inline_off, on])
    assert message.endswith(
        "its inline versioning sets it weaker, and in the cloud the last writer wins, so a compliant setting beside "
        "it does not count; remove the weaker one."
    )
