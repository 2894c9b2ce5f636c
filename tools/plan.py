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
import sys
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import yaml
from pulumi.runtime.rpc import UNKNOWN
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY

from config_problems import StackConfigError
from tools import contract
from tools.mock_engine import (
    ROOT,
    SECRET_PLACEHOLDER,
    Registration,
    close_event_loop,
    known_stacks,
    project_name,
    run_program,
    stack_config_values,
)
from tools.policy_gate import PACK_DIR, Diagnostic, PolicyConfigError, PolicyPackError, PolicyReport, evaluate

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
    "pulumi-python:dynamic/pai:TrainingJob": ("job_type", "spot"),
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


def key_inputs(registration: Registration) -> str:
    properties = display(registration.properties)
    if registration.type in ("alicloud:pai/service:Service", "pulumi-python:dynamic/pai:EasService"):
        return _service_summary(properties)
    keys = KEY_INPUTS.get(registration.type, ())
    return " ".join(f"{k}={properties[k]}" for k in keys if k in properties)


def render_tree(stack_urn: str, registrations: Sequence[Registration]) -> list[str]:
    """Lines of the resource tree under the stack, a header first; siblings sorted by name.

    Registration order is not deterministic (registrations are asynchronous); sorted output is.
    """
    children: dict[str, list[Registration]] = {}
    for registration in sorted(registrations, key=lambda r: (r.name, r.type)):
        children.setdefault(registration.parent_urn, []).append(registration)
    rows: list[tuple[str, str, str]] = [("pulumi:pulumi:Stack", stack_urn.rsplit("::", 1)[-1], "")]

    def walk(parent: str, indent: str) -> None:
        kids = children.get(parent, [])
        for index, child in enumerate(kids):
            last = index == len(kids) - 1
            rows.append((f"{indent}{'└─ ' if last else '├─ '}{child.type}", child.name, key_inputs(child)))
            walk(child.urn, indent + ("   " if last else "│  "))

    walk(stack_urn, "")
    type_width = max(len(row[0]) for row in rows) + 2
    name_width = max(len(row[1]) for row in rows) + 2
    header = f"     {'Type'.ljust(type_width)}{'Name'.ljust(name_width)}Key inputs"
    return [header] + [f" +   {t.ljust(type_width)}{n.ljust(name_width)}{k}".rstrip() for t, n, k in rows]


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


def render_report(report: PolicyReport, resources: int) -> list[str]:
    """The policy report: violations grouped by enforcement level, then checks deferred to ``pulumi up``."""
    config = f"config {report.config_file}" if report.config_file else "default levels (no config file)"
    counts = f"{len(report.levels)} policies · {resources} resources"
    lines = [f"Policy pack {report.pack} v{report.version} · {config} · {counts}"]
    groups = [
        ("Mandatory violations (block the deployment)", report.violations("mandatory")),
        ("Advisory violations (reported, not blocking)", report.violations("advisory")),
        ("Deferred to `pulumi up`: the rule read a value unknown at preview", report.deferred),
    ]
    for title, found in groups:
        lines.append(f"\n{title}: {len(found)}")
        for d in sorted(found, key=lambda d: (d.policy, d.urn, d.message)):
            lines.append(f"  {d.policy} · {_resource_name(d.urn)}")
            lines.append(f"      {d.message}")
    mandatory = len(report.violations("mandatory"))
    verdict = f"{mandatory} mandatory violation(s): blocked" if mandatory else "no mandatory violation: passes"
    lines.append(f"\nPolicy result: {verdict}")
    return lines


def yaml_problem(error: yaml.YAMLError) -> str:
    """PyYAML's problem with 1-based line and column, without its echo of the document."""
    if not isinstance(error, yaml.MarkedYAMLError):
        return str(error)

    def at(mark: Any) -> str:
        return f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""

    context = f"{error.context}{at(error.context_mark)}: " if error.context else ""
    return f"{context}{error.problem}{at(error.problem_mark)}"


def _default_policy_config(pack_dir: Path, stack: str) -> Path | None:
    path = pack_dir / "config" / f"{stack}.json"
    return path if path.is_file() else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--stack", default="dev", help="stack whose Pulumi.<stack>.yaml to plan (default: dev)")
    parser.add_argument(
        "--policy-config",
        type=Path,
        help="policy pack config, as for --policy-pack-config (default: policies/config/<stack>.json)",
    )
    parser.add_argument("--policy-pack", type=Path, default=PACK_DIR, help="policy pack directory (default: policies)")
    parser.add_argument("--out", type=Path, help="where to write the JSON plan (default: build/plan-<stack>.json)")
    parser.add_argument("--json", action="store_true", help="print only the JSON plan to stdout")
    parser.add_argument("--root", type=Path, default=ROOT, help="project directory (default: this checkout)")
    args = parser.parse_args(argv)
    root: Path = args.root
    stack: str = args.stack
    if stack not in known_stacks(root):
        print(f"error: no Pulumi.{stack}.yaml; stacks here: {', '.join(known_stacks(root))}", file=sys.stderr)
        return EXIT_ERROR
    policy_config: Path | None = args.policy_config or _default_policy_config(args.policy_pack, stack)
    if policy_config is not None and policy_config.is_absolute() and policy_config.is_relative_to(Path.cwd()):
        policy_config = policy_config.relative_to(Path.cwd())
    try:
        config_values, secret_keys = stack_config_values(stack, root)
        mocks = run_program(stack, root, preview=True, config=(config_values, secret_keys))
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
    except yaml.YAMLError as error:
        print(f"error: Pulumi.{stack}.yaml is not valid YAML: {yaml_problem(error)}", file=sys.stderr)
        return EXIT_ERROR
    except (StackConfigError, PolicyConfigError, PolicyPackError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as error:  # the program itself failed: show where, as `pulumi preview` would
        traceback.print_exc()
        print(f"error: the program failed for stack '{stack}': {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_ERROR
    broken = contract.violations([contract.Resource(r.type, r.name, r.properties) for r in mocks.registrations])
    document = plan_document(stack, mocks.registrations, report)
    document["contract"] = [str(v) for v in broken]
    if broken:
        document["exitCode"] = EXIT_ERROR
    out: Path = args.out or root / "build" / f"plan-{stack}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    out.write_text(text)
    if args.json:
        sys.stdout.write(text)
        return EXIT_ERROR if broken else exit_code(report)
    print(f"Offline plan of stack '{stack}' (project {project}): Pulumi mock engine as a preview, no cloud calls\n")
    print("\n".join(render_tree(mocks.stack_urn, mocks.registrations)))
    custom = sum(1 for r in mocks.registrations if r.custom)
    components = len(mocks.registrations) - custom
    print(
        f"\nResources: {len(mocks.registrations) + 1} to create ({custom} cloud resources, {components} components)\n"
    )
    print("\n".join(render_report(report, len(mocks.registrations))))
    print(f"Plan with every input and the policy report: {out.relative_to(root) if out.is_relative_to(root) else out}")
    if broken:
        print(f"\nerror: {len(broken)} input(s) the alicloud provider or API would refuse:", file=sys.stderr)
        for violation in broken:
            print(f"  {violation}", file=sys.stderr)
        return EXIT_ERROR
    return exit_code(report)


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        close_event_loop()
