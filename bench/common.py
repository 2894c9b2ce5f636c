"""Shared helpers: repeated measurements, medians, the machine, and markdown tables."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Stats:
    """The median of repeated runs, with the spread so a reader can judge the noise."""

    median: float
    low: float
    high: float
    runs: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Stats:
        return cls(statistics.median(values), min(values), max(values), len(values))

    def text(self, unit: str = "s", digits: int = 2) -> str:
        return f"{self.median:.{digits}f} {unit} ({self.low:.{digits}f} to {self.high:.{digits}f}, n={self.runs})"


def repeat(times: int, measure: Callable[[], float]) -> Stats:
    return Stats.of([measure() for _ in range(times)])


def run_worker(module: str, *args: str) -> dict[str, Any]:
    """Run ``python -m <module> --worker …`` in a fresh interpreter and return the JSON it prints last."""
    result = subprocess.run(
        [sys.executable, "-m", module, "--worker", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    if result.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if "model name" in line]
        model = names[0] if names else ""
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        total = next((line for line in meminfo.read_text().splitlines() if line.startswith("MemTotal")), "")
        memory = f"{int(total.split()[1]) / 1024 / 1024:.0f} GiB" if total else ""
    return (
        f"{os.cpu_count()} CPU ({model or cpu}), {memory} RAM, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
