"""What every rule needs: type tokens, the environment a resource belongs to, configured settings,
and reading properties that may be unknown during ``pulumi preview``.

Rules see resources only as a type token and a property map (the policy pack runs in its own
process and imports nothing of the program). Properties arrive with their wire names: camelCase for
pulumi-alicloud resources, the plain snake_case input names for this project's dynamic resources.

Unknown values: during a preview, a property computed from another resource's output is unknown.
Reading it through ``args.props`` raises ``UnknownValueError``; the pack turns that into an
*advisory* diagnostic "can't run policy … during preview: <type> value at .<path> can't be known
during preview", and the rule runs again with the real value during ``pulumi up``. Rules let that
happen on purpose (the message names the property), except where only the *presence* of a value
matters: :func:`is_set` counts an unknown value as set.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, TypeGuard

from pulumi_policy import (
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY
from pulumi_policy.proxy import UnknownValueError

# pulumi-alicloud 4.x resource types the rules look at.
EAS_SERVICE: Final = "alicloud:pai/service:Service"
OSS_BUCKET: Final = "alicloud:oss/bucket:Bucket"
OSS_BUCKET_ACL: Final = "alicloud:oss/bucketAcl:BucketAcl"
OSS_BUCKET_SSE: Final = "alicloud:oss/bucketServerSideEncryption:BucketServerSideEncryption"
OSS_BUCKET_VERSIONING: Final = "alicloud:oss/bucketVersioning:BucketVersioning"
OSS_BUCKET_LOGGING: Final = "alicloud:oss/bucketLogging:BucketLogging"
KMS_KEY: Final = "alicloud:kms/key:Key"
RAM_ROLE: Final = "alicloud:ram/role:Role"
RAM_POLICY: Final = "alicloud:ram/policy:Policy"
CODE_SOURCE: Final = "alicloud:pai/workspaceCodeSource:WorkspaceCodeSource"
# Every door to public exposure and every RAM type (tokens from the generated pulumi-alicloud 4.0.0 SDK, e.g.
# pulumi_alicloud/oss/bucket_policy.py `super().__init__('alicloud:oss/bucketPolicy:BucketPolicy', …)`).
OSS_BUCKET_POLICY: Final = "alicloud:oss/bucketPolicy:BucketPolicy"
OSS_BUCKET_PUBLIC_ACCESS_BLOCK: Final = "alicloud:oss/bucketPublicAccessBlock:BucketPublicAccessBlock"
OSS_ACCOUNT_PUBLIC_ACCESS_BLOCK: Final = "alicloud:oss/accountPublicAccessBlock:AccountPublicAccessBlock"
OSS_BUCKET_OBJECT: Final = "alicloud:oss/bucketObject:BucketObject"
OSS_ACCESS_POINT: Final = "alicloud:oss/accessPoint:AccessPoint"
CR_REPO: Final = "alicloud:cr/repo:Repo"
CR_CHART_REPOSITORY: Final = "alicloud:cr/chartRepository:ChartRepository"
CR_EE_REPO: Final = "alicloud:cs/registryEnterpriseRepo:RegistryEnterpriseRepo"
FC_TRIGGER: Final = "alicloud:fc/v3Trigger:V3Trigger"
FC2_TRIGGER: Final = "alicloud:fc/trigger:Trigger"
FC2_FUNCTION: Final = "alicloud:fc/function:Function"
KMS_SECRET: Final = "alicloud:kms/secret:Secret"
RAM_USER: Final = "alicloud:ram/user:User"
RAM_ACCESS_KEY: Final = "alicloud:ram/accessKey:AccessKey"
RAM_LOGIN_PROFILE: Final = "alicloud:ram/loginProfile:LoginProfile"
RAM_ROLE_ATTACHMENT: Final = "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment"
RAM_USER_ATTACHMENT: Final = "alicloud:ram/userPolicyAttachment:UserPolicyAttachment"
RAM_GROUP_ATTACHMENT: Final = "alicloud:ram/groupPolicyAttachment:GroupPolicyAttachment"
RM_POLICY: Final = "alicloud:resourcemanager/policy:Policy"
RM_POLICY_VERSION: Final = "alicloud:resourcemanager/policyVersion:PolicyVersion"
RM_ROLE: Final = "alicloud:resourcemanager/role:Role"
RM_ATTACHMENT: Final = "alicloud:resourcemanager/policyAttachment:PolicyAttachment"

# This project's dynamic resources (pulumi.dynamic.Resource with module "pai"); their inputs are
# the contract between the providers and these rules.
EAS_AUTOSCALER: Final = "pulumi-python:dynamic/pai:EasAutoscaler"
TRAFFIC_SHIFT: Final = "pulumi-python:dynamic/pai:TrafficShift"
# The EAS service as pai-mlops creates it (providers/eas_service.py, input ``service_config``); the rules that read
# a service config apply to it and to a pai.Service alike.
EAS_DYNAMIC_SERVICE: Final = "pulumi-python:dynamic/pai:EasService"
EAS_SERVICES: Final = (EAS_SERVICE, EAS_DYNAMIC_SERVICE)
SERVICE_ENDPOINT: Final = "pulumi-python:dynamic/pai:ServiceEndpoint"
TRAINING_JOB: Final = "pulumi-python:dynamic/pai:TrainingJob"
DSW_INSTANCE: Final = "pulumi-python:dynamic/pai:DswInstance"
FC_FUNCTION: Final = "alicloud:fc/v3Function:V3Function"
CMS_ALARM: Final = "alicloud:cms/alarm:Alarm"

ENVIRONMENT_TAG: Final = "environment"

Validate = Callable[[ResourceValidationArgs, ReportViolation], None]
StackValidate = Callable[[StackValidationArgs, ReportViolation], None]


def stack_of(urn: str) -> str:
    """The stack name in a URN (``urn:pulumi:<stack>::<project>::<type>::<name>``)."""
    return urn.removeprefix("urn:pulumi:").split("::", 1)[0]


def peek(props: Mapping[str, Any], key: str, unknown: Any = None) -> Any:
    """``props.get(key)``, or ``unknown`` when the value is unknown until ``pulumi up``.

    For the few places where an unknown value has a safe meaning; everywhere else a rule reads the
    property directly and lets the pack report the check as deferred.
    """
    try:
        return props.get(key)
    except UnknownValueError:
        return unknown


def environment_of(urn: str, props: Mapping[str, Any]) -> str:
    """The ``environment`` tag when the resource carries a known one, otherwise the stack name."""
    tags = peek(props, "tags")
    environment = peek(tags, ENVIRONMENT_TAG) if isinstance(tags, Mapping) else None
    return environment if isinstance(environment, str) and environment else stack_of(urn)


_UNKNOWN_IS_SET: Final = object()


def is_set(props: Mapping[str, Any], key: str) -> bool:
    """Whether ``key`` holds a non-empty value; a value unknown until ``pulumi up`` counts as set."""
    value = peek(props, key, unknown=_UNKNOWN_IS_SET)
    return value is _UNKNOWN_IS_SET or value not in (None, "", [], {})


def short_type(resource_type: str) -> str:
    """``alicloud:oss/bucket:Bucket`` → ``Bucket``, for messages."""
    return resource_type.rsplit(":", 1)[-1]


class Settings:
    """A policy's configurable settings: a JSON schema with a default for every property.

    The CLI fills defaults in from the schema before it configures the pack; rules called any other
    way (tests, a pack started without config) get the same defaults from :meth:`get`.
    """

    def __init__(self, **properties: Mapping[str, Any]) -> None:
        missing = [name for name, schema in properties.items() if "default" not in schema]
        if missing:
            raise ValueError(f"settings without a default: {', '.join(missing)}")
        self.properties = {name: dict(schema) for name, schema in properties.items()}

    def schema(self) -> PolicyConfigSchema:
        return PolicyConfigSchema(properties=self.properties)

    def get(self, args: ResourceValidationArgs | StackValidationArgs, name: str) -> Any:
        configured = args.get_config() or {}
        return configured[name] if name in configured else self.properties[name]["default"]


ENVIRONMENTS_SCHEMA: Final = {
    "type": "array",
    "items": {"type": "string", "minLength": 1},
    "description": "Environments (the environment tag, else the stack name) the policy applies to.",
}


def positive_number(default: float, description: str, **bounds: float) -> dict[str, Any]:
    """The schema of a numeric setting above zero (minutes, seconds, percent)."""
    return {"type": "number", "exclusiveMinimum": 0, **bounds, "default": default, "description": description}


def names_setting(default: Sequence[str], description: str) -> dict[str, Any]:
    """The schema of a setting that is a list of names (actions, types, policies)."""
    return {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "default": list(default),
        "description": description,
    }


def names_by_key_setting(default: Mapping[str, Sequence[str]], description: str) -> dict[str, Any]:
    """The schema of a setting that maps a name (a policy, a role pattern) to a list of names."""
    names = {"type": "array", "items": {"type": "string", "minLength": 1}}
    return {
        "type": "object",
        "additionalProperties": names,
        "default": {k: list(v) for k, v in default.items()},
        "description": description,
    }


def environments_setting(*default: str) -> dict[str, Any]:
    return {**ENVIRONMENTS_SCHEMA, "default": list(default)}


def only_in_environments(args: ResourceValidationArgs, settings: Settings) -> str:
    """The resource's environment; marks the policy not applicable outside the configured ones."""
    environment = environment_of(args.urn, args.props)
    wanted: Sequence[str] = settings.get(args, "environments")
    if environment not in wanted:
        args.not_applicable(f"environment '{environment}' is not one of {', '.join(wanted)}")
    return environment


