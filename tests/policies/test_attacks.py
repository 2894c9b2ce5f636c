"""Attacks on the gate, each through the offline plan (tools/plan.py) exactly as a pull request would try them.

Every row is one bypass attempt from the security review's classes (shared/reference/security-review.md): public
exposure, RAM loopholes, weaker siblings, secrets, foreign dynamic resources, least privilege. A row either appends
code to a copy of ``__main__.py`` or edits a copy of the stack file, then runs the real plan: the program under the
mock engine, the policy pack over gRPC. It asserts the exit code, exactly which mandatory violations (policy,
resource) or config problem stop it, and that the message names the resource and says what to do instead.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tools import plan
from tools.mock_engine import ROOT

HEAD = "import json as _json\nimport pulumi as _pulumi\nimport pulumi_alicloud as _ali\n"
BUCKET = "config.storage.bucket_name"
RAM_POLICY = "alicloud:ram/policy:Policy"


def doc(*statements: str) -> str:
    """A policy document literal for the program: ``_json.dumps({...})`` of the given statements."""
    return f'_json.dumps({{"Version": "1", "Statement": [{", ".join(statements)}]}})'


def ram_policy(name: str, *statements: str) -> str:
    return f'_ali.ram.Policy("{name}", policy_name="pai-mlops-dev-{name}", policy_document={doc(*statements)})\n'


def allow(action: str, resource: str = '"acs:oss:*:*:acme-pai-mlops-dev/data/*"', extra: str = "") -> str:
    return f'{{"Effect": "Allow", "Action": {action}, "Resource": {resource}{extra}}}'


def bucket_policy(name: str, principal: str, condition: str = "") -> str:
    statement = (
        f'{{"Effect": "Allow", "Principal": {principal}, "Action": ["oss:GetObject"], '
        f'"Resource": ["acs:oss:*:*:acme-pai-mlops-dev/*"]{condition}}}'
    )
    return f'_ali.oss.BucketPolicy("{name}", bucket={BUCKET}, policy={doc(statement)})\n'


def trigger(name: str, config: str) -> str:
    return (
        f'_ali.fc.V3Trigger("{name}", function_name="f", qualifier="LATEST", trigger_name="{name}", '
        f'trigger_type="http", trigger_config={config})\n'
    )


def fc_function(name: str, env: str, opts: str = "") -> str:
    return (
        f'_ali.fc.V3Function("{name}", function_name="{name}", runtime="python3.12", handler="index.handler", '
        f"environment_variables={env}{opts})\n"
    )


def trust(name: str, principal: str, resource_type: str = "ram.Role") -> str:
    statement = f'{{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {principal}}}'
    return (
        f'_ali.{resource_type}("{name}", role_name="pai-mlops-dev-{name}", '
        f"assume_role_policy_document={doc(statement)})\n"
    )


@dataclass(frozen=True)
class Attack:
    """One attempt: program code appended (``tail``) or a stack-file edit, and what must stop it."""

    id: str
    klass: str
    tail: str = ""
    stack: str = "dev"
    edit: Callable[[str], str] | None = None
    blocked: list[tuple[str, str]] = field(default_factory=lambda: [])
    says: str = ""  # a fragment of the (first) message: names the resource and the fix
    exit_code: int = 1


ATTACKS = [
    # --- 1. public exposure, through any door ------------------------------------------------------------------
    Attack(
        "bucket-policy-anyone",
        "exposure",
        bucket_policy("open", '["*"]'),
        blocked=[("oss-no-public-bucket-policy", "open")],
        says="OSS bucket 'acme-pai-mlops-dev' is opened to anyone by BucketPolicy 'open' (Principal *)",
    ),
    Attack(
        "bucket-policy-anyone-as-string",
        "exposure",
        bucket_policy("open", '"*"'),
        blocked=[("oss-no-public-bucket-policy", "open")],
        says="Grant access to the stack's RAM roles instead",
    ),
    Attack(
        "bucket-policy-any-account-arn",
        "exposure",
        bucket_policy("open", '{"RAM": ["acs:ram::*:*"]}'),
        blocked=[("oss-no-public-bucket-policy", "open")],
        says="(Principal acs:ram::*:*)",
    ),
    Attack(
        "bucket-policy-anyone-behind-an-ip-condition",
        "exposure",
        bucket_policy("open", '["*"]', ', "Condition": {"IpAddress": {"acs:SourceIp": ["0.0.0.0/0"]}}'),
        blocked=[("oss-no-public-bucket-policy", "open")],
        says="limit the statement to one VPC with an acs:SourceVpc condition",
    ),
    Attack(
        "bucket-policy-anyone-in-any-vpc",
        "exposure",
        bucket_policy("open", '["*"]', ', "Condition": {"StringEquals": {"acs:SourceVpc": ["vpc-*"]}}'),
        blocked=[("oss-no-public-bucket-policy", "open")],
        says="BucketPolicy 'open'",
    ),
    Attack(
        "inline-bucket-policy",
        "exposure",
        '_ali.oss.Bucket("side", bucket="acme-side", policy='
        + doc('{"Effect": "Allow", "Principal": ["*"], "Action": ["oss:GetObject"], "Resource": ["*"]}')
        + ")\n",
        blocked=[("oss-no-public-bucket-policy", "side"), ("oss-public-access-blocked", "side")],
        says="OSS bucket 'acme-side' is opened to anyone by its inline policy",
    ),
    Attack(
        "second-public-access-block-off",
        "exposure",
        f'_ali.oss.BucketPublicAccessBlock("unblock", bucket={BUCKET}, block_public_access=False)\n',
        blocked=[("oss-public-access-blocked", "unblock")],
        says="BucketPublicAccessBlock 'unblock' turns its public-access block off (blockPublicAccess False)",
    ),
    Attack(
        "account-public-access-block-off",
        "exposure",
        '_ali.oss.AccountPublicAccessBlock("account", block_public_access=False)\n',
        blocked=[("oss-public-access-blocked", "account")],
        says="AccountPublicAccessBlock 'account' turns the account-wide OSS public-access block off",
    ),
    Attack(
        "bucket-without-a-block",
        "exposure",
        '_ali.oss.Bucket("side", bucket="acme-side")\n',
        blocked=[("oss-public-access-blocked", "side")],
        says="OSS bucket 'acme-side' has no BucketPublicAccessBlock",
    ),
    Attack(
        "public-read-object",
        "exposure",
        f'_ali.oss.BucketObject("leak", bucket={BUCKET}, key="models/m.bin", content="x", acl="public-read")\n',
        blocked=[("oss-bucket-private", "leak")],
        says="OSS object 'models/m.bin' in bucket 'acme-pai-mlops-dev' is readable by anyone (acl public-read)",
    ),
    Attack(
        "public-read-write-object",
        "exposure",
        f'_ali.oss.BucketObject("leak", bucket={BUCKET}, key="k", content="x", acl="public-read-write")\n',
        blocked=[("oss-bucket-private", "leak")],
        says='Set its acl to "private"',
    ),
    Attack(
        "public-bucket-acl",
        "exposure",
        f'_ali.oss.BucketAcl("leak", bucket={BUCKET}, acl="public-read")\n',
        blocked=[("oss-bucket-private", "leak")],
        says="OSS bucket 'acme-pai-mlops-dev' is readable by anyone (acl public-read)",
    ),
    Attack(
        "inline-public-bucket-acl",
        "exposure",
        '_ali.oss.Bucket("side", bucket="acme-side", acl="public-read-write")\n',
        blocked=[("oss-bucket-private", "side"), ("oss-public-access-blocked", "side")],
        says="OSS bucket 'acme-side' is readable by anyone (acl public-read-write)",
    ),
    Attack(
        "internet-access-point",
        "exposure",
        f'_ali.oss.AccessPoint("ap", access_point_name="ap1", bucket={BUCKET}, network_origin="internet", '
        "public_access_block_configuration={'block_public_access': True})\n",
        blocked=[("oss-access-point-vpc-only", "ap")],
        says="OSS access point 'ap1' of bucket 'acme-pai-mlops-dev' is reachable from the internet",
    ),
    Attack(
        "access-point-block-off",
        "exposure",
        f'_ali.oss.AccessPoint("ap", access_point_name="ap1", bucket={BUCKET}, network_origin="vpc", '
        "vpc_configuration={'vpc_id': 'vpc-1'}, public_access_block_configuration={'block_public_access': False})\n",
        blocked=[("oss-access-point-vpc-only", "ap")],
        says="OSS access point 'ap1' does not block public access",
    ),
    Attack(
        "public-registry-repository",
        "exposure",
        '_ali.cr.Repo("pub", name="leak", namespace="acme-ml-dev", repo_type="PUBLIC", summary="s")\n',
        blocked=[("cr-repository-private", "pub")],
        says="Repo 'leak' is not private (repoType 'PUBLIC')",
    ),
    Attack(
        "public-enterprise-repository",
        "exposure",
        '_ali.cs.RegistryEnterpriseRepo("pub", instance_id="cri-1", namespace="ns", name="leak", '
        'repo_type="PUBLIC", summary="s")\n',
        blocked=[("cr-repository-private", "pub")],
        says="RegistryEnterpriseRepo 'leak' is not private",
    ),
    Attack(
        "public-chart-repository",
        "exposure",
        '_ali.cr.ChartRepository("pub", instance_id="cri-1", repo_name="leak", repo_namespace_name="ns", '
        'repo_type="PUBLIC")\n',
        blocked=[("cr-repository-private", "pub")],
        says="ChartRepository 'leak' is not private",
    ),
    Attack(
        "registry-scan-switched-off-in-prod",
        "exposure",
        stack="prod",
        edit=lambda y: y.replace(
            "    namespace: acme-ml\n    repositories: [image-tagger, fraud-train, fraud-prep, fraud-eval]\n",
            "    namespace: acme-ml\n    repositories: [image-tagger, fraud-train, fraud-prep, fraud-eval]\n"
            "    scanOnPush: false\n",
        ),
        blocked=[("cr-enterprise-scan-on-push", "images-namespace")],
        says="Container Registry namespace 'acme-ml' of instance 'cri-acme0registry1' does not scan the images "
        "pushed to it",
    ),
    Attack(
        "side-namespace-with-a-manual-scan-rule",
        "siblings",
        '_ali.cs.RegistryEnterpriseNamespace("side", instance_id="cri-acme0registry1", name="acme-side", '
        'auto_create=False, default_visibility="PRIVATE")\n'
        '_ali.cr.ScanRule("side-scan", instance_id="cri-acme0registry1", rule_name="side", scan_scope="NAMESPACE", '
        'namespaces=["acme-side"], repo_tag_filter_pattern=".*", scan_type="VUL", trigger_type="MANUAL")\n',
        stack="prod",
        blocked=[("cr-enterprise-scan-on-push", "side")],
        says="Container Registry namespace 'acme-side' of instance 'cri-acme0registry1' does not scan",
    ),
    Attack(
        "anonymous-http-trigger",
        "exposure",
        trigger("web", '_json.dumps({"authType": "anonymous", "methods": ["POST"]})'),
        blocked=[("fc-http-trigger-authenticated", "web")],
        says="FC HTTP trigger 'web' lets anyone on the internet invoke the function (authType 'anonymous')",
    ),
    Attack(
        "http-trigger-without-auth-type",
        "exposure",
        trigger("web", '_json.dumps({"methods": ["GET"]})'),
        blocked=[("fc-http-trigger-authenticated", "web")],
        says="(authType not set)",
    ),
    Attack(
        "anonymous-fc2-http-trigger",
        "exposure",
        '_ali.fc.Trigger("web", service="s", function="f", name="web", type="http", '
        'config=_json.dumps({"authType": "anonymous"}))\n',
        blocked=[("fc-http-trigger-authenticated", "web")],
        says="Set authType 'function' (signed requests) or 'jwt' in its config",
    ),
    Attack(
        "kms-key-policy-anyone",
        "exposure",
        '_ali.kms.Key("open", automatic_rotation="Enabled", rotation_interval="365d", policy='
        + doc('{"Effect": "Allow", "Principal": {"RAM": ["*"]}, "Action": ["kms:Decrypt"], "Resource": ["*"]}')
        + ")\n",
        blocked=[("kms-policy-not-public", "open")],
        says="KMS key 'open' has a policy open to any principal (*)",
    ),
    Attack(
        "kms-key-policy-any-account",
        "exposure",
        '_ali.kms.Key("open", automatic_rotation="Enabled", rotation_interval="365d", policy='
        + doc(
            '{"Effect": "Allow", "Principal": {"RAM": ["acs:ram::*:*"]}, "Action": ["kms:Decrypt"], "Resource": ["*"]}'
        )
        + ")\n",
        blocked=[("kms-policy-not-public", "open")],
        says="Name principals of this account",
    ),
    Attack(
        "kms-secret-policy-anyone",
        "exposure",
        '_ali.kms.Secret("open", secret_name="db", secret_data=_pulumi.Output.secret("x"), version_id="v1", '
        "policy="
        + doc('{"Effect": "Allow", "Principal": "*", "Action": ["kms:GetSecretValue"], "Resource": ["*"]}')
        + ")\n",
        blocked=[("kms-policy-not-public", "open")],
        says="KMS secret 'db' has a policy open to any principal (*)",
    ),
    Attack(
        "prod-block-off-and-public-policy",
        "exposure",
        f'_ali.oss.BucketPublicAccessBlock("unblock", bucket={BUCKET}, block_public_access=False)\n'
        + bucket_policy("open", '["*"]'),
        stack="prod",
        blocked=[("oss-no-public-bucket-policy", "open"), ("oss-public-access-blocked", "unblock")],
        says="OSS bucket 'acme-pai-mlops-prod' is opened to anyone",
    ),
    # --- 2. RAM without loopholes ------------------------------------------------------------------------------
    Attack(
        "action-star",
        "ram",
        ram_policy("wide", allow('"*"')),
        blocked=[("ram-no-wildcard-actions", "wide")],
        says="RAM policy 'pai-mlops-dev-wide' allows actions by wildcard (*)",
    ),
    Attack(
        "action-star-colon-star",
        "ram",
        ram_policy("wide", allow('["*:*"]')),
        blocked=[("ram-no-wildcard-actions", "wide")],
        says="(*:*)",
    ),
    Attack(
        "partial-action-wildcard",
        "ram",
        ram_policy("wide", allow('["oss:Delete*"]')),
        blocked=[("ram-no-wildcard-actions", "wide")],
        says="(oss:Delete*)",
    ),
    Attack(
        "infix-action-wildcard",
        "ram",
        ram_policy("wide", allow('["ram:*Role*"]', '"acs:ram::1:role/pai-mlops-dev-dlc"')),
        blocked=[("ram-no-wildcard-actions", "wide")],
        says="List each action the role needs",
    ),
    Attack(
        "deprecated-statements-form",
        "ram",
        '_ali.ram.Policy("old", policy_name="pai-mlops-dev-old", statements=[{"effect": "Allow", '
        '"actions": ["oss:*"], "resources": ["acs:oss:*:*:acme-pai-mlops-dev/data/*"]}])\n',
        blocked=[("ram-no-wildcard-actions", "old")],
        says="(oss:*)",
    ),
    Attack(
        "every-object-of-every-bucket",
        "ram",
        ram_policy("wide", allow('["oss:GetObject"]', '["acs:oss:*:*:*/*"]')),
        blocked=[("ram-no-wildcard-resources", "wide")],
        says="allows resources by wildcard (acs:oss:*:*:*/*)",
    ),
    Attack(
        "account-filled-in-wildcard",
        "ram",
        ram_policy("wide", allow('["oss:GetObject"]', '["acs:oss:*:1234567890123456:*"]')),
        blocked=[("ram-no-wildcard-resources", "wide")],
        says="(acs:oss:*:1234567890123456:*)",
    ),
    Attack(
        "resource-star",
        "ram",
        ram_policy("wide", allow('["oss:GetObject"]', '"*"')),
        blocked=[("ram-no-wildcard-resources", "wide")],
        says="Name the resources, e.g. acs:oss:*:*:<bucket>/<prefix>/*",
    ),
    Attack(
        "whole-bucket-wildcard",
        "ram",
        ram_policy("wide", allow('["oss:GetObject"]', '["acs:oss:*:*:acme-pai-mlops-dev/*"]')),
        blocked=[("ram-no-wildcard-resources", "wide")],
        says="(acs:oss:*:*:acme-pai-mlops-dev/*)",
    ),
    Attack(
        "allow-not-action",
        "ram",
        ram_policy("wide", '{"Effect": "Allow", "NotAction": ["ram:*"], "Resource": ["acs:oss:*:*:b/data/*"]}'),
        blocked=[("ram-no-not-action", "wide")],
        says="RAM policy 'pai-mlops-dev-wide' allows with NotAction",
    ),
    Attack(
        "allow-not-resource",
        "ram",
        ram_policy("wide", '{"Effect": "Allow", "Action": ["oss:GetObject"], "NotResource": ["acs:oss:*:*:b/x/*"]}'),
        blocked=[("ram-no-not-action", "wide")],
        says="allows with NotResource",
    ),
    Attack(
        "pass-every-role",
        "ram",
        ram_policy("pass", allow('["ram:PassRole"]', '["acs:ram:*:*:role/*"]')),
        blocked=[("ram-no-wildcard-resources", "pass"), ("ram-pass-role-own-roles", "pass")],
        says="allows resources by wildcard (acs:ram:*:*:role/*)",
    ),
    Attack(
        "pass-a-foreign-role",
        "ram",
        ram_policy("pass", allow('["ram:PassRole"]', '["acs:ram::1234567890123456:role/admin"]')),
        blocked=[("ram-pass-role-own-roles", "pass")],
        says="allows ram:PassRole on acs:ram::1234567890123456:role/admin",
    ),
    Attack(
        "put-bucket-acl",
        "ram",
        ram_policy("acl", allow('["oss:PutBucketAcl"]', '["acs:oss:*:*:acme-pai-mlops-dev"]')),
        blocked=[("ram-no-escalation-actions", "acl")],
        says="RAM policy 'pai-mlops-dev-acl' allows oss:PutBucketAcl",
    ),
    Attack(
        "put-bucket-policy",
        "ram",
        ram_policy("acl", allow('["oss:PutBucketPolicy"]', '["acs:oss:*:*:acme-pai-mlops-dev"]')),
        blocked=[("ram-no-escalation-actions", "acl")],
        says="allows oss:PutBucketPolicy",
    ),
    Attack(
        "put-object-acl",
        "ram",
        ram_policy("acl", allow('["oss:PutObjectAcl"]', '["acs:oss:*:*:acme-pai-mlops-dev/models/*"]')),
        blocked=[("ram-no-escalation-actions", "acl")],
        says="allows oss:PutObjectAcl",
    ),
    Attack(
        "policy-version-and-attachment",
        "ram",
        ram_policy(
            "esc",
            allow('["ram:CreatePolicyVersion", "ram:AttachPolicyToRole"]', '["acs:ram::1:role/pai-mlops-dev-dlc"]'),
        ),
        blocked=[("ram-no-escalation-actions", "esc")],
        says="allows ram:AttachPolicyToRole, ram:CreatePolicyVersion",
    ),
    Attack(
        "kms-key-policy-write",
        "ram",
        ram_policy("esc", allow('["kms:SetKeyPolicy"]', '["acs:kms:cn-hangzhou:1:key/k"]')),
        blocked=[("ram-no-escalation-actions", "esc")],
        says="allows kms:SetKeyPolicy",
    ),
    Attack(
        "administrator-access-on-the-dlc-role",
        "ram",
        '_ali.ram.RolePolicyAttachment("admin", policy_name="AdministratorAccess", policy_type="System", '
        'role_name="pai-mlops-dev-dlc")\n',
        blocked=[("ram-attachments-reviewed", "admin")],
        says="RolePolicyAttachment 'admin' attaches the system policy 'AdministratorAccess'",
    ),
    Attack(
        "oss-full-access-system-policy",
        "ram",
        '_ali.ram.RolePolicyAttachment("full", policy_name="AliyunOSSFullAccess", policy_type="System", '
        'role_name="pai-mlops-dev-eas")\n',
        blocked=[("ram-attachments-reviewed", "full")],
        says="add the policy to allowedSystemPolicies with a reviewed reason",
    ),
    Attack(
        "custom-policy-from-outside-the-stack",
        "ram",
        '_ali.ram.RolePolicyAttachment("legacy", policy_name="legacy-admin", policy_type="Custom", '
        'role_name="pai-mlops-dev-dlc")\n',
        blocked=[("ram-attachments-reviewed", "legacy")],
        says="attaches 'legacy-admin' (policy type Custom), which is not a policy this stack defines",
    ),
    Attack(
        "ram-user-with-access-key",
        "ram",
        '_ali.ram.User("ci", name="ci")\n_ali.ram.AccessKey("ci-key", user_name="ci")\n'
        '_ali.ram.UserPolicyAttachment("ci-oss", policy_name="AliyunOSSFullAccess", policy_type="System", '
        'user_name="ci")\n',
        blocked=[
            ("ram-attachments-reviewed", "ci-oss"),
            ("ram-no-users-or-keys", "ci"),
            ("ram-no-users-or-keys", "ci-key"),
            ("ram-no-users-or-keys", "ci-oss"),
        ],
        says="UserPolicyAttachment 'ci-oss' attaches the system policy 'AliyunOSSFullAccess'",
    ),
    Attack(
        "ram-login-profile",
        "ram",
        '_ali.ram.LoginProfile("console", user_name="ops", password=_pulumi.Output.secret("Pa55word!x"))\n',
        blocked=[("ram-no-users-or-keys", "console")],
        says="LoginProfile 'console': pai-mlops creates no RAM users, passwords or long-lived AccessKeys",
    ),
    Attack(
        "resourcemanager-policy-wildcards",
        "ram",
        '_ali.resourcemanager.Policy("rm", policy_name="rm-admin", policy_document=' + doc(allow('"*"', '"*"')) + ")\n",
        blocked=[("ram-no-wildcard-actions", "rm"), ("ram-no-wildcard-resources", "rm")],
        says="resourcemanager policy 'rm-admin' allows actions by wildcard (*)",
    ),
    Attack(
        "resourcemanager-policy-version-not-action",
        "ram",
        '_ali.resourcemanager.PolicyVersion("rmv", policy_name="pai-mlops-dev-dlc-oss", policy_document='
        + doc('{"Effect": "Allow", "NotAction": ["ram:*"], "Resource": ["acs:oss:*:*:b/data/*"]}')
        + ")\n",
        blocked=[("ram-no-not-action", "rmv")],
        says="resourcemanager policy 'pai-mlops-dev-dlc-oss' allows with NotAction",
    ),
    Attack(
        "resourcemanager-role-foreign-account",
        "ram",
        trust("x-dlc", '{"RAM": ["acs:ram::1234567890123456:root"]}', "resourcemanager.Role"),
        blocked=[("ram-trusted-service-principals", "x-dlc")],
        says="resourcemanager role 'pai-mlops-dev-x-dlc' can be assumed by RAM:acs:ram::1234567890123456:root",
    ),
    Attack(
        "resourcemanager-system-attachment",
        "ram",
        '_ali.resourcemanager.PolicyAttachment("rma", policy_name="AdministratorAccess", policy_type="System", '
        'principal_name="ci@1.onaliyun.com", principal_type="IMSUser", resource_group_id="rg-1")\n',
        blocked=[("ram-attachments-reviewed", "rma")],
        says="PolicyAttachment 'rma' attaches the system policy 'AdministratorAccess'",
    ),
    Attack(
        "data-role-trusted-by-oss",
        "ram",
        trust("dlc", '{"Service": ["oss.aliyuncs.com"]}').replace('"dlc"', '"shadow"', 1),
        blocked=[("ram-trusted-service-principals", "shadow")],
        says="RAM role 'pai-mlops-dev-dlc' can be assumed by Service:oss.aliyuncs.com; this role is for "
        "pai.aliyuncs.com only",
    ),
    Attack(
        "role-trusted-by-another-account",
        "ram",
        trust("dsw", '{"RAM": ["acs:ram::1234567890123456:root"]}').replace('"dsw"', '"shadow"', 1),
        blocked=[("ram-trusted-service-principals", "shadow")],
        says="can be assumed by RAM:acs:ram::1234567890123456:root",
    ),
    Attack(
        "unmapped-role-name",
        "ram",
        trust("admin", '{"Service": ["pai.aliyuncs.com"]}'),
        blocked=[("ram-trusted-service-principals", "admin")],
        says="this role is for nobody (no pattern matches it) only",
    ),
    Attack(
        "widen-the-exempt-policy",
        "ram",
        ram_policy(
            "fraud-retraining-start",
            allow('["paiflow:CreatePipelineRun", "oss:GetObject", "kms:Decrypt"]', '["*"]'),
        ).replace('"fraud-retraining-start"', '"widened"', 1),
        blocked=[("ram-no-wildcard-resources", "widened")],
        says="RAM policy 'pai-mlops-dev-fraud-retraining-start' allows resources by wildcard (*)",
    ),
    # --- 3. every sibling complies -----------------------------------------------------------------------------
    Attack(
        "second-weaker-encryption",
        "siblings",
        f'_ali.oss.BucketServerSideEncryption("aes", bucket={BUCKET}, sse_algorithm="AES256")\n',
        stack="prod",
        blocked=[("oss-bucket-encrypted-kms", "artifacts-bucket")],
        says="BucketServerSideEncryption 'aes' sets it weaker, and in the cloud the last writer wins",
    ),
    Attack(
        "second-suspended-versioning",
        "siblings",
        f'_ali.oss.BucketVersioning("off", bucket={BUCKET}, status="Suspended")\n',
        stack="prod",
        blocked=[("oss-bucket-versioning", "artifacts-bucket")],
        says="BucketVersioning 'off' sets it weaker",
    ),
    Attack(
        "second-logging-without-target",
        "siblings",
        f'_ali.oss.BucketLogging("nolog", bucket={BUCKET}, target_bucket="")\n',
        stack="prod",
        blocked=[("oss-bucket-access-logging", "artifacts-bucket")],
        says="BucketLogging 'nolog' sets it weaker",
    ),
    # --- 4. secrets and dynamic resources ----------------------------------------------------------------------
    Attack(
        "fc-env-secret-name",
        "secrets",
        fc_function("leaky", '{"GH_PAT": "abc"}'),
        blocked=[("secrets-not-plaintext", "leaky")],
        says="FC function 'leaky' puts GH_PAT in environmentVariables",
    ),
    Attack(
        "fc-env-token-shaped-value",
        "secrets",
        fc_function("leaky", '{"SETTINGS": "ghp_' + "A" * 36 + '"}'),
        blocked=[("secrets-not-plaintext", "leaky")],
        says="FC function 'leaky' puts SETTINGS in environmentVariables",
    ),
    Attack(
        "fc-env-masked-secret",
        "secrets",
        fc_function(
            "leaky",
            '{"DB_PASSWORD": _pulumi.Output.secret("p")}',
            ', opts=_pulumi.ResourceOptions(additional_secret_outputs=["environmentVariables"])',
        ),
        blocked=[("secrets-not-plaintext", "leaky")],
        says="Read the value at run time from KMS Secrets Manager",
    ),
    Attack(
        "training-env-access-key-value",
        "secrets",
        '_pulumi.CustomResource("pulumi-python:dynamic/pai:TrainingJob", "sneaky", '
        '{"spot": False, "max_runtime_minutes": 20, "env": {"SETTING": "LTAI5tABCDEFGHIJKLMN"}})\n',
        blocked=[("secrets-not-plaintext", "sneaky")],
        says="TrainingJob 'sneaky' sets SETTING in env in plain text",
    ),
    Attack(
        "drift-reports-over-the-models",
        "ram",
        ram_policy(
            "fraud-retraining-start-drift",
            allow('["oss:PutObject"]', '["acs:oss:*:*:acme-pai-mlops-dev/models/*"]'),
        ),
        blocked=[("drift-check-scope", "fraud-retraining-start-drift")],
        says="RAM policy 'pai-mlops-dev-fraud-retraining-start-drift' of the drift check reaches beyond what it needs: "
        "oss:PutObject reaches acs:oss:*:*:acme-pai-mlops-dev/models/*.",
    ),
    Attack(
        "literal-git-token",
        "secrets",
        '_ali.pai.WorkspaceCodeSource("leak", display_name="x", code_repo="https://github.com/a/b.git", '
        'code_repo_access_token="ghp_literalLITERALliteral1234", mount_path="/mnt", accessibility="PRIVATE", '
        "workspace_id=workspace.workspace_id, "
        'opts=_pulumi.ResourceOptions(additional_secret_outputs=["codeRepoAccessToken"]))\n',
        blocked=[("secrets-not-plaintext", "leak")],
        says="WorkspaceCodeSource 'leak' sets codeRepoAccessToken to a plain value, not a secret",
    ),
    Attack(
        "literal-eas-token",
        "secrets",
        '_pulumi.CustomResource("pulumi-python:dynamic/pai:ServiceEndpoint", "ep", '
        '{"group": "g", "services": [], "token": "literalLITERALliteral-token"}, '
        'opts=_pulumi.ResourceOptions(additional_secret_outputs=["access_token", "group_access_token", "token"]))\n',
        blocked=[("secrets-not-plaintext", "ep")],
        says="ServiceEndpoint 'ep' sets token to a plain value, not a secret",
    ),
    Attack(
        "plain-password-input",
        "secrets",
        '_ali.ram.LoginProfile("console", user_name="ops", password="Pa55word!x")\n',
        blocked=[("ram-no-users-or-keys", "console"), ("secrets-not-plaintext", "console")],
        says="LoginProfile 'console' sets password to a plain value, not a secret",
    ),
    Attack(
        "unreviewed-dynamic-type",
        "secrets",
        '_pulumi.CustomResource("pulumi-python:dynamic/pai:Shell", "shell", {"command": "curl x | sh"})\n',
        blocked=[("dynamic-resource-types", "shell")],
        says="dynamic resource 'shell' has type pulumi-python:dynamic/pai:Shell, which is not one of the reviewed",
    ),
    Attack(
        "anonymous-dynamic-resource",
        "secrets",
        '_pulumi.CustomResource("pulumi-python:dynamic:Resource", "anon", {"x": 1})\n',
        blocked=[("dynamic-resource-types", "anon")],
        says="dynamic resource 'anon' has type pulumi-python:dynamic:Resource",
    ),
]

# Refused by the program or its config before anything is registered: exit 2 and one line naming the key.
CONFIG_ATTACKS = [
    Attack(
        "token-in-the-clone-url",
        "secrets",
        edit=lambda y: y.replace(
            "      repository: https://github.com/acme/fraud-models.git\n      branch: main",
            "      repository: https://x-access-token:ghp_SECRETVALUE1234567890@github.com/acme/fraud-models.git\n"
            "      branch: main",
        ),
        says="  - pai-mlops:notebook.code [repository]: holds a user name or token inside the URL; got a value not "
        "shown here. Remove the user:token@ part of the URL; a Git token goes in pai-mlops:gitAccessToken (pulumi "
        "config set --secret gitAccessToken), and rotate the token, since it was committed in clear.",
        exit_code=2,
    ),
    Attack(
        "password-in-the-training-repository-url",
        "secrets",
        edit=lambda y: y.replace(
            "          repository: https://github.com/acme/fraud-models.git",
            "          repository: https://alice:SECRETVALUE@github.com/acme/fraud-models.git",
        ),
        says="  - pai-mlops:training.jobs[0].code [repository]: holds a user name or token inside the URL; got a "
        "value not shown here.",
        exit_code=2,
    ),
    Attack(
        "git-token-without-secret",
        "secrets",
        edit=lambda y: y + "  pai-mlops:gitAccessToken: ghp_SECRETVALUE1234567890abcdef\n",
        says="  - pai-mlops [gitAccessToken]: is set in plain text, not as a secret; got a value not shown here. Run "
        "`pulumi config rm gitAccessToken` and set it again with `pulumi config set --secret gitAccessToken`; "
        "rotate the value, since it was stored in clear.",
        exit_code=2,
    ),
    Attack(
        "cloud-secret-key-without-secret",
        "secrets",
        edit=lambda y: y + "  alicloud:secretKey: SECRETVALUEsecretvalue\n",
        says="  - alicloud [secretKey]: is set in plain text, not as a secret; got a value not shown here.",
        exit_code=2,
    ),
    Attack(
        "value-of-a-key-set-as-secret",
        "secrets",
        edit=lambda y: y.replace(
            "  pai-mlops:workspace:\n    name: mlops_dev\n"
            "    description: Development workspace of the ML platform team\n",
            "  pai-mlops:workspace:\n    secure: v1:SECRETVALUE\n",
        ),
        says="  - pai-mlops [workspace]: must be an object (a YAML mapping); got a value not shown here.",
        exit_code=2,
    ),
    Attack(
        "mistyped-secret-key",
        "secrets",
        edit=lambda y: y + "  pai-mlops:gitAccesToken: ghp_SECRETVALUE1234567890abcdef\n",
        says="  - pai-mlops [gitAccesToken]: is not a known key; got a value not shown here. Did you mean "
        "'gitAccessToken' (a secret: pulumi config set --secret gitAccessToken)? Known keys here: alarms,",
        exit_code=2,
    ),
]


def project(tmp_path: Path, attack: Attack) -> Path:
    """A copy of the project for ``attack.stack``: the program with the attack's tail, the stack file edited."""
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copy(ROOT / "Pulumi.staging.yaml", tmp_path / "Pulumi.staging.yaml")  # prod promotes from it
    stack_file = (ROOT / f"Pulumi.{attack.stack}.yaml").read_text()
    edited = attack.edit(stack_file) if attack.edit else stack_file
    assert attack.edit is None or edited != stack_file, "the edit must change the stack file"
    (tmp_path / f"Pulumi.{attack.stack}.yaml").write_text(edited)
    tail = HEAD + attack.tail if attack.tail else ""
    (tmp_path / "__main__.py").write_text((ROOT / "__main__.py").read_text() + tail)
    return tmp_path


