"""OSS buckets and KMS keys: the Checkov Alibaba checks CKV_ALI_1, 6, 10, 12 and 27 on pulumi-alicloud 4.x.

pulumi-alicloud 4.x moved a bucket's ACL, encryption, versioning and logging from deprecated
``oss.Bucket`` properties to sibling resources (``oss.BucketAcl``, ``oss.BucketServerSideEncryption``,
``oss.BucketVersioning``, ``oss.BucketLogging``). A bucket passes when every form that sets it provides the
setting (a weaker second sibling wins in the cloud if it is written last), so encryption, versioning and logging
are stack policies: they look for the sibling that
names the bucket (by its ``bucket`` value or, when that is unknown at preview, by the dependency
the engine records on the ``bucket`` property).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .common import (
    KMS_KEY,
    OSS_BUCKET,
    OSS_BUCKET_ACL,
    OSS_BUCKET_LOGGING,
    OSS_BUCKET_OBJECT,
    OSS_BUCKET_SSE,
    OSS_BUCKET_VERSIONING,
    is_set,
    peek,
    render,
    short_type,
)

PUBLIC_ACLS: Final = ("public-read", "public-read-write")


def bucket_name(bucket: PolicyResource) -> str:
    name = peek(bucket.props, "bucket")
    return name if isinstance(name, str) and name else bucket.name


def siblings(resources: list[PolicyResource], bucket: PolicyResource, resource_type: str) -> list[PolicyResource]:
    """The resources of ``resource_type`` that configure ``bucket``."""
    name = bucket_name(bucket)
    found: list[PolicyResource] = []
    for resource in resources:
        if resource.resource_type != resource_type:
            continue
        names_it = peek(resource.props, "bucket") == name
        depends = any(dep.urn == bucket.urn for dep in resource.property_dependencies.get("bucket", []))
        if names_it or depends:
            found.append(resource)
    return found


def _inline(bucket: PolicyResource, key: str) -> Mapping[str, Any]:
    value = bucket.props.get(key)
    return value if isinstance(value, Mapping) else {}


# --- oss-bucket-private (CKV_ALI_1) -------------------------------------------------------------


def validate_private(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (OSS_BUCKET, OSS_BUCKET_ACL, OSS_BUCKET_OBJECT):
        return
    acl = args.props.get("acl")
    if args.resource_type == OSS_BUCKET_OBJECT and str(acl).lower() in PUBLIC_ACLS:
        report(
            f"OSS object '{args.props.get('key')}' in bucket '{args.props.get('bucket')}' is readable by anyone "
            f'(acl {acl}), whatever the bucket\'s ACL says. Set its acl to "private" (or leave it unset: '
            f'"default" follows the bucket).',
            None,
        )
    elif args.resource_type != OSS_BUCKET_OBJECT and str(acl).lower() in PUBLIC_ACLS:
        report(
            f"OSS bucket '{args.props.get('bucket') or args.name}' is readable by anyone (acl {acl}); training data, "
            f'models and checkpoints must stay private. Set acl to "private" and grant access through RAM roles.',
            None,
        )


oss_bucket_private = ResourceValidationPolicy(
    name="oss-bucket-private",
    description="OSS buckets and objects are not public (CKV_ALI_1).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_private,
)

# --- oss-bucket-encrypted-kms (CKV_ALI_6) -------------------------------------------------------


def _kms_encrypted(props: Mapping[str, Any]) -> bool:
    return props.get("sseAlgorithm") == "KMS" and is_set(props, "kmsMasterKeyId")


def _versioned(props: Mapping[str, Any]) -> bool:
    return props.get("status") == "Enabled"


def _logged(props: Mapping[str, Any]) -> bool:
    return is_set(props, "targetBucket")


def buckets_without(
    args: StackValidationArgs, inline: str, sibling_type: str, provides: Callable[[Mapping[str, Any]], bool]
) -> Iterator[tuple[PolicyResource, list[str], bool]]:
    """Buckets whose setting is not provided by every place that sets it: the deprecated ``inline`` block and
    each sibling of ``sibling_type``. In the cloud the last writer wins, so one weaker sibling beside a compliant one
    downgrades the bucket (security review F8); a bucket with neither fails too.

    Yields each such bucket, the places that fall short, and whether a compliant one exists beside them.
    """
    for bucket in (resource for resource in args.resources if resource.resource_type == OSS_BUCKET):
        inline_block = _inline(bucket, inline)
        found = siblings(args.resources, bucket, sibling_type)
        weaker = [sibling for sibling in found if not provides(sibling.props)]
        inline_weaker = bool(inline_block) and not provides(inline_block)
        if weaker or inline_weaker or (not found and not inline_block):
            named = [f"{short_type(sibling.resource_type)} '{sibling.name}'" for sibling in weaker]
            compliant = len(weaker) < len(found) or (bool(inline_block) and not inline_weaker)
            yield bucket, named + ([f"its inline {inline}"] if inline_weaker else []), compliant


def _conflict(weaker: list[str], compliant: bool) -> str:
    """The sentence naming the weaker places, for a bucket whose compliant setting they override."""
    if not compliant:
        return ""
    return (
        f" {', '.join(weaker)} sets it weaker, and in the cloud the last writer wins, so a compliant setting "
        f"beside it does not count; remove the weaker one."
    )


def validate_encrypted(args: StackValidationArgs, report: ReportViolation) -> None:
    for bucket, weaker, compliant in buckets_without(args, "serverSideEncryptionRule", OSS_BUCKET_SSE, _kms_encrypted):
        found = "its BucketServerSideEncryption has no KMS key" if weaker else "it has no BucketServerSideEncryption"
        report(
            f"OSS bucket '{bucket_name(bucket)}' is not encrypted with a KMS key ({found}). Add an "
            f'oss.BucketServerSideEncryption with sse_algorithm "KMS" and kms_master_key_id '
            f"(in pai-mlops: storage.kmsEncryption: true).{_conflict(weaker, compliant)}",
            bucket.urn,
        )


oss_bucket_encrypted_kms = StackValidationPolicy(
    name="oss-bucket-encrypted-kms",
    description="OSS buckets are encrypted server-side with a KMS key (CKV_ALI_6).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_encrypted,
)

# --- oss-bucket-versioning (CKV_ALI_10) ---------------------------------------------------------


def validate_versioning(args: StackValidationArgs, report: ReportViolation) -> None:
    for bucket, weaker, compliant in buckets_without(args, "versioning", OSS_BUCKET_VERSIONING, _versioned):
        report(
            f"OSS bucket '{bucket_name(bucket)}' does not keep object versions, so an overwritten model or "
            f'checkpoint is lost. Add an oss.BucketVersioning with status "Enabled".{_conflict(weaker, compliant)}',
            bucket.urn,
        )


oss_bucket_versioning = StackValidationPolicy(
    name="oss-bucket-versioning",
    description="OSS buckets keep object versions (CKV_ALI_10).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_versioning,
)

# --- oss-bucket-access-logging (CKV_ALI_12) -----------------------------------------------------


def validate_logging(args: StackValidationArgs, report: ReportViolation) -> None:
    for bucket, weaker, compliant in buckets_without(args, "logging", OSS_BUCKET_LOGGING, _logged):
        report(
            f"OSS bucket '{bucket_name(bucket)}' has no access logging, so reads of models and data cannot be "
            f"audited. Add an oss.BucketLogging with a target_bucket and target_prefix.{_conflict(weaker, compliant)}",
            bucket.urn,
        )


oss_bucket_access_logging = StackValidationPolicy(
    name="oss-bucket-access-logging",
    description="OSS buckets log access (CKV_ALI_12).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_logging,
)

# --- kms-key-rotation (CKV_ALI_27) --------------------------------------------------------------


def validate_rotation(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != KMS_KEY:
        return
    rotation = args.props.get("automaticRotation")
    if rotation != "Enabled":
        report(
            f"KMS key '{args.name}' does not rotate automatically (automaticRotation {render(rotation)}). Set "
            f'automatic_rotation "Enabled" with a rotation_interval such as "365d".',
            None,
        )


kms_key_rotation = ResourceValidationPolicy(
    name="kms-key-rotation",
    description="KMS keys rotate automatically (CKV_ALI_27).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_rotation,
)

POLICIES: Final = [
    oss_bucket_private,
    oss_bucket_encrypted_kms,
    oss_bucket_versioning,
    oss_bucket_access_logging,
    kms_key_rotation,
]
