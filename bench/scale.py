"""The plan at scale: 500 served models, and the policy gate against its library floor.

- Plan: the offline plan's program (``bench.plan_scaling``'s components run, a fresh interpreter each) at 100,
  250 and 500 served models against the same number of raw ``pulumi_alicloud`` resources; linear means the time
  per model stays flat and 500 models take about twice 250.
- Policy gate: the dev stack's resources repeated to N, through ``Analyze`` and ``AnalyzeStack`` as ``make plan``
  sends them, to the pai-mlops pack and to a *floor* pack of the same number of no-op policies (as many resource
  and stack policies as ours) under the same pulumi-policy, in the same harness. The ratio is what our rules add
  over what the library costs for that many policies.

Run it alone: ``.venv/bin/python -m bench.scale [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Final

from bench.common import Stats
from bench.plan_scaling import measure as plan_measure
from bench.policy_throughput import registrations, throughput
from tools.mock_engine import Registration
from tools.policy_gate import PolicyPack

PLAN_COUNTS: Final = (100, 250, 500)
POLICY_SIZES: Final = (1000, 5000)
_FLOOR_PACK: Final = """
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy


def nothing(args, report_violation):
    return None


resource = [ResourceValidationPolicy(name=f"noop-resource-{i}", description="no-op", validate=nothing)
            for i in range({resources})]
stack = [StackValidationPolicy(name=f"noop-stack-{i}", description="no-op", validate=nothing) for i in range({stacks})]
PolicyPack("noop-floor", policies=resource + stack, enforcement_level=EnforcementLevel.ADVISORY)
"""


def policy_counts() -> tuple[int, int]:
    """How many resource and stack policies the pai-mlops pack has, as the running pack lists them."""
    with PolicyPack() as pack:
        _, _, policies = pack.info()
    stacks = sum(p.kind == "stack" for p in policies)
    return len(policies) - stacks, stacks


def floor_throughput(pack_dir: Path, resources: list[Registration]) -> float:
    with PolicyPack(pack_dir) as pack:
        pack.info()
        started = time.perf_counter()
        pack.analyze_all(resources)
        return time.perf_counter() - started


def policy_measure(repeats: int) -> dict[str, Any]:
    resource_policies, stack_policies = policy_counts()
    results: dict[str, Any] = {"policies": [resource_policies, stack_policies]}
    with tempfile.TemporaryDirectory() as folder:
        pack_dir = Path(folder)
        (pack_dir / "PulumiPolicy.yaml").write_text("runtime: python\ndescription: no-op floor\nversion: 0.0.1\n")
        (pack_dir / "__main__.py").write_text(
            _FLOOR_PACK.replace("{resources}", str(resource_policies)).replace("{stacks}", str(stack_policies))
        )
        for size in POLICY_SIZES:
            resources = registrations(size)
            ours: list[float] = []
            floor: list[float] = []
            for _ in range(repeats):  # alternate, so drift hits both alike
                ours.append(throughput(resources))
                floor.append(floor_throughput(pack_dir, resources))
            results[str(size)] = {"ours": Stats.of(ours), "floor": Stats.of(floor)}
            print(f"policy floor: {size} done", file=sys.stderr, flush=True)
    return results


def report(plan: dict[int, dict[str, Any]], policy: dict[str, Any]) -> str:
    lines: list[str] = []
    if plan:
        lines += [
            "| models | resources | components (median, range) | floor: same count of raw resources | ratio "
            "| per model |",
            "|---|---|---|---|---|---|",
        ]
    for models, sides in plan.items():
        comp, base = sides["components"], sides["floor"]
        lines.append(
            f"| {models} | {comp['resources']} | {comp['seconds'].text()} | {base['seconds'].text()} | "
            f"{comp['seconds'].median / base['seconds'].median:.2f}x | "
            f"{comp['seconds'].median / models * 1000:.0f} ms |"
        )
    resource_policies, stack_policies = policy["policies"]
    if str(POLICY_SIZES[0]) not in policy:
        return "\n".join(lines)
    lines += [
        "",
        f"| resources | pai-mlops pack (median, range) | floor: {resource_policies} resource + {stack_policies} stack "
        "no-op policies | ratio | ours resources/s | floor resources/s |",
        "|---|---|---|---|---|---|",
    ]
    for size in POLICY_SIZES:
        ours, floor = policy[str(size)]["ours"], policy[str(size)]["floor"]
        lines.append(
            f"| {size} | {ours.text()} | {floor.text()} | {ours.median / floor.median:.2f}x | "
            f"{size / ours.median:,.0f} | {size / floor.median:,.0f} |"
        )
    return "\n".join(lines)


def _sizes(policy: dict[str, Any]) -> dict[str, dict[str, Stats]]:
    return {k: v for k, v in policy.items() if k != "policies"}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--part", choices=("plan", "policy", "both"), default="both")
    args = parser.parse_args()
    plan = plan_measure(args.repeats, PLAN_COUNTS) if args.part != "policy" else {}
    policy = policy_measure(args.repeats) if args.part != "plan" else {"policies": [0, 0]}
    print(report(plan, policy))
    summary: dict[str, Any] = {
        "plan": {str(m): {k: s["seconds"].median for k, s in v.items()} for m, v in plan.items()},
        "policy": {k: {side: stats.median for side, stats in v.items()} for k, v in _sizes(policy).items()},
        "policies": policy["policies"],
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
