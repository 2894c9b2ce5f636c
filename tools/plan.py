"""The offline plan: run the program for a stack under Pulumi's mock engine and show what it creates.

    python -m tools.plan --stack dev [--out build/plan-dev.json]

Needs no cloud credentials and no Pulumi CLI. Prints the resource tree the way ``pulumi preview``
does (type, name, key inputs, nested under parents) and writes every resource with all its inputs
as JSON. Exits 2 with the list of problems when the stack's configuration is invalid.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from config_problems import StackConfigError
from tools.mock_engine import ROOT, Registration, close_event_loop, known_stacks, project_name, run_program

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
}


def _service_summary(inputs: Mapping[str, Any]) -> str:
    config = json.loads(inputs["serviceConfig"])
    metadata = config["metadata"]
    where = metadata.get("resource") or config.get("cloud", {}).get("computing", {}).get("instance_type")
    return f"name={metadata['name']} group={metadata['group']} instances={metadata['instance']} on={where}"


def key_inputs(registration: Registration) -> str:
    if registration.type == "alicloud:pai/service:Service":
        return _service_summary(registration.inputs)
    keys = KEY_INPUTS.get(registration.type, ())
    return " ".join(f"{k}={registration.inputs[k]}" for k in keys if k in registration.inputs)


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


def plan_document(stack: str, registrations: Sequence[Registration]) -> dict[str, Any]:
    return {
        "stack": stack,
        "resources": [
            {
                "type": r.type,
                "name": r.name,
                "urn": r.urn,
                "parent": r.parent_urn,
                "custom": r.custom,
                "inputs": r.inputs,
            }
            for r in sorted(registrations, key=lambda r: r.urn)
        ],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--stack", default="dev", help="stack whose Pulumi.<stack>.yaml to plan (default: dev)")
    parser.add_argument("--out", type=Path, help="where to write the JSON plan (default: build/plan-<stack>.json)")
    parser.add_argument("--root", type=Path, default=ROOT, help="project directory (default: this checkout)")
    args = parser.parse_args(argv)
    root: Path = args.root
    if args.stack not in known_stacks(root):
        print(f"error: no Pulumi.{args.stack}.yaml; stacks here: {', '.join(known_stacks(root))}", file=sys.stderr)
        return 2
    try:
        mocks = run_program(args.stack, root)
    except StackConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    project = project_name(root)
    print(f"Offline plan of stack '{args.stack}' (project {project}): Pulumi mock engine, no cloud calls\n")
    print("\n".join(render_tree(mocks.stack_urn, mocks.registrations)))
    custom = sum(1 for r in mocks.registrations if r.custom)
    components = len(mocks.registrations) - custom
    print(f"\nResources: {len(mocks.registrations) + 1} to create ({custom} cloud resources, {components} components)")
    out: Path = args.out or root / "build" / f"plan-{args.stack}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(plan_document(args.stack, mocks.registrations), indent=2, sort_keys=True) + "\n")
    print(f"Plan with every input: {out.relative_to(root) if out.is_relative_to(root) else out}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        close_event_loop()
