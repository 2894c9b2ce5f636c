"""Public exposure through any door: bucket policies, public-access blocks, access points, registries, FC HTTP
triggers and KMS policies (the doors the security review found open, shared/reference/security-review.md F2).

Types and property names are those of the generated pulumi-alicloud 4.0.0 SDK: ``oss.BucketPolicy.policy`` and the
inline ``oss.Bucket.policy``; ``oss.BucketPublicAccessBlock`` / ``oss.AccountPublicAccessBlock``
``blockPublicAccess``; ``oss.AccessPoint`` ``networkOrigin`` ("vpc" or "internet", per the SDK docstring) and
``publicAccessBlockConfiguration.blockPublicAccess``; ``cr.Repo`` / ``cr.ChartRepository`` /
``cs.RegistryEnterpriseRepo`` ``repoType`` ("PUBLIC" or "PRIVATE"); ``fc.V3Trigger`` ``triggerType`` /
``triggerConfig`` (an HTTP trigger's JSON ``authType``, "anonymous" in the SDK's own example) and ``fc.Trigger``
``type`` / ``config``; ``kms.Key.policy`` / ``kms.Secret.policy`` (JSON key and secret policies, KMS API
``SetKeyPolicy``).

Principals: OSS bucket policies name principals as a list of account or RAM ids, ``["*"]`` meaning anyone,
anonymous callers included (OSS docs, "Bucket Policy" syntax); KMS policies as ``{"RAM": ["acs:ram::<account>:*"]}``
(KMS docs, "Key policy"). A principal is public when it is ``*`` or its account segment is a wildcard. The only
exception is a statement limited to one named VPC (``acs:SourceVpc`` with no wildcard), which is not the internet.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    CR_CHART_REPOSITORY,
    CR_EE_REPO,
    CR_REPO,
    FC2_TRIGGER,
    FC_TRIGGER,
    KMS_KEY,
    KMS_SECRET,
    OSS_ACCESS_POINT,
    OSS_ACCOUNT_PUBLIC_ACCESS_BLOCK,
    OSS_BUCKET,
    OSS_BUCKET_POLICY,
    OSS_BUCKET_PUBLIC_ACCESS_BLOCK,
    MalformedDocument,
    as_list,
    json_object,
    peek,
    render,
    short_type,
)
from .storage import bucket_name, siblings


def _principal_values(principal: Any) -> list[str]:
    if isinstance(principal, Mapping):
        return [str(v) for values in principal.values() for v in as_list(values)]
    return [str(v) for v in as_list(principal)]


def public_principal(value: str) -> bool:
    """``*``, or an ARN whose account segment is a wildcard (``acs:ram::*:*``)."""
    if "*" not in value:
        return False
    parts = value.split(":")
    return value.strip() == "*" or len(parts) < 4 or "*" in parts[3]


def _one_vpc(condition: Any) -> bool:
    if not isinstance(condition, Mapping):
        return False
    for operator in condition.values():
        if isinstance(operator, Mapping):
            for key, values in operator.items():
                vpcs = [str(v) for v in as_list(values)]
                if str(key).lower() == "acs:sourcevpc" and vpcs and not any("*" in v for v in vpcs):
                    return True
    return False


def public_grants(document: Mapping[str, Any]) -> list[str]:
    """The public principals an ``Allow`` statement of ``document`` grants, outside one named VPC."""
    found: list[str] = []
    for statement in as_list(document.get("Statement")):
        if not isinstance(statement, Mapping) or str(statement.get("Effect", "")).lower() != "allow":
            continue
        if _one_vpc(statement.get("Condition")):
            continue
        if "NotPrincipal" in statement:
            found.append(f"NotPrincipal {statement.get('NotPrincipal')!r}")
        found += [p for p in _principal_values(statement.get("Principal")) if public_principal(p)]
    return sorted(set(found))


# --- oss-no-public-bucket-policy ------------------------------------------------------------------


def validate_bucket_policy(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (OSS_BUCKET_POLICY, OSS_BUCKET):
        return
    text = args.props.get("policy")
    if text is None:
        return
    bucket = args.props.get("bucket") or args.name
    where = "its inline policy" if args.resource_type == OSS_BUCKET else f"BucketPolicy '{args.name}'"
    try:
        grants = public_grants(json_object(text, "policy"))
    except MalformedDocument as error:
        report(f"OSS bucket '{bucket}': {where}: {error}, so who it admits cannot be checked. Fix the policy.", None)
        return
    if grants:
        report(
            f"OSS bucket '{bucket}' is opened to anyone by {where} (Principal {', '.join(grants)}): any account or "
            f"anonymous caller gets what it allows. Grant access to the stack's RAM roles instead (their policies), "
            f"or limit the statement to one VPC with an acs:SourceVpc condition.",
            None,
        )


oss_no_public_bucket_policy = ResourceValidationPolicy(
    name="oss-no-public-bucket-policy",
    description="No bucket policy (BucketPolicy or inline Bucket.policy) admits anonymous or any-account callers.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_bucket_policy,
)

# --- oss-public-access-blocked (stack) ------------------------------------------------------------


def _blocked(resource: PolicyResource) -> bool:
    return peek(resource.props, "blockPublicAccess", unknown=True) is True


def validate_blocks(args: StackValidationArgs, report: ReportViolation) -> None:
    for account in (r for r in args.resources if r.resource_type == OSS_ACCOUNT_PUBLIC_ACCESS_BLOCK):
        if not _blocked(account):
            report(
                f"AccountPublicAccessBlock '{account.name}' turns the account-wide OSS public-access block off "
                f"(blockPublicAccess {render(peek(account.props, 'blockPublicAccess'))}), so every bucket of the "
                f"account may be made public. Set block_public_access=True, or remove the resource.",
                account.urn,
            )
    for bucket in (r for r in args.resources if r.resource_type == OSS_BUCKET):
        blocks = siblings(args.resources, bucket, OSS_BUCKET_PUBLIC_ACCESS_BLOCK)
        name = bucket_name(bucket)
        if not blocks:
            report(
                f"OSS bucket '{name}' has no BucketPublicAccessBlock, so a policy or ACL can make it public. Add an "
                f"oss.BucketPublicAccessBlock with block_public_access=True (pai-mlops' ArtifactStore has one).",
                bucket.urn,
            )
        for block in (b for b in blocks if not _blocked(b)):
            report(
                f"OSS bucket '{name}': BucketPublicAccessBlock '{block.name}' turns its public-access block off "
                f"(blockPublicAccess {render(peek(block.props, 'blockPublicAccess'))}); the last writer wins, so "
                f"one such sibling opens the bucket. Set block_public_access=True or remove '{block.name}'.",
                block.urn,
            )


oss_public_access_blocked = StackValidationPolicy(
    name="oss-public-access-blocked",
    description="Every bucket has a public-access block, every block (bucket or account) is on.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_blocks,
)

# --- oss-access-point-vpc-only --------------------------------------------------------------------


def validate_access_point(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != OSS_ACCESS_POINT:
        return
    name = args.props.get("accessPointName") or args.name
    origin = args.props.get("networkOrigin")
    if str(origin).lower() != "vpc":
        report(
            f"OSS access point '{name}' of bucket '{args.props.get('bucket')}' is reachable from the internet "
            f"(networkOrigin {render(origin)}). Set network_origin 'vpc' with a vpc_configuration.",
            None,
        )
    block = args.props.get("publicAccessBlockConfiguration")
    if not isinstance(block, Mapping) or block.get("blockPublicAccess") is not True:
        shown = block.get("blockPublicAccess") if isinstance(block, Mapping) else None
        report(
            f"OSS access point '{name}' does not block public access (publicAccessBlockConfiguration."
            f"blockPublicAccess {render(shown)}). Set public_access_block_configuration.block_public_access=True.",
            None,
        )


oss_access_point_vpc_only = ResourceValidationPolicy(
    name="oss-access-point-vpc-only",
    description="OSS access points are VPC-only and block public access.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_access_point,
)

# --- cr-repository-private ------------------------------------------------------------------------

REPOSITORY_TYPES: Final = (CR_REPO, CR_CHART_REPOSITORY, CR_EE_REPO)


def validate_repository(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in REPOSITORY_TYPES:
        return
    kind = args.props.get("repoType")
    if str(kind).upper() != "PRIVATE":
        name = args.props.get("name") or args.props.get("repoName") or args.name
        report(
            f"{short_type(args.resource_type)} '{name}' is not private (repoType {render(kind)}): anyone can pull the "
            f"training and serving images and what is baked into them. Set repo_type 'PRIVATE'.",
            None,
        )


cr_repository_private = ResourceValidationPolicy(
    name="cr-repository-private",
    description="Container Registry repositories (personal, enterprise, chart) are private.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_repository,
)

# --- fc-http-trigger-authenticated ----------------------------------------------------------------


def validate_http_trigger(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == FC_TRIGGER:
        kind, key = args.props.get("triggerType"), "triggerConfig"
    elif args.resource_type == FC2_TRIGGER:
        kind, key = args.props.get("type"), "config"
    else:
        return
    if str(kind).lower() != "http":
        return
    name = args.props.get("triggerName") or args.props.get("name") or args.name
    try:
        auth = json_object(args.props.get(key), key).get("authType")
    except MalformedDocument as error:
        auth, problem = None, f" ({error})"
    else:
        problem = ""
    if not isinstance(auth, str) or auth.lower() in ("", "anonymous"):
        report(
            f"FC HTTP trigger '{name}' lets anyone on the internet invoke the function (authType {render(auth)})"
            f"{problem}, which runs with the function's role. Set authType 'function' (signed requests) or 'jwt' in "
            f"its {key}, or use a timer or OSS trigger.",
            None,
        )


fc_http_trigger_authenticated = ResourceValidationPolicy(
    name="fc-http-trigger-authenticated",
    description="Function Compute HTTP triggers require authentication (authType 'function' or 'jwt').",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_http_trigger,
)

# --- kms-policy-not-public ------------------------------------------------------------------------


def validate_kms_policy(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (KMS_KEY, KMS_SECRET):
        return
    text = args.props.get("policy")
    if text is None:
        return
    name = args.props.get("secretName") or args.name
    what = f"{'KMS key' if args.resource_type == KMS_KEY else 'KMS secret'} '{name}'"
    try:
        grants = public_grants(json_object(text, "policy"))
    except MalformedDocument as error:
        report(f"{what}: {error}, so who may use it cannot be checked. Fix the policy.", None)
        return
    if grants:
        report(
            f"{what} has a policy open to any principal ({', '.join(grants)}): any account could use it to decrypt "
            f"the bucket's data. Name principals of this account (acs:ram::<account>:role/<roleName>).",
            None,
        )


kms_policy_not_public = ResourceValidationPolicy(
    name="kms-policy-not-public",
    description="KMS key and secret policies admit only named principals of the account.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_kms_policy,
)

POLICIES: Final = [
    oss_no_public_bucket_policy,
    oss_public_access_blocked,
    oss_access_point_vpc_only,
    cr_repository_private,
    fc_http_trigger_authenticated,
    kms_policy_not_public,
]
