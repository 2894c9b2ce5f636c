"""RetrainingTrigger: starts runs of a retraining pipeline on a schedule and/or when new data lands.

PAI schedules pipelines only through DataWorks, and pulumi-alicloud 4.0.0 has no DataWorks workflow resource; so the
trigger is a small Function Compute function (``functions/start_pipeline.py``) behind FC's own triggers:

- a **timer** trigger for ``schedule`` (FC cron: six fields with seconds, in ``timezone`` through ``CRON_TZ``);
- an **OSS** trigger for ``dataMarker``: writing that object (e.g. ``data/transactions/_SUCCESS``, written last by
  the job that lands a batch) starts a run, so a batch of many files starts one run, not one per file.

The function runs as its own RAM role, allowed only to start and list PAI Flow runs; the OSS trigger invokes it
through a second role that OSS assumes, allowed only to invoke this function. Everything here is built from plain
config, so preview shows the schedule, the marker and both policies.

UNCONFIRMED (check on first use): the FC 3.0 ARN form ``acs:fc:<region>:<account>:functions/<name>`` in the
invocation policy, and that PAI Flow's actions take no resource-level scoping (the API reference lists "all
resources" for ``paiflow:CreatePipelineRun``).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import posixpath
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pulumi
from pulumi_alicloud import fc, log, ram

from components import drift_trigger as drift_hook
from components.drift_layer import drift_layer
from components.identity import attach_custom_policy
from components.ram_documents import POLICY_VERSION, kms_key_policy, trust_policy
from stack_config import DriftConfig, ModelServiceConfig, PipelineTriggerConfig, RetrainingConfig, trigger_names

HANDLER_SOURCE: Final = Path(__file__).resolve().parent.parent / "functions" / "start_pipeline.py"
RUNTIME: Final = "python3.12"
# Every way an object comes to exist; the marker is usually a PutObject of an empty file.
OBJECT_CREATED: Final = (
    "oss:ObjectCreated:PutObject",
    "oss:ObjectCreated:PostObject",
    "oss:ObjectCreated:CompleteMultipartUpload",
    "oss:ObjectCreated:CopyObject",
)
PIPELINE_ACTIONS: Final = ("paiflow:CreatePipelineRun", "paiflow:ListPipelineRuns")
# FC 3.0 sizes: memory a multiple of 64 MB from 128 MB; cpu a multiple of 0.05 vCPU with cpu : memory (GB) between
# 1:1 and 1:4 (https://alibabacloud.com/help/en/functioncompute/api-fc-2023-03-30-struct-createfunctioninput; the
# same rule in pulumi-alicloud 4.0.0 fc.V3Function's memory_size docstring). The server's default cpu is not
# documented, so it is set: 0.05 vCPU at 128 MB is 1:2.5.
MEMORY_MB: Final = 128
CPU: Final = 0.05
# Where the function's stdout goes (FC keeps no log without a log config). The logstore keeps a month; the function
# role writes to it (FC delivers a function's logs with the function's role: serverless-devs' FC `role` field, "send
# the logs the function produces to the user's logstore", https://docs.serverless-devs.com/fc/yaml/service).
LOG_RETENTION_DAYS: Final = 30
LOGSTORE: Final = "function-log"
LOG_PROJECT_MAX: Final = 63  # SLS project names: 3-63 lower-case letters, digits and hyphens, globally unique


def within_cpu_ratio(cpu: float, memory_mb: int) -> bool:
    """FC 3.0's documented sizing rule (see :data:`CPU`)."""
    gigabytes = memory_mb / 1024
    steps = round(cpu / 0.05, 6)
    return memory_mb >= 128 and memory_mb % 64 == 0 and steps == int(steps) and gigabytes / 4 <= cpu <= gigabytes


def log_project_name(function_name: str, account_id: str) -> str:
    """The SLS project of a trigger's logs: SLS project names are global, so the account id makes it unique."""
    name = f"{function_name}-{account_id}".lower()
    if len(name) <= LOG_PROJECT_MAX:
        return name
    digest = hashlib.sha256(function_name.encode()).hexdigest()[:8]
    head = function_name[: LOG_PROJECT_MAX - len(account_id) - len(digest) - 2].rstrip("-").lower()
    return f"{head}-{digest}-{account_id}"


