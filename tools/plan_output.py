"""What an offline plan shows: the resource tree, the policy report, the CI job summary, the JSON plan and the exit
status the report earns. ``tools/plan.py`` runs the program and the pack and prints these.

Values are shown as ``pulumi preview`` shows them: secrets as a placeholder, outputs unknown at preview marked.
"""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any, Final

from pulumi.runtime.rpc import UNKNOWN
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY

from tools.mock_engine import SECRET_PLACEHOLDER, Registration
from tools.policy_gate import Diagnostic, PolicyReport

UNKNOWN_AT_PREVIEW: Final = "[unknown]"

EXIT_OK: Final = 0
EXIT_MANDATORY: Final = 1
EXIT_ERROR: Final = 2

# Inputs worth a glance in the tree, per resource type; everything else is in the JSON plan.
KEY_INPUTS: Final[Mapping[str, tuple[str, ...]]] = {
    "alicloud:kms/key:Key": ("automaticRotation", "rotationInterval"),
    "alicloud:oss/bucket:Bucket": ("bucket",),
    "alicloud:oss/bucketAcl:BucketAcl": ("acl",),
    "alicloud:oss/bucketPublicAccessBlock:BucketPublicAccessBlock": ("blockPublicAccess",),
    "alicloud:oss/bucketVersioning:BucketVersioning": ("status",),
    "alicloud:oss/bucketServerSideEncryption:BucketServerSideEncryption": ("sseAlgorithm",),
    "alicloud:oss/bucketLogging:BucketLogging": ("targetPrefix",),
    "alicloud:ram/role:Role": ("roleName",),
    "alicloud:ram/policy:Policy": ("policyName",),
    "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment": ("policyName",),
    "alicloud:resourcemanager/resourceGroup:ResourceGroup": ("resourceGroupName",),
    "alicloud:pai/workspaceWorkspace:WorkspaceWorkspace": ("workspaceName",),
    "alicloud:pai/workspaceCodeSource:WorkspaceCodeSource": ("codeCommit",),
    "pulumi-python:dynamic/pai:TrainingJob": ("job_type", "worker_count", "instance_type", "resources", "spot", "wait"),
    "pulumi-python:dynamic/pai:DswInstance": ("instance_type", "idle_shutdown_minutes"),
    "alicloud:pai/workspaceModelVersion:WorkspaceModelVersion": ("versionName", "uri"),
    "alicloud:fc/v3Function:V3Function": ("runtime", "memorySize", "cpu", "timeout"),
    "pulumi-python:dynamic/pai:EasAutoscaler": ("min_instances", "max_instances"),
    "pulumi-python:dynamic/pai:TrafficShift": ("live", "steps"),
    "pulumi-python:dynamic/pai:ServiceEndpoint": ("group",),
}


def display(value: Any) -> Any:
    """A wire value for people: secrets hidden, unknowns marked, whole numbers without ``.0``."""
    if isinstance(value, Mapping):
        if value.get(SPECIAL_SIG_KEY) == SPECIAL_SECRET_SIG:
            return SECRET_PLACEHOLDER
        return {str(k): display(v) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list):
        return [display(v) for v in value]  # pyright: ignore[reportUnknownVariableType]
    if value == UNKNOWN:
        return UNKNOWN_AT_PREVIEW
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _service_summary(properties: Mapping[str, Any]) -> str:
    config = json.loads(properties.get("service_config") or properties["serviceConfig"])
    metadata = config["metadata"]
    where = metadata.get("resource") or config.get("cloud", {}).get("computing", {}).get("instance_type")
    return f"name={metadata['name']} group={metadata['group']} instances={metadata['instance']} on={where}"


def _alarm_summary(properties: Mapping[str, Any]) -> str:
    rule = properties.get("escalationsCritical") or {}
    condition = f"{rule.get('statistics')} {rule.get('comparisonOperator')} {rule.get('threshold')}"
    periods = f"for {rule.get('times')} x {properties.get('period')} s"
    return f"{properties.get('project')}/{properties.get('metric')} {condition} {periods}"


