"""The offline plan: the program for a stack under Pulumi's mock engine, gated by the policy pack.

    python -m tools.plan --stack dev [--policy-config FILE] [--out FILE] [--json]

Needs no cloud credentials and no Pulumi CLI. Runs ``__main__.py`` with ``Pulumi.<stack>.yaml`` the
way ``pulumi preview`` would (``secure:`` values become secret placeholders; ids and computed
outputs are unknown), prints the resource tree (type, name, key inputs, nested under parents),
then starts the policy pack as its own process and sends it every resource and the stack over the
Analyzer gRPC protocol, as the CLI does, and prints the violations by enforcement level. Writes
everything as JSON to ``build/plan-<stack>.json``.

Before the policy pack, every ``alicloud:*`` resource is checked against the provider's contract
(``tools/contract.py``: required inputs, validated enums, ranges and patterns, API constraints),
which the mock engine does not run but ``pulumi preview`` would.

Exit status: 0 no mandatory violation; 1 mandatory violations; 2 bad stack or policy config, a
contract violation, or the program or the pack failed (the message names the key, input or file).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import textwrap
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from pulumi.runtime.rpc import UNKNOWN
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY

from config_problems import StackConfigError
from tools import contract, dashboard_file
from tools.mock_engine import (
    ROOT,
    SECRET_PLACEHOLDER,
    Registration,
    known_stacks,
    project_name,
    run_program,
    stack_config_values,
)
from tools.policy_gate import PACK_DIR, Diagnostic, PolicyConfigError, PolicyPackError, PolicyReport, evaluate
from tools.stack_file import StackFileError

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


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)


def _fail(message: str, stack: str, summary: Path | None) -> int:
    print(f"error: {message}", file=sys.stderr)
    if summary is not None:
        try:
            _append(summary, render_summary(stack, None, error=message))
        except OSError as error:
            print(f"error: cannot write {error.filename}: {error.strerror}", file=sys.stderr)
    return EXIT_ERROR


def _recorded_outputs(items: Sequence[str]) -> dict[str, Path]:
    """``--stack-outputs STACK=FILE`` options as a map; a malformed one or a missing file is bad input."""
    recorded: dict[str, Path] = {}
    for item in items:
        name, sep, file = item.partition("=")
        if not sep or not name or not Path(file).is_file():
            raise ValueError(f"--stack-outputs {item!r}: give STACK=FILE with FILE from `pulumi stack output --json`")
        recorded[name] = Path(file)
    return recorded


def _default_policy_config(pack_dir: Path, stack: str) -> Path | None:
    path = pack_dir / "config" / f"{stack}.json"
    return path if path.is_file() else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./plan", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--stack", default="dev", help="stack whose Pulumi.<stack>.yaml to plan (default: dev)")
    parser.add_argument(
        "--policy-config",
        type=Path,
        help="policy pack config, as for --policy-pack-config (default: policies/config/<stack>.json)",
    )
    parser.add_argument("--policy-pack", type=Path, default=PACK_DIR, help="policy pack directory (default: policies)")
    parser.add_argument("--out", type=Path, help="where to write the JSON plan (default: build/plan-<stack>.json)")
    parser.add_argument("--json", action="store_true", help="print only the JSON plan to stdout")
    parser.add_argument(
        "--summary",
        type=Path,
        help="append the result and every problem as Markdown to this file (CI: $GITHUB_STEP_SUMMARY)",
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="project directory (default: this checkout)")
    parser.add_argument(
        "--stack-outputs",
        action="append",
        default=[],
        metavar="STACK=FILE",
        help="a referenced stack's recorded outputs (`pulumi stack output --json`); default: its planned outputs",
    )
    args = parser.parse_args(argv)
    root: Path = args.root
    stack: str = args.stack
    out: Path = args.out or root / "build" / f"plan-{stack}.json"
    # A plan that fails must not leave the previous run's JSON behind, looking like this run's result. Only a
    # regular file is removed: `--out /dev/null` (run as root) must never delete the device.
    if out.is_file():
        out.unlink()
    summary: Path | None = args.summary
    if stack not in known_stacks(root):
        return _fail(f"no Pulumi.{stack}.yaml; stacks here: {', '.join(known_stacks(root))}", stack, summary)
    policy_config: Path | None = args.policy_config or _default_policy_config(args.policy_pack, stack)
    if policy_config is not None and policy_config.is_absolute() and policy_config.is_relative_to(Path.cwd()):
        policy_config = policy_config.relative_to(Path.cwd())
    try:
        recorded = _recorded_outputs(args.stack_outputs)
    except ValueError as error:
        return _fail(str(error), stack, summary)
    try:
        config_values, secret_keys = stack_config_values(stack, root)
        mocks = run_program(stack, root, preview=True, config=(config_values, secret_keys), recorded_outputs=recorded)
        project = project_name(root)
        report = evaluate(
            mocks.registrations,
            stack=stack,
            project=project,
            config_file=policy_config,
            stack_config=config_values,
            secret_keys=secret_keys,
            pack_dir=args.policy_pack,
        )
    except (StackFileError, StackConfigError, PolicyConfigError, PolicyPackError) as error:
        return _fail(str(error), stack, summary)
    except Exception as error:  # the program itself failed: show where, as `pulumi preview` would
        traceback.print_exc()
        return _fail(f"the program failed for stack '{stack}': {type(error).__name__}: {error}", stack, summary)
    broken = contract.violations([contract.Resource(r.type, r.name, r.properties) for r in mocks.registrations])
    document = plan_document(stack, mocks.registrations, report)
    document["contract"] = [str(v) for v in broken]
    if broken:
        document["exitCode"] = EXIT_ERROR
    code = EXIT_ERROR if broken else exit_code(report)
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        dashboard_file.write_dashboard(stack, root, config_values)  # build/dashboards/<stack>.json, for review
        if summary is not None:
            _append(summary, render_summary(stack, report, contract=[str(v) for v in broken]))
    except OSError as error:
        print(
            f"error: cannot write {error.filename}: {error.strerror}. Give --out/--summary a file path", file=sys.stderr
        )
        return EXIT_ERROR
    try:
        if args.json:
            sys.stdout.write(text)
            sys.stdout.flush()
            return code
        title = f"Offline plan of stack '{stack}' (project {project}): Pulumi mock engine as a preview, no cloud calls"
        print("\n".join(textwrap.wrap(title, width=plan_width())) + "\n")
        print("\n".join(render_tree(mocks.stack_urn, mocks.registrations, plan_width())))
        custom = sum(1 for r in mocks.registrations if r.custom)
        components = len(mocks.registrations) - custom
        print(
            f"\nResources: {len(mocks.registrations) + 1} to create: the stack, {custom} cloud resources and "
            f"{components} components\n"
        )
        print("\n".join(render_report(report, len(mocks.registrations), plan_width())))
        # One line, whatever its length: the path is the caller's (scripts read it), and the last-but-one line stays
        # the verdict.
        print(
            f"Plan with every input and the policy report: {out.relative_to(root) if out.is_relative_to(root) else out}"
        )
        sys.stdout.flush()  # a reader that left shows here, not at exit (where Python would exit 120)
    except BrokenPipeError:
        # `./plan | head`: the reader left early. Silence the rest; the exit code stays the plan's.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if broken:
        print(f"\nerror: {len(broken)} input(s) the alicloud provider or API would refuse:", file=sys.stderr)
        for violation in broken:
            print(f"  {violation}", file=sys.stderr)
    return code


if __name__ == "__main__":
    from tools.run_plan import run

    sys.exit(run())