class MalformedDocument(ValueError):
    """A JSON property that does not parse, or parses to something other than an object."""


def json_object(text: Any, what: str) -> dict[str, Any]:
    """Parse a JSON-object property (EAS service config, RAM policy document)."""
    if not isinstance(text, str):
        raise MalformedDocument(f"{what} is not a JSON string")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise MalformedDocument(f"{what} is not valid JSON ({error.msg} at character {error.pos})") from error
    if not isinstance(document, dict):
        raise MalformedDocument(f"{what} is not a JSON object")
    return document


def is_list(value: Any) -> TypeGuard[Sequence[Any]]:
    """A list property; rules see lists as read-only sequences (pulumi-policy's proxies), never ``list``."""
    return isinstance(value, Sequence) and not isinstance(value, str)


def as_list(value: Any) -> list[Any]:
    """RAM documents allow a single value where a list is meant (``"Action": "oss:GetObject"``)."""
    if value is None:
        return []
    if isinstance(value, str | Mapping):
        return [value]
    return list(value)


SECRET_NAME: Final = re.compile(
    r"(TOKEN|SECRET|PASSWORD|PASSWD|ACCESS_?KEY|API_?KEY|PRIVATE_?KEY|CREDENTIAL|(^|_)PAT($|_)|(^|_)AUTH($|_))",
    re.IGNORECASE,
)
# Values that are credentials whatever the variable is called: GitHub tokens (ghp_/gho_/ghu_/ghs_/ghr_,
# github_pat_), GitLab (glpat-), Alibaba Cloud AccessKey IDs (LTAI…), AWS key IDs, Slack tokens, PEM private keys.
SECRET_VALUE: Final = re.compile(
    r"(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,}|glpat-[\w-]{20,}|LTAI[A-Za-z0-9]{12,}|AKIA[A-Z0-9]{16}"
    r"|xox[abprs]-[\w-]{10,}|-----BEGIN [A-Z ]*PRIVATE KEY-----)"
)