def function_archive(source: Path = HANDLER_SOURCE, extra: Mapping[str, bytes] | None = None) -> str:
    """The handler as FC's ``index.py`` in a zip (and ``extra`` files beside it, e.g. the drift check's package),
    base64: byte-identical for the same sources, so no spurious diff."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in {"index.py": source.read_bytes(), **(extra or {})}.items():
            entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, data)
    return base64.b64encode(buffer.getvalue()).decode()


def timer_config(trigger: PipelineTriggerConfig) -> dict[str, Any]:
    """FC timer trigger config for ``schedule``; a zone other than UTC goes in front as ``CRON_TZ=``."""
    assert trigger.schedule is not None
    zoned = trigger.timezone != "UTC" and not trigger.schedule.startswith("@every")
    expression = f"CRON_TZ={trigger.timezone} {trigger.schedule}" if zoned else trigger.schedule
    return {"cronExpression": expression, "enable": True, "payload": ""}


def oss_config(marker: str) -> dict[str, Any]:
    """FC OSS trigger config that fires only for the marker object: its folder as prefix, its name as suffix."""
    folder, name = posixpath.split(marker)
    return {"events": list(OBJECT_CREATED), "filter": {"key": {"prefix": f"{folder}/", "suffix": name}}}


def start_policy(log_store_arn: str) -> dict[str, Any]:
    """Start and list pipeline runs (no resource-level scoping, see the module docstring); write its own logs."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {"Effect": "Allow", "Action": list(PIPELINE_ACTIONS), "Resource": ["*"]},
            {"Effect": "Allow", "Action": ["log:PostLogStoreLogs"], "Resource": [log_store_arn]},
        ],
    }


def invoke_policy(function_arn: str) -> dict[str, Any]:
    return {
        "Version": POLICY_VERSION,
        "Statement": [{"Effect": "Allow", "Action": ["fc:InvokeFunction"], "Resource": [function_arn]}],
    }


@dataclass(frozen=True, kw_only=True)
class RetrainingTriggerArgs:
    pipeline: RetrainingConfig
    pipeline_id: pulumi.Input[str]
    workspace_id: pulumi.Input[str]
    bucket_name: str
    region: str
    account_id: str
    name_prefix: str
    service: ModelServiceConfig | None = None  # the served model: its live version's profile, for drift
    kms_key_arn: pulumi.Input[str] | None = None  # the bucket's key, for drift's reads and reports


