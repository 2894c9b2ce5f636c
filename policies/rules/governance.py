"""Across every resource: the attribution tags, and tokens that must never be stored in plain text.

How ``secrets-not-plaintext`` can tell: the engine sends secret inputs to the pack marked as
secrets, but pulumi-policy's Python servicer (1.21.0, ``_PolicyAnalyzerServicer.Analyze``) unwraps
them before a rule sees them, so a rule cannot ask whether an input *is* a secret. It checks the two
things that decide whether a token ends up readable in the stack state or a preview:

* each token property (per type, configurable) is listed in the resource's
  ``additional_secret_outputs``, which makes the engine encrypt it in state and mask it in output —
  needed because pulumi-alicloud 4.0.0 does not mark e.g. ``codeRepoAccessToken`` secret itself;
* no token sits where nothing masks it: an EAS ``serviceConfig`` ``token`` or container env entry,
  or a secret-named (or token-shaped) entry of a training job's or notebook's ``env``;
* no secret in a Function Compute function's ``environmentVariables`` at all, masked or not: FC returns them in
  clear to anyone allowed ``GetFunction`` (FC 3.0 API, ``GetFunction`` response ``environmentVariables``).

* no credential-named input (``token``, ``password``, ``secretKey``, …) holds a plain value: the pack keeps each
  input's secret marker (``common.SecretStr``), so a literal in the program or a non-secret config value is refused.

``dynamic-resource-types`` keeps dynamic resources to the reviewed providers: a dynamic provider runs arbitrary
Python with the deployment's credentials, so a new one is a code review, not a config change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .common import (
    CMS_ALARM,
    CODE_SOURCE,
    DSW_INSTANCE,
    EAS_DYNAMIC_SERVICE,
    EAS_SERVICE,
    EAS_SERVICES,
    FC2_FUNCTION,
    FC_FUNCTION,
    KMS_KEY,
    OSS_BUCKET,
    RAM_POLICY,
    RAM_ROLE,
    SECRET_NAME,
    SECRET_VALUE,
    SERVICE_ENDPOINT,
    TRAINING_JOB,
    MalformedDocument,
    Settings,
    as_list,
    names_setting,
    peek,
    plain_credentials,
    short_type,
)
from .eas import service_config, service_name

# --- required-tags ------------------------------------------------------------------------------

TAGS = Settings(
    requiredTags={
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "default": ["environment", "owner", "cost-center"],
        "description": "Tags every taggable resource carries, with a non-empty value.",
    },
    taggableTypes={
        "type": "array",
        "items": {"type": "string"},
        "default": sorted(
            [
                EAS_SERVICE,
                EAS_DYNAMIC_SERVICE,
                KMS_KEY,
                OSS_BUCKET,
                RAM_POLICY,
                RAM_ROLE,
                "alicloud:resourcemanager/resourceGroup:ResourceGroup",
                "alicloud:log/project:Project",
                TRAINING_JOB,
                DSW_INSTANCE,
                FC_FUNCTION,
                CMS_ALARM,
            ]
        ),
        "description": "Types that must carry tags; any other resource with a tags map is checked too.",
    },
)


def validate_tags(args: ResourceValidationArgs, report: ReportViolation) -> None:
    has_tags = "tags" in args.props
    if args.resource_type not in TAGS.get(args, "taggableTypes") and not has_tags:
        return
    tags = args.props.get("tags")
    present = tags if isinstance(tags, Mapping) else {}
    required: Sequence[str] = TAGS.get(args, "requiredTags")
    missing = [tag for tag in required if not present.get(tag)]
    if missing:
        report(
            f"{short_type(args.resource_type)} '{args.name}' lacks the tag(s) {', '.join(missing)}, so its cost and "
            f"owner cannot be attributed. pai-mlops sets {', '.join(required)} on every taggable resource from "
            f"pai-mlops:environment, pai-mlops:owner and pai-mlops:costCenter through the stack's tag transform; "
            f"add the type to that transform or set the tags on the resource.",
            None,
        )


required_tags = ResourceValidationPolicy(
    name="required-tags",
    description="Every taggable resource carries the environment, owner and cost-center tags.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_tags,
    config_schema=TAGS.schema(),
)

# --- secrets-not-plaintext ----------------------------------------------------------------------

SECRETS = Settings(
    secretProperties={
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
        "default": {
            CODE_SOURCE: ["codeRepoAccessToken"],
            SERVICE_ENDPOINT: ["access_token", "group_access_token", "token"],
        },
        "description": "Per resource type, the properties that hold tokens and must be in additional_secret_outputs.",
    }
)
ENV_INPUTS: Final = {TRAINING_JOB: "env", DSW_INSTANCE: "env"}
# Function Compute keeps environment variables in the function's configuration, readable in clear: never a secret.
FC_ENV_INPUTS: Final = {FC_FUNCTION: "environmentVariables", FC2_FUNCTION: "environmentVariables"}
_FIX_SECRET: Final = "Pass it as a secret (pulumi config set --secret, pulumi.Output.secret)"


def _secret_named(env: Any) -> list[str]:
    """Secret-looking names with a value in an env map or an EAS ``[{name, value}]`` env list."""
    if isinstance(env, Mapping):
        # A value unknown at preview (an Output) still counts for a secret-looking name; its text is checked at up.
        pairs = [(str(key), peek(env, key, unknown="[unknown]")) for key in env]
    else:
        pairs = [(str(item.get("name")), item.get("value")) for item in as_list(env) if isinstance(item, Mapping)]
    return sorted(
        name
        for name, value in pairs
        if value and (SECRET_NAME.search(name) or (isinstance(value, str) and SECRET_VALUE.search(value)))
    )


def _eas_plaintext(args: ResourceValidationArgs, report: ReportViolation, masked: Sequence[str]) -> None:
    if "serviceConfig" in masked or "service_config" in masked:
        return
    try:
        config = service_config(args.props)
    except MalformedDocument:
        return  # eas-prod-min-instances reports a broken serviceConfig
    name = service_name(config, args.name)
    if config.get("token"):
        report(
            f"EAS service '{name}' sets its access token in serviceConfig, which the stack state and previews show "
            f"in plain text. Leave token out (EAS generates one; the ServiceEndpoint resource exports it as a "
            f"secret), or list 'serviceConfig' in additional_secret_outputs.",
            None,
        )
    for container in as_list(config.get("containers")):
        names = _secret_named(container.get("env")) if isinstance(container, Mapping) else []
        if names:
            report(
                f"EAS service '{name}' puts {', '.join(names)} in a container env in plain text. Read them at run "
                f"time from a secret store (e.g. KMS Secrets Manager), or list 'serviceConfig' in "
                f"additional_secret_outputs.",
                None,
            )


def validate_secrets(args: ResourceValidationArgs, report: ReportViolation) -> None:
    masked = list(args.opts.additional_secret_outputs or [])
    kind = short_type(args.resource_type)
    literal = plain_credentials(args.props)
    if literal:
        report(
            f"{kind} '{args.name}' sets {', '.join(literal)} to a plain value, not a secret: it is stored in clear in "
            f"the stack state's inputs and shown in previews (additional_secret_outputs masks outputs only). Read it "
            f"from secret config (pulumi config set --secret <key>; pulumi.Config().require_secret('<key>')) or wrap "
            f"it in pulumi.Output.secret(...).",
            None,
        )
    token_properties: Mapping[str, Sequence[str]] = SECRETS.get(args, "secretProperties")
    for prop in token_properties.get(args.resource_type, []):
        if prop not in masked:
            report(
                f"{kind} '{args.name}' does not list '{prop}' in additional_secret_outputs, so the engine stores that "
                f"token in plain text in the stack state. {_FIX_SECRET} and add '{prop}' to the resource's "
                f"additional_secret_outputs.",
                None,
            )
    if args.resource_type in EAS_SERVICES:
        _eas_plaintext(args, report, masked)
    fc_env = FC_ENV_INPUTS.get(args.resource_type)
    if fc_env:
        names = _secret_named(args.props.get(fc_env))
        if names:
            report(
                f"FC function '{args.props.get('functionName') or args.name}' puts {', '.join(names)} in "
                f"{fc_env}, which Function Compute shows in clear to anyone allowed to read the function (masking "
                f"the output does not change that). Read the value at run time from KMS Secrets Manager with the "
                f"function's role, or use the role's STS credentials (context.credentials) instead of a key.",
                None,
            )
    env_input = ENV_INPUTS.get(args.resource_type)
    if env_input and env_input not in masked:
        names = _secret_named(args.props.get(env_input))
        if names:
            report(
                f"{kind} '{args.name}' sets {', '.join(names)} in {env_input} in plain text. {_FIX_SECRET} and "
                f"list '{env_input}' in additional_secret_outputs, or read the value at run time from a secret store.",
                None,
            )


secrets_not_plaintext = ResourceValidationPolicy(
    name="secrets-not-plaintext",
    description="Git access tokens, EAS tokens and other credentials reach resources only as secrets.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_secrets,
    config_schema=SECRETS.schema(),
)

# --- dynamic-resource-types ---------------------------------------------------------------------

DYNAMIC_PREFIXES: Final = ("pulumi-python:dynamic", "pulumi-nodejs:dynamic")
DYNAMIC = Settings(
    allowedTypes=names_setting(
        # The reviewed providers in providers/ (each class's docstring names the token it registers as).
        [
            "pulumi-python:dynamic/pai:ApiProbe",
            "pulumi-python:dynamic/pai:DswInstance",
            "pulumi-python:dynamic/pai:EasAutoscaler",
            "pulumi-python:dynamic/pai:EasService",
            "pulumi-python:dynamic/pai:MetricMetaCheck",
            "pulumi-python:dynamic/pai:ModelPromotion",
            "pulumi-python:dynamic/pai:ServiceEndpoint",
            "pulumi-python:dynamic/pai:TrafficShift",
            "pulumi-python:dynamic/pai:TrainingJob",
        ],
        "The dynamic resource types (reviewed providers in providers/) a stack may register.",
    )
)


def validate_dynamic(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not args.resource_type.startswith(DYNAMIC_PREFIXES):
        return
    allowed: Sequence[str] = DYNAMIC.get(args, "allowedTypes")
    if args.resource_type not in allowed:
        report(
            f"dynamic resource '{args.name}' has type {args.resource_type}, which is not one of the reviewed "
            f"providers ({', '.join(t.rsplit(':', 1)[-1] for t in allowed)}); a dynamic provider runs its own code "
            f"with the deployment's credentials. Use a reviewed provider, or add the new one to providers/ and to "
            f"this policy's allowedTypes in a reviewed change.",
            None,
        )


dynamic_resource_types = ResourceValidationPolicy(
    name="dynamic-resource-types",
    description="Dynamic resources come only from the reviewed providers (an allow-list of types).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_dynamic,
    config_schema=DYNAMIC.schema(),
)

POLICIES: Final = [required_tags, secrets_not_plaintext, dynamic_resource_types]
