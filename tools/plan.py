"""The offline plan: the program for a stack under Pulumi's mock engine, gated by the policy pack.

    python -m tools.plan --stack dev [--policy-config FILE] [--out FILE] [--json]

Needs no cloud credentials and no Pulumi CLI. Runs ``__main__.py`` with ``Pulumi.<stack>.yaml`` the
way ``pulumi preview`` would (``secure:`` values become secret placeholders; ids and computed
outputs are unknown), prints the resource tree (type, name, key inputs, nested under parents; ``tools/plan_output.py``),
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
import sys
import textwrap
import traceback
from collections.abc import Sequence
from pathlib import Path

from config_problems import StackConfigError
from tools import contract, dashboard_file
from tools.mock_engine import ROOT, known_stacks, project_name, run_program, stack_config_values
from tools.plan_output import (
    EXIT_ERROR,
    exit_code,
    plan_document,
    plan_width,
    render_report,
    render_summary,
    render_tree,
)
from tools.policy_config import PolicyConfigError
from tools.policy_gate import PACK_DIR, PolicyPackError, evaluate
from tools.stack_file import StackFileError


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
