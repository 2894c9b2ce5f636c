"""Plan scaling: the program under the mock engine with N served models, against a floor of raw resources.

Each measurement runs in a fresh interpreter (``--worker``), so imports, caches and peak memory do not leak from
one run into the next. The *components* run is the real ``__main__.py`` with a generated dev stack of N served
models (every model a BlueGreenService — its EAS service, autoscaler, endpoint reader and traffic shift — and its
model-registry entries). The
*floor* registers the same number of plain ``pulumi_alicloud`` ``pai.Service`` resources directly under the same
mock engine: what registering that many resources costs with no components, config validation, stack transforms
or dynamic providers. Time is the run alone (after imports); memory is the peak RSS of the worker and its growth
over the RSS before the run.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import yaml

from bench.common import ROOT, Stats, run_worker, table

MODEL_COUNTS: Final = (1, 10, 50, 100, 200)


def stack_yaml(models: int) -> str:
    base = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    # Only the fixed part of the stack (workspace, bucket, roles) and N served models: nothing else scales here.
    varying = ("pai-mlops:serving", "pai-mlops:training", "pai-mlops:notebook", "pai-mlops:pipeline")
    config = {key: value for key, value in base.items() if key not in varying}
    config["pai-mlops:serving"] = {
        "services": [
            {
                "name": f"model_{index:03d}",
                "processor": "pmml",
                "instanceType": "ecs.c7.large",
                "maxInstances": 2,
                "qpsPerInstance": 10,
                "versions": ["v1"],
                "live": "v1",
                "codeRepository": "https://github.com/acme/models.git",
                "codeCommits": {"v1": "4be2c1d9"},
            }
            for index in range(models)
        ]
    }
    return yaml.safe_dump({"config": config}, sort_keys=False)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def bench_root(folder: Path, models: int) -> Path:
    """A project directory with the real program and a generated stack ``bench`` of ``models`` served models."""
    shutil.copy(ROOT / "Pulumi.yaml", folder / "Pulumi.yaml")
    shutil.copy(ROOT / "__main__.py", folder / "__main__.py")
    (folder / "Pulumi.bench.yaml").write_text(stack_yaml(models))
    return folder


def components(models: int, collector: bool = False) -> dict[str, Any]:
    """The program's run; ``collector`` keeps Python's cycle collector running through it (the engine pauses it)."""
    from tools import mock_engine

    mock_engine.pause_cycle_collector = not collector
    with tempfile.TemporaryDirectory() as folder:
        root = bench_root(Path(folder), models)
        before = _rss_mb()
        started, cpu = time.perf_counter(), time.process_time()
        mocks = mock_engine.run_program("bench", root=root)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_mb": _rss_mb(),
        "growth_mb": _rss_mb() - before,
        "resources": len(mocks.registrations),
    }


def floor(count: int, collector: bool = False) -> dict[str, Any]:
    from pulumi_alicloud import pai

    from tools import mock_engine

    mock_engine.pause_cycle_collector = not collector
    mock_engine.install_mocks("pai-mlops", "bench")
    config = json.dumps({"metadata": {"name": "floor", "instance": 1}, "processor": "pmml"})

    def program() -> None:
        for index in range(count):
            pai.Service(f"service-{index}", service_config=config, workspace_id="ws-1")

    before = _rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    mock_engine.run_under_mocks(program)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_mb": _rss_mb(),
        "growth_mb": _rss_mb() - before,
        "resources": count,
    }


def attribution(models: int) -> dict[str, Any]:
    """Where the components run spends its time beyond the floor, from one profiled run."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    total = components(models)["seconds"]
    profiler.disable()
    stats: Any = getattr(pstats.Stats(profiler), "stats")  # noqa: B009 - {(file, line, name): (cc, nc, tt, ct, …)}

    def cumulative(name: str, file_part: str) -> float:
        return sum(v[3] for (file, _, func), v in stats.items() if func == name and file_part in file)

    return {
        "total": total,
        "stack_traces": cumulative("_get_stack_trace", "pulumi/runtime/resource.py"),
        "serialize_provider": cumulative("serialize_provider", "pulumi/dynamic"),
        "config": cumulative("load_stack_config", "stack_config"),
    }


def measure(repeats: int, counts: tuple[int, ...] = MODEL_COUNTS) -> dict[int, dict[str, Any]]:
    results: dict[int, dict[str, Any]] = {}
    for models in counts:
        runs: dict[str, list[dict[str, Any]]] = {"components": [], "floor": []}
        for _ in range(repeats):  # alternate, so drift on a noisy machine hits both sides alike
            run = run_worker("bench.plan_scaling", "components", str(models))
            runs["components"].append(run)
            runs["floor"].append(run_worker("bench.plan_scaling", "floor", str(run["resources"])))
        results[models] = {
            side: {
                "seconds": Stats.of([r["seconds"] for r in rs]),
                "peak_mb": Stats.of([r["peak_mb"] for r in rs]),
                "growth_mb": Stats.of([r["growth_mb"] for r in rs]),
                "resources": rs[0]["resources"],
            }
            for side, rs in runs.items()
        }
        print(f"plan scaling: {models} models done", file=sys.stderr, flush=True)
    return results


def report(results: dict[int, dict[str, Any]]) -> tuple[str, dict[str, float]]:
    rows = []
    for models, sides in results.items():
        comp, base = sides["components"], sides["floor"]
        rows.append(
            [
                models,
                comp["resources"],
                comp["seconds"].text(),
                base["seconds"].text(),
                f"{comp['seconds'].median / base['seconds'].median:.2f}x",
                f"{comp['peak_mb'].median:.0f} MB (+{comp['growth_mb'].median:.0f})",
                f"{base['peak_mb'].median:.0f} MB (+{base['growth_mb'].median:.0f})",
                f"{comp['seconds'].median / models * 1000:.0f} ms",
            ]
        )
    headers = [
        "models",
        "resources",
        "components (median, range)",
        "floor: same count of raw resources",
        "ratio",
        "peak RSS components (growth)",
        "peak RSS floor (growth)",
        "per model",
    ]
    counts = sorted(results)
    figures = {
        "ratio_at_100": results[100]["components"]["seconds"].median / results[100]["floor"]["seconds"].median
        if 100 in results
        else float("nan"),
        "growth_100_to_200": results[200]["components"]["seconds"].median / results[100]["components"]["seconds"].median
        if 100 in results and 200 in results
        else float("nan"),
        "largest": float(counts[-1]),
    }
    return table(headers, rows), figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", nargs=2, metavar=("MODE", "N"))
    args = parser.parse_args()
    mode, count = args.worker
    workers: dict[str, Callable[[int], dict[str, Any]]] = {
        "components": components,
        "components-collector": lambda n: components(n, collector=True),
        "floor": floor,
        "floor-collector": lambda n: floor(n, collector=True),
        "attribution": attribution,
    }
    result = workers[mode](int(count))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
