"""DLC training jobs: spot jobs checkpoint often, long jobs checkpoint at all.

Reads the TrainingJob dynamic resource's inputs ``spot``, ``checkpoint_interval_minutes`` and
``max_runtime_minutes`` (no ``max_runtime_minutes`` means the job may run without limit).
"""

from __future__ import annotations

from typing import Any, Final

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .common import TRAINING_JOB, Settings, number, positive_number, render, show

TRAINING_KEY: Final = "the training job's checkpointIntervalMinutes"

SPOT = Settings(maxIntervalMinutes=positive_number(20, "Longest time a spot job may run between checkpoints."))


def _interval(args: ResourceValidationArgs) -> tuple[Any, float | None]:
    raw = args.props.get("checkpoint_interval_minutes")
    value = number(raw)
    return raw, value if value is not None and value > 0 else None


def validate_spot(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != TRAINING_JOB or args.props.get("spot") is not True:
        return
    most = float(SPOT.get(args, "maxIntervalMinutes"))
    raw, interval = _interval(args)
    if interval is None:
        report(
            f"spot training job '{args.name}' does not checkpoint (checkpoint_interval_minutes {render(raw)}); "
            f"a reclaimed spot instance loses all its work. "
            f"Set {TRAINING_KEY} to {show(most)} or less, or turn spot off.",
            None,
        )
    elif interval > most:
        report(
            f"spot training job '{args.name}' checkpoints every {show(interval)} minutes; a reclaimed spot instance "
            f"loses up to that much work. Set {TRAINING_KEY} to {show(most)} or less.",
            None,
        )


dlc_spot_requires_checkpoint = ResourceValidationPolicy(
    name="dlc-spot-requires-checkpoint",
    description="Spot DLC training jobs checkpoint to OSS at least every 20 minutes (configurable).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_spot,
    config_schema=SPOT.schema(),
)

LONG = Settings(longJobMinutes=positive_number(30, "Jobs allowed to run longer than this must checkpoint."))


def validate_long(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != TRAINING_JOB:
        return
    longest = float(LONG.get(args, "longJobMinutes"))
    runtime = number(args.props.get("max_runtime_minutes"))
    if runtime is not None and runtime <= longest:
        return
    raw, interval = _interval(args)
    if interval is None:
        allowed = "without a time limit" if runtime is None else f"for up to {show(runtime)} minutes"
        report(
            f"training job '{args.name}' may run {allowed} but does not checkpoint (checkpoint_interval_minutes "
            f"{render(raw)}); a failure near the end repeats the whole run. Set {TRAINING_KEY}, or a max runtime of "
            f"{show(longest)} minutes or less.",
            None,
        )


dlc_long_job_checkpoint = ResourceValidationPolicy(
    name="dlc-long-job-checkpoint",
    description="DLC training jobs allowed to run over 30 minutes (configurable) checkpoint.",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=validate_long,
    config_schema=LONG.schema(),
)

POLICIES: Final = [dlc_spot_requires_checkpoint, dlc_long_job_checkpoint]