def number(value: Any) -> float | None:
    """A JSON number as float; None for anything else (booleans included)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def render(value: Any) -> str:
    """A property value for a message: numbers as config shows them, lists bracketed, None as "not set"."""
    if value is None:
        return "not set"
    count = number(value)
    if count is not None:
        return show(count)
    if is_list(value):
        return "[" + ", ".join(render(item) for item in value) + "]"
    return repr(value)


def show(value: float) -> str:
    """A number as config shows it: ``300`` rather than ``300.0`` (the wire turns ints into floats)."""
    return str(int(value)) if value == int(value) else str(value)


# --- which inputs arrived as secrets --------------------------------------------------------------------------------


class SecretStr(str):
    """A string input the engine sent as a secret.

    The CLI sends analyzers every property with its secret marker (``MarshalOptions{KeepSecrets: true}`` in
    sdk/go/common/resource/plugin/analyzer_plugin.go, ``Analyze``), and so does the offline plan; pulumi-policy's
    servicer (1.21.0, ``_PolicyAnalyzerServicer.Analyze``) then unwraps it. :func:`install_secret_marks` keeps the
    fact: a secret string reaches the rules as this subclass, equal to the plain string everywhere else.
    """


def mark_secrets(value: Any) -> Any:
    """A wire property map with each secret string replaced by a :class:`SecretStr` (other secrets left wrapped)."""
    if isinstance(value, dict):
        if value.get(SPECIAL_SIG_KEY) == SPECIAL_SECRET_SIG and isinstance(value.get("value"), str):
            return SecretStr(value["value"])
        return {key: mark_secrets(item) for key, item in value.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list):
        return [mark_secrets(item) for item in value]  # pyright: ignore[reportUnknownVariableType]
    return value


def install_secret_marks() -> None:
    """Make the pack's servicer deserialize with :func:`mark_secrets` first (call before building the PolicyPack).

    pulumi-policy looks ``deserialize_properties`` up in its ``policy`` module at every request (1.21.0, pinned in
    requirements.txt); tests/policies/test_pack.py proves through the gRPC protocol that secrets still arrive marked.
    """
    import pulumi_policy.policy as servicer

    original: Callable[[dict[str, Any], bool], dict[str, Any]] = getattr(servicer, "deserialize_properties")  # noqa: B009

    def deserialize(props: dict[str, Any], proxy_secrets: bool = False) -> dict[str, Any]:
        return original(mark_secrets(props), proxy_secrets)

    setattr(servicer, "deserialize_properties", deserialize)  # noqa: B010 -- a module attribute, not a typo


# Input names that hold a credential, in the wire (camelCase) or snake_case spelling; names that only mention one
# (a secret's name, a key's id or ARN, a token's type) do not.
SECRET_INPUT: Final = re.compile(r"(token|secret|password|passwd|access_?key|private_?key|credential)", re.IGNORECASE)
NOT_A_VALUE: Final = re.compile(r"(id|ids|arn|name|type|types|version|stages|interval|file|days|enabled)$", re.I)


def plain_credentials(props: Mapping[str, Any]) -> list[str]:
    """Credential-named inputs holding a known, non-empty string that did not arrive as a secret."""
    found: list[str] = []
    for name in props:
        if not SECRET_INPUT.search(name) or NOT_A_VALUE.search(name):
            continue
        value = peek(props, name)
        if isinstance(value, str) and value and not isinstance(value, SecretStr):
            found.append(name)
    return sorted(found)