class RetrainingTrigger(pulumi.ComponentResource):
    """The start function, its role, and a timer and/or OSS trigger. Output: ``function_name``."""

    def __init__(self, name: str, args: RetrainingTriggerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pai-mlops:pipeline:RetrainingTrigger", name, None, opts)
        trigger = args.pipeline.trigger
        if trigger is None:
            raise ValueError(f"pipeline {args.pipeline.name} has no trigger configured")
        child = pulumi.ResourceOptions(parent=self)
        function_name, invoker_name = trigger_names(args.name_prefix, args.pipeline.name)
        project_name = log_project_name(function_name, args.account_id)
        self.log_project = log.Project(
            f"{name}-logs",
            project_name=project_name,
            description=f"pai-mlops: logs of the retraining trigger {function_name}",
            opts=child,
        )
        self.log_store = log.Store(
            f"{name}-logstore",
            project_name=self.log_project.project_name,
            logstore_name=LOGSTORE,
            retention_period=LOG_RETENTION_DAYS,
            shard_count=1,
            opts=child,
        )
        log_store_arn = f"acs:log:{args.region}:{args.account_id}:project/{project_name}/logstore/{LOGSTORE}"
        role = self._role(f"{name}-start", function_name, ("fc.aliyuncs.com",), start_policy(log_store_arn), child)
        drift = trigger.drift if trigger.drift is not None and trigger.drift.enabled else None
        settings: dict[str, pulumi.Input[str]] = {}
        layers: list[pulumi.Input[str]] | None = None
        self.layer: fc.V3LayerVersion | None = None  # the drift check's, when the stack builds it
        if drift is not None:  # the check runs in this function: its code, layer, size and OSS access
            settings = dict(drift_hook.drift_environment(drift, **self._drift_args(args)))
            self._drift_access(f"{name}-start-drift", function_name, drift, args, role, child)
            if drift.builds_layer:
                self.layer = drift_layer(
                    f"{name}-drift", function_name=function_name, bucket=args.bucket_name, child=child
                )
            layers = [self.layer.layer_version_arn if self.layer is not None else drift.layer]
        self.function = fc.V3Function(
            f"{name}-function",
            function_name=function_name,
            description=f"pai-mlops: starts runs of the retraining pipeline {args.pipeline.name}",
            runtime=RUNTIME,
            handler="index.handler",
            code=fc.V3FunctionCodeArgs(zip_file=function_archive(extra=drift_hook.drift_files() if drift else None)),
            role=role.arn,
            memory_size=drift_hook.MEMORY_MB if drift else MEMORY_MB,
            cpu=drift_hook.CPU if drift else CPU,
            timeout=drift_hook.TIMEOUT_SECONDS if drift else 60,
            layers=layers,
            log_config=fc.V3FunctionLogConfigArgs(
                project=self.log_project.project_name,
                logstore=self.log_store.logstore_name,
                enable_request_metrics=True,
            ),
            environment_variables={
                "PIPELINE_ID": args.pipeline_id,
                "PIPELINE_NAME": args.pipeline.name,
                "WORKSPACE_ID": args.workspace_id,
                "PAIFLOW_ENDPOINT": f"paiflow.{args.region}.aliyuncs.com",
                **settings,
            },
            opts=child,
        )
        if trigger.schedule is not None:
            fc.V3Trigger(
                f"{name}-schedule",
                function_name=self.function.function_name,
                qualifier="LATEST",
                trigger_name="schedule",
                trigger_type="timer",
                trigger_config=json.dumps(timer_config(trigger)),
                description=f"starts {args.pipeline.name} on '{trigger.schedule}' ({trigger.timezone})",
                opts=child,
            )
        if trigger.data_marker is not None:
            function_arn = f"acs:fc:{args.region}:{args.account_id}:functions/{function_name}"
            invoker = self._role(
                f"{name}-invoke", invoker_name, ("oss.aliyuncs.com",), invoke_policy(function_arn), child
            )
            fc.V3Trigger(
                f"{name}-data",
                function_name=self.function.function_name,
                qualifier="LATEST",
                trigger_name="data",
                trigger_type="oss",
                trigger_config=json.dumps(oss_config(trigger.data_marker)),
                source_arn=f"acs:oss:{args.region}:{args.account_id}:{args.bucket_name}",
                invocation_role=invoker.arn,
                description=f"starts {args.pipeline.name} when {trigger.data_marker} is written",
                opts=child,
            )
        self.function_name = self.function.function_name
        self.register_outputs({"function_name": self.function_name})

    @staticmethod
    def _drift_args(args: RetrainingTriggerArgs) -> dict[str, Any]:
        if args.service is None:
            raise ValueError(f"pipeline {args.pipeline.name} checks drift but its trigger was given no service")
        return {
            "service": args.service,
            "pipeline": args.pipeline.name,
            "bucket": args.bucket_name,
            "region": args.region,
        }

    def _drift_access(
        self,
        name: str,
        role_name: str,
        drift: DriftConfig,
        args: RetrainingTriggerArgs,
        role: ram.Role,
        child: pulumi.ResourceOptions,
    ) -> None:
        """The start role's drift policies: OSS access (known at preview), and the bucket's KMS key if it has one."""
        marker = args.pipeline.trigger.data_marker if args.pipeline.trigger else None
        if marker is None or args.service is None:
            raise ValueError(f"pipeline {args.pipeline.name} checks drift but has no dataMarker or service")
        oss = drift_hook.drift_policy(
            drift, service=args.service, pipeline=args.pipeline.name, marker=marker, bucket=args.bucket_name
        )
        documents: dict[str, pulumi.Input[str]] = {"": json.dumps(oss)}
        if args.kms_key_arn is not None:
            documents["-kms"] = pulumi.Output.from_input(args.kms_key_arn).apply(
                lambda key: json.dumps(kms_key_policy(key, encrypt=True))
            )
        for suffix, document in documents.items():
            attach_custom_policy(
                f"{name}{suffix}",
                role,
                policy_name=f"{role_name}-drift{suffix}",
                document=document,
                description=f"pai-mlops retraining trigger: {role_name}, drift check",
                opts=child,
            )

    def _role(
        self,
        name: str,
        role_name: str,
        services: tuple[str, ...],
        document: dict[str, Any],
        child: pulumi.ResourceOptions,
    ) -> ram.Role:
        role = ram.Role(
            name,
            role_name=role_name,
            assume_role_policy_document=json.dumps(trust_policy(services)),
            description=f"pai-mlops retraining trigger: {role_name}",
            max_session_duration=3600,
            opts=child,
        )
        attach_custom_policy(
            name,
            role,
            policy_name=role_name,
            document=json.dumps(document),
            description=f"pai-mlops retraining trigger: {role_name}",
            opts=child,
        )
        return role
