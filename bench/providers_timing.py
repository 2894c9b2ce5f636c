"""Provider overheads against the local emulator, through the real provider host (``python -m pulumi.dynamic``).

- Traffic shift: a 3-step release (10 → 50 → 100) with bakes of 1, 5 and 10 s; total time against the sum of the
  bakes, and the API calls per step. Then the reaction time: a breach is made to appear in the middle of a bake,
  and the time until the weights are restored is measured against the metric interval (``check_interval``).
- Training resubmission: a running spot job is preempted; the time until the next attempt's CreateJob, against the
  poll interval; and the work lost, as time since the newest complete checkpoint, against the checkpoint interval.

The emulator runs at speed 1 here, so its call log's timestamps are real seconds.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Generator
from contextlib import contextmanager
from typing import Any, Final

from alibabacloud_eas20210701 import models as eas

from bench.common import Stats, table
from providers.clients import ClientFactory, Credentials
from providers.traffic import TrafficShiftProvider
from providers.training import TrainingJobProvider
from tests.emulator import Control, Emulator
from tests.support.provider_host import ProviderFailed, ProviderHost, wait_until
from tests.support.shift import shift_inputs

BAKES: Final = (1.0, 5.0, 10.0)
CONFIG: Final = {
    "alicloud:accessKey": "bench-key",
    "alicloud:secretKey": "bench-secret",
    "alicloud:region": "cn-hangzhou",
}
HEALTHY: Final = {"p95_latency_ms": 90, "error_ratio": 0.001, "qps": 50}


@contextmanager
def stage() -> Generator[tuple[Emulator, Control, ClientFactory, ProviderHost]]:
    with Emulator(speed=1.0) as emulator:
        factory = ClientFactory(
            Credentials("bench-key", "bench-secret", None, "cn-hangzhou"), environ=emulator.environment()
        )
        with ProviderHost(env=emulator.environment()) as host:
            host.configure(CONFIG, frozenset({"alicloud:secretKey"}))
            yield emulator, Control(emulator.url), factory, host


def shift_props(bake: float, interval: float, **changes: Any) -> dict[str, Any]:
    """The bench's TrafficShift inputs; ``changes`` may replace any of them (the group and services too)."""
    defaults: dict[str, Any] = {
        "group": "bench",
        "services": {"v1": "bench_v1", "v2": "bench_v2"},
        "live": "v1",
        "bake_seconds": bake,
        "check_interval_seconds": interval,
        "min_requests": 1,
        "max_bake_extensions": 0,
    }
    return shift_inputs(**{**defaults, **changes})


def _group(emulator: Emulator, control: Control, factory: ClientFactory) -> None:
    emulator.reset()
    control.timing(eas={"create": 0.0})
    client = factory.eas()
    for name in ("bench_v1", "bench_v2"):
        config = {"metadata": {"name": name, "group": "bench", "instance": 1}, "processor": "pmml"}
        client.create_service(eas.CreateServiceRequest(body=json.dumps(config)))
    control.set_metrics("bench_v1", **HEALTHY)
    control.set_metrics("bench_v2", **HEALTHY)


def release(bake: float) -> dict[str, float]:
    with stage() as (emulator, control, factory, host):
        _group(emulator, control, factory)
        interval = min(1.0, bake)
        _, olds = host.create(TrafficShiftProvider(), shift_props(bake, interval), timeout=60)
        before = len(control.calls())
        started = time.perf_counter()
        host.update(TrafficShiftProvider(), "id", olds, shift_props(bake, interval, live="v2"), timeout=600)
        total = time.perf_counter() - started
        calls = Counter(call["action"] for call in control.calls()[before:])
    return {"total": total, "bakes": 3 * bake, **{f"calls_{k}": v / 3 for k, v in calls.items()}}


def reaction(interval: float, bake: float = 6.0) -> float:
    """Seconds from a breach appearing mid-bake to the weights being restored."""
    with stage() as (emulator, control, factory, host):
        _group(emulator, control, factory)
        _, olds = host.create(TrafficShiftProvider(), shift_props(bake, interval), timeout=60)
        appeared: list[float] = []

        def breach_mid_bake() -> None:
            wait_until(lambda: any(c["action"] == "ReleaseService" for c in control.calls()), timeout=60, interval=0.01)
            time.sleep(bake / 2 + interval * 0.37)  # an arbitrary moment between two readings
            appeared.append(control.clock()["now"])
            control.set_metrics("bench_v2", error_ratio=0.5)

        watcher = threading.Thread(target=breach_mid_bake)
        watcher.start()
        with contextlib.suppress(ProviderFailed):  # the release fails, as it must
            host.update(TrafficShiftProvider(), "id", olds, shift_props(bake, interval, live="v2"), timeout=120)
        watcher.join()
        restored = [  # the in-process log keeps sub-second times; the control API rounds to seconds
            c.at
            for c in emulator.calls.list("eas", "ReleaseService")
            if c.body == {"Weight": 1000, "TrafficState": "grouping"} and c.path.endswith("/bench_v1/release")
        ]
    return restored[-1] - appeared[0]


