"""Production alarms: ``alarms`` (CloudMonitor thresholds and contacts) and their rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import StrictInt, StrictStr
from pydantic.dataclasses import dataclass

from config_problems import MISSING, Problem, key
from stack_config.fields import MODEL, Number


@dataclass(frozen=True, kw_only=True, config=MODEL)
class AlarmConfig:
    """CloudMonitor alarms on production: serving latency and errors, training GPU use."""

    contact_group: StrictStr | None = key(
        "Name the CloudMonitor contact group alarms notify, e.g. 'ml-oncall'", default=None, min_length=1
    )
    contacts: tuple[StrictStr, ...] = key(
        "List the CloudMonitor contact names in the group (create contacts in the console)", default=()
    )
    period_seconds: StrictInt = key("Set the metric period in seconds, e.g. 60", default=60, ge=60)
    evaluation_periods: StrictInt = key(
        "Set how many periods in a row breach before an alarm fires, e.g. 3", default=3, ge=1
    )
    gpu_utilization_min: Number = key("Set the GPU utilisation (%) below which training is flagged", default=60)
    gpu_sustained_minutes: StrictInt = key(
        "Set for how long GPU use stays low before the training alarm fires, e.g. 15", default=15, ge=5
    )
    training_namespace: StrictStr = key(
        "Give the CloudMonitor namespace of DLC job metrics (unconfirmed; acs_pai_dlc is the usual one)",
        default="acs_pai_dlc",
    )
    gpu_metric: StrictStr = key(
        "Name the DLC GPU-utilisation metric, upper-snake as DLC's metrics are (unconfirmed: checked at pulumi up)",
        default="JOB_GPU_ACCELERATOR_DUTTY_UTIL",  # sic: the name a third-party DLC client queries (audit D10)
        pattern=r"^[A-Z][A-Z0-9_]*$",
        rule="an upper-snake metric name such as 'JOB_GPU_ACCELERATOR_DUTTY_UTIL'",
    )
    training_dimension: StrictStr = key(
        "Give the CloudMonitor dimension of DLC job metrics that names the workspace (unconfirmed)",
        default="workspaceId",
    )


def alarm_problems(raw: Mapping[str, Any]) -> list[Problem]:
    """Production alarms must reach someone."""
    serving = raw.get("serving")
    services = serving.get("services") if isinstance(serving, dict) else None
    alarms = raw.get("alarms")
    if raw.get("environment") != "prod" or not services:
        return []
    if isinstance(alarms, dict) and alarms.get("contactGroup") and alarms.get("contacts"):
        return []
    missing = "contactGroup" if not (isinstance(alarms, dict) and alarms.get("contactGroup")) else "contacts"
    return [
        Problem(
            "pai-mlops:alarms",
            missing,
            "is required in prod: serving alarms must notify someone",
            MISSING,
            "Give contactGroup (e.g. 'ml-oncall') and contacts (CloudMonitor contact names)",
        )
    ]
