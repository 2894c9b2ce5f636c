"""DSW notebooks stop when idle. Reads the DswInstance dynamic resource's ``idle_shutdown_minutes``."""

from __future__ import annotations

from typing import Final

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .common import DSW_INSTANCE, Settings, number, positive_number, render, show

IDLE = Settings(maxIdleMinutes=positive_number(240, "Longest idle time before a notebook must shut down."))


def validate_idle(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != DSW_INSTANCE:
        return
    most = float(IDLE.get(args, "maxIdleMinutes"))
    raw = args.props.get("idle_shutdown_minutes")
    minutes = number(raw)
    fix = f"Set the notebook's idleShutdownMinutes to {show(most)} or less (e.g. 60)"
    if minutes is None or minutes <= 0:
        report(
            f"notebook '{args.name}' never shuts down when idle (idle_shutdown_minutes {render(raw)}) and is billed "
            f"until someone stops it. {fix}.",
            None,
        )
    elif minutes > most:
        report(f"notebook '{args.name}' stays up for {show(minutes)} idle minutes. {fix}.", None)


dsw_idle_shutdown = ResourceValidationPolicy(
    name="dsw-idle-shutdown",
    description="DSW notebooks shut down after a bounded idle time.",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=validate_idle,
    config_schema=IDLE.schema(),
)

POLICIES: Final = [dsw_idle_shutdown]