def _trigger_summary(properties: Mapping[str, Any]) -> str:
    config = properties.get("triggerConfig")
    try:
        decoded = json.loads(config) if isinstance(config, str) else {}
    except json.JSONDecodeError:
        decoded = {}
    if properties.get("triggerType") == "timer":
        return f"timer cron={decoded.get('cronExpression')!r}"
    key = (decoded.get("filter") or {}).get("key") or {}
    return f"{properties.get('triggerType')} on {key.get('prefix', '')}*{key.get('suffix', '')}"


def key_inputs(registration: Registration) -> str:
    properties = display(registration.properties)
    if registration.type in ("alicloud:pai/service:Service", "pulumi-python:dynamic/pai:EasService"):
        return _service_summary(properties)
    if registration.type == "alicloud:cms/alarm:Alarm":
        return _alarm_summary(properties)
    if registration.type == "alicloud:fc/v3Trigger:V3Trigger":
        return _trigger_summary(properties)
    keys = KEY_INPUTS.get(registration.type, ())
    return " ".join(f"{k}={properties[k]}" for k in keys if k in properties)


def short_type(token: str) -> str:
    """``alicloud:oss/bucketAcl:BucketAcl`` → ``alicloud:oss:BucketAcl``: the module's file part repeats the class
    name (the JSON plan keeps full tokens). Component and dynamic tokens are short already and stay as they are."""
    package, _, rest = token.partition(":")
    module, _, name = rest.partition(":")
    if "/" in module and module.rsplit("/", 1)[1].lower() == name.lower():
        return f"{package}:{module.rsplit('/', 1)[0]}:{name}"
    return token


def plan_width() -> int:
    """The terminal's width (COLUMNS when set, as in CI logs), never narrower than 80 columns."""
    return max(80, shutil.get_terminal_size((100, 24)).columns)


def render_tree(stack_urn: str, registrations: Sequence[Registration], width: int = 100) -> list[str]:
    """Lines of the resource tree under the stack, a header first; siblings sorted by name.

    Each resource is one line, ``<tree> <type> <name>``; its key inputs follow on indented lines, wrapped to
    ``width`` (an input longer than a line is cut with ``…``; the JSON plan has every input in full).
    Registration order is not deterministic (registrations are asynchronous); sorted output is.
    """
    children: dict[str, list[Registration]] = {}
    for registration in sorted(registrations, key=lambda r: (r.name, r.type)):
        children.setdefault(registration.parent_urn, []).append(registration)
    lines = ["     Type  Name", f" +   pulumi:pulumi:Stack  {stack_urn.rsplit('::', 1)[-1]}"]

    def walk(parent: str, indent: str) -> None:
        kids = children.get(parent, [])
        for index, child in enumerate(kids):
            last = index == len(kids) - 1
            inner = indent + ("   " if last else "│  ")
            below = "│  " if child.urn in children else "   "
            prefix = f"     {inner}{below}   "
            line = f" +   {indent}{'└─ ' if last else '├─ '}{short_type(child.type)}  {child.name}"
            if len(line) <= width:
                lines.append(line)
            else:  # the name goes under its type rather than being cut
                lines.extend([_fit(line[: -len(child.name) - 2], width), _fit(f"{prefix}{child.name}", width)])
            details = key_inputs(child)
            if details:
                for line in textwrap.wrap(details, width=width - len(prefix), break_on_hyphens=False) or [""]:
                    lines.append(_fit(f"{prefix}{line}", width))
            walk(child.urn, inner)

    walk(stack_urn, "")
    return lines


def _fit(line: str, width: int) -> str:
    return line if len(line) <= width else f"{line[: width - 1]}…"


def _resource_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1] if urn else "(stack)"


def _diagnostic_json(diagnostic: Diagnostic) -> dict[str, str]:
    return {
        "policy": diagnostic.policy,
        "level": diagnostic.level,
        "urn": diagnostic.urn,
        "message": diagnostic.message,
    }


def exit_code(report: PolicyReport) -> int:
    return EXIT_MANDATORY if report.violations("mandatory") else EXIT_OK