def resubmission(poll: float, checkpoint_every: float = 2.0, preempt_after: float = 7.3) -> dict[str, float]:
    """One preemption: (seconds to the next CreateJob, seconds of work lost since the newest complete checkpoint)."""
    with stage() as (emulator, control, factory, host):
        control.timing(dlc={"creating": 0.5, "queuing": 0.5, "running": 1e6})
        control.job_outcomes(
            {"outcome": "succeeded", "after_running_seconds": 1e6}, {"outcome": "succeeded", "after_running_seconds": 1}
        )
        control.create_bucket("bench")
        props = {
            "scope": "pai-mlops/bench/job",
            "display_name": "bench",
            "job_type": "PyTorchJob",
            "image": "registry/bench:1",
            "command": "python train.py",
            "instance_type": "ecs.gn6i-c4g1.xlarge",
            "spot": True,
            "spot_discount_limit": 0.5,
            "checkpoint_interval_minutes": 1,
            "max_runtime_minutes": 60,
            "output_uri": "oss://bench/models/m/r/",
            "checkpoint_uri": "oss://bench/checkpoints/m/r/",
            "wait": "completed",
            "max_resubmits": 1,
            "poll_seconds": poll,
        }
        bucket = factory.oss_bucket("bench")
        marks: dict[str, float] = {}

        def train_and_preempt() -> None:
            wait_until(lambda: _running(factory), timeout=60, interval=0.05)
            started = time.monotonic()
            step = 1
            while step * checkpoint_every < preempt_after:  # the training code checkpoints every few seconds
                time.sleep(max(0.0, started + step * checkpoint_every - time.monotonic()))
                bucket.put_object(f"checkpoints/m/r/step-{step}/_COMPLETE", b"")
                marks[f"step-{step}"] = control.clock()["now"]
                step += 1
            time.sleep(max(0.0, started + preempt_after - time.monotonic()))
            marks["preempted"] = control.clock()["now"]
            control.preempt_job(_running(factory) or "")

        trainer = threading.Thread(target=train_and_preempt)
        trainer.start()
        _, outs = host.create(TrainingJobProvider(), props, timeout=120)
        trainer.join()
        creates = [c.at for c in emulator.calls.list("dlc", "CreateJob")]
        resumed = outs["attempts"][1]["checkpoint"].rstrip("/").rsplit("/", 1)[-1]
    return {"to_resubmit": creates[1] - marks["preempted"], "work_lost": marks["preempted"] - marks[resumed]}


def _running(factory: ClientFactory) -> str | None:
    from alibabacloud_pai_dlc20201203 import models as dlc

    jobs = factory.dlc().list_jobs(dlc.ListJobsRequest(status="Running")).body.jobs or []
    return str(jobs[0].job_id) if jobs else None


def measure(repeats: int) -> dict[str, Any]:
    releases = {bake: [release(bake) for _ in range(repeats)] for bake in BAKES}
    print("providers: releases done", file=sys.stderr, flush=True)
    reactions = {interval: Stats.of([reaction(interval) for _ in range(repeats)]) for interval in (1.0, 2.0)}
    print("providers: reactions done", file=sys.stderr, flush=True)
    # Preempt at a different moment each run, so it falls at different points of the poll cycle.
    moments = [7.3 + 0.45 * (index % 4) for index in range(repeats)]
    resubmits = {poll: [resubmission(poll, preempt_after=m) for m in moments] for poll in (1.0, 3.0)}
    print("providers: resubmissions done", file=sys.stderr, flush=True)
    return {"releases": releases, "reactions": reactions, "resubmits": resubmits}


def report(results: dict[str, Any]) -> tuple[str, str, dict[str, float]]:
    rows = []
    worst_ratio = 0.0
    for bake, runs in results["releases"].items():
        total = Stats.of([r["total"] for r in runs])
        ratio = total.median / (3 * bake)
        worst_ratio = max(worst_ratio, ratio)
        calls = {
            k.removeprefix("calls_"): statistics.median(r.get(k, 0) for r in runs)
            for k in runs[0]
            if k.startswith("calls_")
        }
        per_step = ", ".join(f"{name} {count:.2g}" for name, count in sorted(calls.items()))
        rows.append([f"{bake:g} s", f"{3 * bake:g} s", total.text(), f"{ratio:.3f}", per_step])
    shift = table(["bake", "sum of bakes", "total (median, range)", "ratio", "API calls per step"], rows)
    reaction_rows = [
        [f"{interval:g} s", stats.text(), f"{stats.median / interval:.2f}"]
        for interval, stats in results["reactions"].items()
    ]
    shift += "\n\n" + table(["metric interval", "breach to weights restored", "in intervals"], reaction_rows)
    resubmit_rows = []
    worst_resubmit = 0.0
    for poll, runs in results["resubmits"].items():
        to_resubmit = Stats.of([r["to_resubmit"] for r in runs])
        lost = Stats.of([r["work_lost"] for r in runs])
        worst_resubmit = max(worst_resubmit, to_resubmit.median / poll)
        resubmit_rows.append(
            [f"{poll:g} s", to_resubmit.text(), f"{to_resubmit.median / poll:.2f}", "2 s", lost.text()]
        )
    resubmit = table(
        ["poll interval", "preemption to next CreateJob", "in polls", "checkpoint interval", "work lost"], resubmit_rows
    )
    figures = {
        "worst_shift_ratio": worst_ratio,
        "worst_reaction": max(s.median / i for i, s in results["reactions"].items()),
        "worst_resubmit": worst_resubmit,
    }
    return shift, resubmit, figures
