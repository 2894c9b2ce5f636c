"""Policy gate throughput: resources per second through the Analyzer gRPC protocol, and the pack's start-up.

The resources are the dev stack's own registrations (as the offline plan records them), repeated with distinct
names and URNs up to 100, 1000 and 5000; every one goes through ``Analyze`` and then all of them through one
``AnalyzeStack``, exactly as ``make plan`` sends them. Start-up is from launching ``python -m pulumi.policy`` to
the pack answering ``GetAnalyzerInfo``.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from typing import Any, Final

from bench.common import ROOT, Stats, table
from tools.mock_engine import Registration, run_program, stack_config_values
from tools.policy_config import load_policy_config, reconcile
from tools.policy_gate import PolicyPack

SIZES: Final = (100, 1000, 5000)


def registrations(count: int) -> list[Registration]:
    base = [r for r in run_program("dev").registrations if r.custom]
    copies: list[Registration] = []
    for index in range(count):
        source = base[index % len(base)]
        suffix = f"-{index // len(base)}"
        copies.append(dataclasses.replace(source, name=source.name + suffix, urn=source.urn + suffix))
    return copies


def start_up() -> float:
    started = time.perf_counter()
    with PolicyPack() as pack:
        pack.info()
        return time.perf_counter() - started


def throughput(resources: list[Registration]) -> float:
    """Seconds to analyze ``resources`` in a configured pack (start-up excluded)."""
    config_file = ROOT / "policies" / "config" / "dev.json"
    values, secret_keys = stack_config_values("dev")
    with PolicyPack() as pack:
        _, _, policies = pack.info()
        pack.configure(reconcile(policies, load_policy_config(config_file), config_file))
        pack.configure_stack("dev", "pai-mlops", values, secret_keys)
        started = time.perf_counter()
        pack.analyze_all(resources)
        return time.perf_counter() - started


def measure(repeats: int) -> dict[str, Any]:
    startup = Stats.of([start_up() for _ in range(repeats)])
    results: dict[int, Stats] = {}
    for size in SIZES:
        resources = registrations(size)
        results[size] = Stats.of([throughput(resources) for _ in range(repeats)])
        print(f"policy throughput: {size} resources done", file=sys.stderr, flush=True)
    return {"startup": startup, "sizes": results}


def report(results: dict[str, Any]) -> tuple[str, dict[str, float]]:
    rows = [
        [size, stats.text(), f"{size / stats.median:,.0f}", f"{stats.median / size * 1000:.2f} ms"]
        for size, stats in results["sizes"].items()
    ]
    rows.append(["pack start-up", results["startup"].text(), "", ""])
    rates = {size: size / stats.median for size, stats in results["sizes"].items()}
    return table(["resources", "time (median, range)", "resources/s", "per resource"], rows), {
        "min_rate": min(rates.values()),
        "startup": results["startup"].median,
    }


def attribution(count: int = 1000) -> dict[str, float]:
    """Where the pack spends an Analyze: pulumi-policy's own work against our rules, from a profiled run.

    The servicer is built in-process from the same rules the pack serves (pulumi-policy's private servicer class:
    a measurement aid, not something the product relies on), so no gRPC time is included.
    """
    import cProfile
    import pstats

    from pulumi.runtime.proto import analyzer_pb2
    from pulumi_policy import EnforcementLevel
    from pulumi_policy.policy import _PolicyAnalyzerServicer  # pyright: ignore[reportPrivateUsage]

    from policies.rules import PACK_NAME, POLICIES
    from tools.policy_gate import analyzer_resource

    servicer: Any = _PolicyAnalyzerServicer(
        PACK_NAME, "0.0.1", list(POLICIES), EnforcementLevel.ADVISORY, None, None, None, None, None, None, None
    )
    requests = [
        analyzer_pb2.AnalyzeRequest(type=r.type, properties=r.properties, urn=r.urn, name=r.name, options=r.options)
        for r in map(analyzer_resource, registrations(count))
    ]
    profiler = cProfile.Profile()
    profiler.enable()
    for request in requests:
        servicer.Analyze(request, None)
    profiler.disable()
    stats: Any = getattr(pstats.Stats(profiler), "stats")  # noqa: B009

    def cumulative(files: str, names: tuple[str, ...], prefix: str = "") -> float:
        return sum(
            value[3]
            for (file, _, name), value in stats.items()
            if files in file and (name in names or (prefix and name.startswith(prefix)))
        )

    total = cumulative("pulumi_policy/policy.py", ("Analyze",))
    rules = cumulative("policies/rules", (), prefix="validate_")
    decoding = cumulative("", ("MessageToDict", "unknown_checking_proxy", "deserialize_properties"))
    from pulumi_policy import ResourceValidationPolicy

    resource_policies = sum(isinstance(policy, ResourceValidationPolicy) for policy in POLICIES)
    return {"total": total, "rules": rules / total, "decoding": decoding / total, "policies": resource_policies}