def plan_document(
    stack: str, registrations: Sequence[Registration], report: PolicyReport | None = None
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "stack": stack,
        "resources": [
            {
                "type": r.type,
                "name": r.name,
                "urn": r.urn,
                "parent": r.parent_urn,
                "custom": r.custom,
                "inputs": display(r.properties),
                "protect": r.protect,
                "additionalSecretOutputs": list(r.additional_secret_outputs),
            }
            for r in sorted(registrations, key=lambda r: r.urn)
        ],
    }
    if report is not None:
        document["policy"] = {
            "pack": report.pack,
            "version": report.version,
            "configFile": report.config_file,
            "levels": dict(report.levels),
            "violations": [_diagnostic_json(d) for d in report.diagnostics if not d.deferred],
            "deferred": [_diagnostic_json(d) for d in report.deferred],
            "notApplicable": [{"policy": p, "urn": u, "reason": why} for p, u, why in report.not_applicable],
        }
        document["exitCode"] = exit_code(report)
    return document


def render_report(report: PolicyReport, resources: int, width: int = 100) -> list[str]:
    """The policy report: violations grouped by enforcement level, then checks deferred to ``pulumi up``."""
    config = f"config {report.config_file}" if report.config_file else "default levels (no config file)"
    counts = f"{len(report.levels)} policies · {resources} resources and the stack"
    lines = textwrap.wrap(f"Policy pack {report.pack} v{report.version} · {config} · {counts}", width=width)
    groups = [
        ("Mandatory violations (block the deployment)", report.violations("mandatory")),
        ("Advisory violations (reported, not blocking)", report.violations("advisory")),
        ("Deferred to `pulumi up`: the rule read a value unknown at preview", report.deferred),
    ]
    for title, found in groups:
        lines.append(f"\n{title}: {len(found)}")
        for d in sorted(found, key=lambda d: (d.policy, d.urn, d.message)):
            lines.append(f"  {d.policy} · {_resource_name(d.urn)}")
            lines += textwrap.wrap(d.message, width=width, initial_indent=" " * 6, subsequent_indent=" " * 6) or [""]
    mandatory = len(report.violations("mandatory"))
    verdict = f"{mandatory} mandatory violation(s): blocked" if mandatory else "no mandatory violation: passes"
    lines.append(f"\nPolicy result: {verdict}")
    return lines


def render_summary(
    stack: str, report: PolicyReport | None, error: str | None = None, contract: Sequence[str] = ()
) -> str:
    """The plan's result as Markdown for a CI job summary: the verdict, then every problem (not a tail of output)."""
    lines = [f"### Offline plan of `{stack}`", ""]
    if error is not None:
        fence = "`" * max([3, *(len(run) + 1 for run in re.findall(r"`+", error))])  # the message cannot close it
        lines += [f"**Bad input (exit {EXIT_ERROR}):** nothing was planned.", "", f"{fence}text", error, fence]
        return "\n".join(lines) + "\n"
    assert report is not None
    mandatory, advisory = report.violations("mandatory"), report.violations("advisory")
    if contract:
        lines.append(
            f"**Refused (exit {EXIT_ERROR}):** {len(contract)} input(s) the alicloud provider or API would refuse."
        )
        lines += ["", *(f"- {violation}" for violation in contract), ""]
    verdict = f"**Blocked (exit {EXIT_MANDATORY}):**" if mandatory else f"**Passes (exit {EXIT_OK}):**"
    if contract:
        verdict = "**Policy pack:**"
    lines.append(f"{verdict} {len(mandatory)} mandatory, {len(advisory)} advisory violation(s).")
    for title, found in (("Mandatory", mandatory), ("Advisory", advisory)):
        if found:
            lines += ["", f"| {title} policy | resource | message |", "|---|---|---|"]
            for d in sorted(found, key=lambda d: (d.policy, d.urn, d.message)):
                message = d.message.replace("|", "\\|").replace("\n", " ")
                lines.append(f"| `{d.policy}` | `{_resource_name(d.urn)}` | {message} |")
    return "\n".join(lines) + "\n"
