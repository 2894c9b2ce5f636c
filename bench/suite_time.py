"""Test suite time on this machine: each step of ``make test`` timed on its own, once (it takes minutes)."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any, Final

from bench.common import ROOT, table

STEPS: Final = (
    ("format check", ["ruff", "format", "--check", "."]),
    ("lint", ["ruff", "check", "."]),
    ("types (pyright strict)", ["pyright"]),
    ("tests (pytest)", ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider"]),
)


def measure() -> dict[str, float]:
    bin_dir = ROOT / ".venv" / "bin"
    results: dict[str, float] = {}
    for name, command in STEPS:
        started = time.perf_counter()
        done = subprocess.run([str(bin_dir / command[0]), *command[1:]], cwd=ROOT, capture_output=True, check=False)
        results[name] = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"{name} failed while timing it:\n{done.stdout.decode()[-3000:]}")
        print(f"suite: {name} done", file=sys.stderr, flush=True)
    return results


def report(results: dict[str, float]) -> tuple[str, dict[str, Any]]:
    total = sum(results.values())
    rows = [[name, f"{seconds:.2f} s"] for name, seconds in results.items()]
    rows.append(["**make test, all steps**", f"**{total:.1f} s**"])
    return table(["step", "time (one run)"], rows), {"total": total}