def run(tmp_path: Path, attack: Attack, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str, Path]:
    root = project(tmp_path, attack)
    out = tmp_path / "plan.json"
    code = plan.main(["--stack", attack.stack, "--root", str(root), "--out", str(out)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err, out


def test_there_are_at_least_50_attacks_in_every_class() -> None:
    everything = ATTACKS + CONFIG_ATTACKS
    assert len(everything) >= 50
    assert len({a.id for a in everything}) == len(everything)
    assert {a.klass for a in everything} == {"exposure", "ram", "siblings", "secrets"}


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.id for a in ATTACKS])
def test_the_policy_pack_blocks(attack: Attack, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, printed, _, out = run(tmp_path, attack, capsys)
    document = json.loads(out.read_text())
    mandatory = [v for v in document["policy"]["violations"] if v["level"] == "mandatory"]
    assert (code, document["exitCode"]) == (attack.exit_code, attack.exit_code)
    assert sorted((v["policy"], v["urn"].rsplit("::", 1)[-1]) for v in mandatory) == sorted(attack.blocked)
    assert any(attack.says in v["message"] for v in mandatory), [v["message"] for v in mandatory]
    assert printed.splitlines()[-2] == f"Policy result: {len(attack.blocked)} mandatory violation(s): blocked"


@pytest.mark.parametrize("attack", CONFIG_ATTACKS, ids=[a.id for a in CONFIG_ATTACKS])
def test_the_program_or_its_config_refuses(attack: Attack, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, printed, err, out = run(tmp_path, attack, capsys)
    assert (code, printed, out.exists()) == (2, "", False)
    assert any(line.startswith(attack.says) for line in err.splitlines()), err
    assert "SECRETVALUE" not in err and "ghp_SECRET" not in err, "a refused secret must never be echoed"


def test_a_training_run_named_like_a_served_version_cannot_overwrite_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The attempt passes the gate (a run name is config), but the DLC role's own document denies the served prefix.
    attack = Attack("retrain-over-v7", "least-privilege", edit=lambda y: y.replace("run: r20261124", "run: v7"))
    code, _, _, out = run(tmp_path, attack, capsys)
    assert code == 0
    [dlc] = [
        r for r in json.loads(out.read_text())["resources"] if r["name"] == "roles-dlc-oss" and r["type"] == RAM_POLICY
    ]
    statements = json.loads(dlc["inputs"]["policyDocument"])["Statement"]
    writes = next(s for s in statements if s["Effect"] == "Allow" and "oss:PutObject" in s["Action"])
    # dev's retraining pipeline trains fraud_scorer, so its runs (ids made at run time) may write the model's
    # prefix; the Deny below still keeps every served version, v7 included, from being overwritten.
    assert writes["Resource"] == [
        "acs:oss:*:*:acme-pai-mlops-dev/models/fraud_scorer/*",
        "acs:oss:*:*:acme-pai-mlops-dev/checkpoints/fraud_scorer/*",
    ]
    assert statements[-1] == {
        "Effect": "Deny",
        "Action": ["oss:PutObject", "oss:DeleteObject"],
        "Resource": [
            "acs:oss:*:*:acme-pai-mlops-dev/models/fraud_scorer/v6/*",
            "acs:oss:*:*:acme-pai-mlops-dev/models/fraud_scorer/v7/*",
            "acs:oss:*:*:acme-pai-mlops-dev/models/image_tagger/v3/*",
        ],
    }


def test_secrets_set_the_right_way_pass_the_gate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The control for the secret rows above: the same keys with `--secret` (`secure:` in the stack file) plan clean,
    # and the token reaches the code source marked secret (what secrets-not-plaintext relies on).
    secure = "  pai-mlops:gitAccessToken:\n    secure: v1:AAAA\n  pai-mlops:servingToken:\n    secure: v1:BBBB\n"
    attack = Attack("secure-tokens", "secrets", edit=lambda y: y + secure)
    code, printed, _, out = run(tmp_path, attack, capsys)
    assert (code, printed.splitlines()[-2]) == (0, "Policy result: no mandatory violation: passes")
    [source] = [r for r in json.loads(out.read_text())["resources"] if r["type"].endswith(":WorkspaceCodeSource")]
    assert source["inputs"]["codeRepoAccessToken"] == "[secret]"
