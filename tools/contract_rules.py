"""The rules of the offline contract (``tools/contract.py``): the enums, ranges and patterns the alicloud provider
validates on an input, and the API constraints behind them, each with its source beside it.

A rule judges one input of one resource type; :func:`fc_cpu_problem` judges two inputs together (FC's cpu/memory
ratio). Adding a rule means one ``Rule`` here and one accepted/refused case in tests/tools/test_contract_rules.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from pulumi.runtime.rpc import UNKNOWN

Check = Callable[[Any], bool]


@dataclass(frozen=True)
class Rule:
    """One constraint on one input: ``check(value)`` is True when the value is acceptable."""

    type: str
    input: str
    rule: str  # what is required, as the message states it
    check: Check
    source: str


def one_of(*allowed: Any) -> Check:
    return lambda value: value in allowed


def between(low: float, high: float) -> Check:
    return lambda value: isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high


def matches(pattern: str) -> Check:
    compiled = re.compile(pattern)
    return lambda value: isinstance(value, str) and compiled.fullmatch(value) is not None


def json_list(value: Any) -> bool:
    try:
        return isinstance(json.loads(value), list)
    except (TypeError, ValueError):
        return False


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


FC_CPU_SOURCE: Final = "FC 3.0 CreateFunctionInput (api-fc-2023-03-30-struct-createfunctioninput); fidelity-audit F7"


def fc_cpu_problem(properties: Mapping[str, Any]) -> str | None:
    """FC 3.0: cpu is a multiple of 0.05 vCPU and cpu:memory(GB) lies between 1:1 and 1:4.

    Source: CreateFunctionInput (https://alibabacloud.com/help/en/functioncompute/api-fc-2023-03-30-struct-
    createfunctioninput) and pulumi-alicloud 4.0.0 ``fc.V3FunctionArgs`` (cpu, memory_size). The server's default cpu
    is undocumented (fidelity-audit F7), so a missing cpu is a violation: at 128 MB only 0.05 or 0.1 are valid.
    """
    cpu, memory = properties.get("cpu"), _number(properties.get("memorySize"))
    if cpu == UNKNOWN or memory is None:
        return None
    allowed = f"cpu between {memory / 4096:g} and {memory / 1024:g} vCPU, a multiple of 0.05"
    value = _number(cpu)
    if value is None:
        return f"needs cpu (the server default is undocumented): {allowed} for memorySize {memory:g} MB"
    multiple = abs(value / 0.05 - round(value / 0.05)) < 1e-9
    if not multiple or not memory / 4096 - 1e-9 <= value <= memory / 1024 + 1e-9:
        return f"must be {allowed} for memorySize {memory:g} MB"
    return None


_ARGS_DOC: Final = "pulumi-alicloud 4.0.0 {} docstring"
_SEMVER: Final = r"\d+\.\d+\.\d[0-9A-Za-z_]*"
_OSS_WITH_ENDPOINT: Final = r"oss://[a-z0-9][a-z0-9-]{1,61}[a-z0-9]\.oss-[a-z0-9-]+(\.aliyuncs\.com)?/.*"

RULES: Final[tuple[Rule, ...]] = (
    # OSS
    Rule(
        "alicloud:oss/bucket:Bucket",
        "bucket",
        "3-63 lower-case letters, digits and '-', starting and ending with a letter or digit",
        matches(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]"),
        "OSS bucket naming rules (https://www.alibabacloud.com/help/en/oss/user-guide/bucket-naming-conventions)",
    ),
    Rule(
        "alicloud:oss/bucket:Bucket",
        "storageClass",
        "one of Standard, IA, Archive, ColdArchive, DeepColdArchive",
        one_of("Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive"),
        _ARGS_DOC.format("oss.BucketArgs.storage_class"),
    ),
    Rule(
        "alicloud:oss/bucket:Bucket",
        "redundancyType",
        "one of LRS, ZRS",
        one_of("LRS", "ZRS"),
        _ARGS_DOC.format("oss.BucketArgs.redundancy_type"),
    ),
    Rule(
        "alicloud:oss/bucketAcl:BucketAcl",
        "acl",
        "one of private, public-read, public-read-write",
        one_of("private", "public-read", "public-read-write"),
        _ARGS_DOC.format("oss.BucketAclArgs.acl"),
    ),
    Rule(
        "alicloud:oss/bucketServerSideEncryption:BucketServerSideEncryption",
        "sseAlgorithm",
        "one of KMS, AES256",
        one_of("KMS", "AES256"),
        _ARGS_DOC.format("oss.BucketServerSideEncryptionArgs.sse_algorithm"),
    ),
    Rule(
        "alicloud:oss/bucketVersioning:BucketVersioning",
        "status",
        "one of Enabled, Suspended",
        one_of("Enabled", "Suspended"),
        _ARGS_DOC.format("oss.BucketVersioningArgs.status"),
    ),
    # KMS
    Rule(
        "alicloud:kms/key:Key",
        "keyUsage",
        "one of ENCRYPT/DECRYPT, SIGN/VERIFY",
        one_of("ENCRYPT/DECRYPT", "SIGN/VERIFY"),
        _ARGS_DOC.format("kms.KeyArgs.key_usage"),
    ),
    Rule(
        "alicloud:kms/key:Key",
        "pendingWindowInDays",
        "7 to 366 days",
        between(7, 366),
        _ARGS_DOC.format("kms.KeyArgs.pending_window_in_days"),
    ),
    Rule(
        "alicloud:kms/key:Key",
        "automaticRotation",
        "one of Enabled, Disabled",
        one_of("Enabled", "Disabled"),
        _ARGS_DOC.format("kms.KeyArgs.automatic_rotation"),
    ),
    Rule(
        "alicloud:kms/key:Key",
        "rotationInterval",
        "a number with unit d, h, m or s, e.g. 365d",
        matches(r"\d+[dhms]"),
        _ARGS_DOC.format("kms.KeyArgs.rotation_interval"),
    ),
    # RAM
    Rule(
        "alicloud:ram/role:Role",
        "roleName",
        "1-64 letters, digits, '.' and '-'",
        matches(r"[A-Za-z0-9.-]{1,64}"),
        "RAM CreateRole RoleName (https://www.alibabacloud.com/help/en/ram/developer-reference/api-ram-2015-05-01-createrole)",
    ),
    Rule(
        "alicloud:ram/role:Role",
        "maxSessionDuration",
        "3600 to 43200 seconds",
        between(3600, 43200),
        _ARGS_DOC.format("ram.RoleArgs.max_session_duration"),
    ),
    Rule(
        "alicloud:ram/policy:Policy",
        "policyName",
        "1-128 letters, digits and '-'",
        matches(r"[A-Za-z0-9-]{1,128}"),
        _ARGS_DOC.format("ram.PolicyArgs.policy_name"),
    ),
    Rule(
        "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment",
        "policyType",
        "one of System, Custom",
        one_of("System", "Custom"),
        _ARGS_DOC.format("ram.RolePolicyAttachmentArgs.policy_type"),
    ),
    # PAI workspace and model registry
    Rule(
        "alicloud:pai/workspaceWorkspace:WorkspaceWorkspace",
        "workspaceName",
        "3-23 letters, digits and '_', starting with a letter",
        matches(r"[A-Za-z][A-Za-z0-9_]{2,22}"),
        _ARGS_DOC.format("pai.WorkspaceWorkspaceArgs.workspace_name"),
    ),
    Rule(
        "alicloud:pai/workspaceModel:WorkspaceModel",
        "accessibility",
        "one of PRIVATE, PUBLIC",
        one_of("PRIVATE", "PUBLIC"),
        _ARGS_DOC.format("pai.WorkspaceModelArgs.accessibility"),
    ),
    Rule(
        "alicloud:pai/workspaceModelVersion:WorkspaceModelVersion",
        "versionName",
        "a semantic version major.minor.patch (e.g. 1.1.0, 2.3.4_beta)",
        matches(_SEMVER),
        "alibabacloud_aiworkspace20210204 8.3.5 CreateModelVersionRequest.version_name",
    ),
    Rule(
        "alicloud:pai/workspaceModelVersion:WorkspaceModelVersion",
        "uri",
        "oss://<bucket>.<endpoint>/<path> (e.g. oss://mybucket.oss-cn-beijing.aliyuncs.com/mypath/) or an http(s) URL",
        lambda value: matches(_OSS_WITH_ENDPOINT)(value) or matches(r"https?://\S+")(value),
        "alibabacloud_aiworkspace20210204 8.3.5 CreateModelVersionRequest.uri",
    ),
    Rule(
        "alicloud:pai/workspaceDataset:WorkspaceDataset",
        "uri",
        "oss://<bucket>.<endpoint>/<path> for an OSS dataset",
        lambda value: not str(value).startswith("oss://") or matches(_OSS_WITH_ENDPOINT)(value),
        _ARGS_DOC.format("pai.WorkspaceDatasetArgs.uri"),
    ),
    Rule(
        "alicloud:pai/workspaceDataset:WorkspaceDataset",
        "property",
        "one of FILE, DIRECTORY",
        one_of("FILE", "DIRECTORY"),
        _ARGS_DOC.format("pai.WorkspaceDatasetArgs.property"),
    ),
    Rule(
        "alicloud:pai/service:Service",
        "serviceConfig",
        "a JSON object whose metadata.name is lower-case letters, digits and '_', starting with a letter",
        lambda value: matches(r"[a-z][a-z0-9_]{0,63}")(_eas_name(value)),
        "pai-python-sdk pai/model/_model.py _generate_service_name (fidelity-audit E5)",
    ),
    # Function Compute 3.0
    Rule(
        "alicloud:fc/v3Function:V3Function",
        "memorySize",
        "a multiple of 64 MB from 128 MB to 32 GB",
        lambda value: between(128, 32768)(value) and value % 64 == 0,
        _ARGS_DOC.format("fc.V3FunctionArgs.memory_size"),
    ),
    Rule(
        "alicloud:fc/v3Trigger:V3Trigger",
        "triggerType",
        "one of oss, log, http, timer, tablestore, cdn_events, mns_topic, eventbridge",
        one_of("oss", "log", "http", "timer", "tablestore", "cdn_events", "mns_topic", "eventbridge"),
        _ARGS_DOC.format("fc.V3TriggerArgs.trigger_type"),
    ),
    # CloudMonitor
    Rule(
        "alicloud:cms/alarm:Alarm",
        "silenceTime",
        "300 to 86400 seconds",
        between(300, 86400),
        _ARGS_DOC.format("cms.AlarmArgs.silence_time"),
    ),
    Rule(
        "alicloud:cms/alarm:Alarm",
        "metricDimensions",
        "a JSON list of dimension maps",
        json_list,
        "terraform-provider-alicloud resource_alicloud_cms_alarm.go metric_dimensions (fidelity-audit §2.1)",
    ),
    # Container Registry
    Rule(
        "alicloud:cs/registryEnterpriseNamespace:RegistryEnterpriseNamespace",
        "name",
        "2-120 lower-case letters, digits, '_', '-' and '.', not starting or ending with a delimiter",
        matches(r"[a-z0-9][a-z0-9_.-]{0,118}[a-z0-9]"),
        _ARGS_DOC.format("cs.RegistryEnterpriseNamespaceArgs.name"),
    ),
    Rule(
        "alicloud:cs/registryEnterpriseRepo:RegistryEnterpriseRepo",
        "repoType",
        "one of PUBLIC, PRIVATE",
        one_of("PUBLIC", "PRIVATE"),
        _ARGS_DOC.format("cs.RegistryEnterpriseRepoArgs.repo_type"),
    ),
    Rule(
        "alicloud:cs/registryEnterpriseRepo:RegistryEnterpriseRepo",
        "summary",
        "1 to 100 characters",
        lambda value: isinstance(value, str) and 1 <= len(value) <= 100,
        "terraform-provider-alicloud resource_alicloud_cr_ee_repo.go summary (fidelity-audit §2.1)",
    ),
    Rule(
        "alicloud:cr/namespace:Namespace",
        "name",
        "2-30 lower-case letters, digits, '_' and '-'",
        matches(r"[a-z0-9][a-z0-9_-]{0,28}[a-z0-9]"),
        "terraform-provider-alicloud resource_alicloud_cr_namespace.go name (fidelity-audit §2.1)",
    ),
    Rule(
        "alicloud:cr/repo:Repo",
        "summary",
        "1 to 100 characters",
        lambda value: isinstance(value, str) and 1 <= len(value) <= 100,
        "terraform-provider-alicloud resource_alicloud_cr_repo.go summary (fidelity-audit §2.1)",
    ),
)


def _eas_name(config: Any) -> Any:
    try:
        parsed = json.loads(config)
    except (TypeError, ValueError):
        return None
    metadata = parsed.get("metadata") if isinstance(parsed, dict) else None
    return metadata.get("name") if isinstance(metadata, dict) else None
