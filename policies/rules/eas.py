"""EAS serving: instances kept in production, scale-to-zero in dev, calm scale-in, dedicated
capacity in production, and gated traffic shifts.

Reads the service config of every EAS service (``service_config`` of the EasService dynamic resource, and
``serviceConfig`` of an ``alicloud:pai/service:Service`` kept during the upgrade; both built from plain config, so
known at preview) and the inputs of the EasAutoscaler and TrafficShift dynamic resources.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .common import (
    EAS_AUTOSCALER,
    EAS_SERVICES,
    TRAFFIC_SHIFT,
    MalformedDocument,
    Settings,
    environment_of,
    environments_setting,
    is_list,
    json_object,
    number,
    only_in_environments,
    positive_number,
    render,
    show,
)

SERVING_KEY: Final = "pai-mlops:serving"


def service_config(props: Mapping[str, Any]) -> dict[str, Any]:
    if "service_config" in props:  # EasService
        return json_object(props.get("service_config"), "service_config")
    return json_object(props.get("serviceConfig"), "serviceConfig")


def service_name(config: Mapping[str, Any], fallback: str) -> str:
    metadata = config.get("metadata")
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    return name if isinstance(name, str) and name else fallback


# --- eas-prod-min-instances ---------------------------------------------------------------------

MIN_INSTANCES = Settings(environments=environments_setting("prod"))


def _too_few(value: Any) -> bool:
    count = number(value)
    return count is None or count < 1


def validate_min_instances(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (*EAS_SERVICES, EAS_AUTOSCALER):
        return
    only_in_environments(args, MIN_INSTANCES)
    fix = f"Set minInstances to 1 or more for this service under {SERVING_KEY} in the stack's config"
    if args.resource_type == EAS_AUTOSCALER:
        low = args.props.get("min_instances")
        if _too_few(low):
            name = args.props.get("service_name") or args.name
            report(
                f"EAS autoscaler of '{name}' may scale to {_count(low)} instances (min_instances); "
                f"a production endpoint keeps at least 1. {fix}.",
                None,
            )
        return
    try:
        config = service_config(args.props)
    except MalformedDocument as error:
        report(
            f"EAS service '{args.name}': {error}, so its instance count cannot be checked. Fix the serviceConfig.", None
        )
        return
    name = service_name(config, args.name)
    metadata = config.get("metadata")
    instances = metadata.get("instance") if isinstance(metadata, Mapping) else None
    if _too_few(instances):
        report(
            f"EAS service '{name}' starts with {_count(instances)} instances (serviceConfig metadata.instance); "
            f"a production endpoint keeps at least 1. {fix}.",
            None,
        )
    autoscaler = config.get("autoscaler")
    if isinstance(autoscaler, Mapping) and _too_few(autoscaler.get("min")):
        report(
            f"EAS service '{name}' may scale to {_count(autoscaler.get('min'))} instances "
            f"(serviceConfig autoscaler.min); a production endpoint keeps at least 1. {fix}.",
            None,
        )


def _count(value: Any) -> str:
    return "no" if value is None else render(value)


eas_prod_min_instances = ResourceValidationPolicy(
    name="eas-prod-min-instances",
    description="Production EAS services start with and scale down to at least one instance.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_min_instances,
    config_schema=MIN_INSTANCES.schema(),
)

# --- eas-dev-scale-to-zero ----------------------------------------------------------------------

SCALE_TO_ZERO = Settings(environments=environments_setting("dev"))


def validate_scale_to_zero(args: StackValidationArgs, report: ReportViolation) -> None:
    wanted = SCALE_TO_ZERO.get(args, "environments")
    floors: dict[str, list[float | None]] = {}
    for resource in args.resources:
        if resource.resource_type == EAS_AUTOSCALER:
            floors.setdefault(str(resource.props.get("service_name")), []).append(
                number(resource.props.get("min_instances"))
            )
    for resource in args.resources:
        if resource.resource_type not in EAS_SERVICES or environment_of(resource.urn, resource.props) not in wanted:
            continue
        try:
            name = service_name(service_config(resource.props), resource.name)
        except MalformedDocument:
            continue  # eas-prod-min-instances and the provider report a broken serviceConfig
        fix = f"Give it minInstances: 0 under {SERVING_KEY}, served by an EasAutoscaler with min_instances 0"
        mins = floors.get(name)
        if not mins:
            report(
                f"dev EAS service '{name}' has no EasAutoscaler, so it never scales to zero and is billed while idle. "
                f"{fix}.",
                resource.urn,
            )
        elif all(low is None or low > 0 for low in mins):
            kept = ", ".join("unset" if low is None else show(low) for low in mins)
            report(
                f"dev EAS service '{name}' keeps instances running when idle (autoscaler min_instances {kept}). {fix}.",
                resource.urn,
            )


eas_dev_scale_to_zero = StackValidationPolicy(
    name="eas-dev-scale-to-zero",
    description="Dev EAS services can scale to zero instances when idle.",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=validate_scale_to_zero,
    config_schema=SCALE_TO_ZERO.schema(),
)

# --- eas-scale-in-cooldown ----------------------------------------------------------------------

COOLDOWN = Settings(
    minSeconds={"type": "number", "minimum": 0, "default": 300, "description": "Least scale-in stabilisation."}
)


def validate_cooldown(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != EAS_AUTOSCALER:
        return
    value = args.props.get("scale_in_cooldown_seconds")
    if value is None:
        return  # the autoscaler's own default is 300 s
    least = float(COOLDOWN.get(args, "minSeconds"))
    seconds = number(value)
    if seconds is None or seconds < least:
        name = args.props.get("service_name") or args.name
        report(
            f"EAS autoscaler of '{name}' scales in after {render(value)} s of low load (scale_in_cooldown_seconds); "
            f"under {show(least)} s it removes instances between bursts and adds them back, paying cold starts "
            f"each time. Set scaleInCooldownSeconds to {show(least)} or more for this service under {SERVING_KEY}.",
            None,
        )


eas_scale_in_cooldown = ResourceValidationPolicy(
    name="eas-scale-in-cooldown",
    description="EAS autoscalers wait long enough before scaling in.",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=validate_cooldown,
    config_schema=COOLDOWN.schema(),
)

# --- eas-prod-dedicated-resource-group ----------------------------------------------------------

DEDICATED = Settings(
    environments=environments_setting("prod"),
    resourceGroupPattern={
        "type": "string",
        "default": "^eas-r-[a-z0-9]+$",
        "description": "Regular expression a dedicated EAS resource group id matches.",
    },
    exemptServices={
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "description": "EAS service names allowed on the shared public resource group.",
    },
)


def validate_dedicated(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in EAS_SERVICES:
        return
    only_in_environments(args, DEDICATED)
    try:
        config = service_config(args.props)
    except MalformedDocument:
        return  # eas-prod-min-instances reports a broken serviceConfig
    name = service_name(config, args.name)
    if name in DEDICATED.get(args, "exemptServices"):
        args.not_applicable(f"EAS service '{name}' is exempt (exemptServices)")
    metadata = config.get("metadata")
    group = metadata.get("resource") if isinstance(metadata, Mapping) else None
    pattern = str(DEDICATED.get(args, "resourceGroupPattern"))
    fix = (
        f"Set resourceGroup to a dedicated EAS resource group (eas-r-…) for it under {SERVING_KEY}, "
        f"or list '{name}' in this policy's exemptServices"
    )
    if not group:
        report(
            f"production EAS service '{name}' runs on the shared public resource group, without reserved capacity "
            f"or isolation. {fix}.",
            None,
        )
    elif not re.fullmatch(pattern, str(group)):
        report(
            f"production EAS service '{name}' names resource group {group!r}, which does not match {pattern}. {fix}.",
            None,
        )


eas_prod_dedicated_resource_group = ResourceValidationPolicy(
    name="eas-prod-dedicated-resource-group",
    description="Production EAS services run on a dedicated resource group.",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=validate_dedicated,
    config_schema=DEDICATED.schema(),
)

# --- eas-prod-gated-rollout ---------------------------------------------------------------------

ROLLOUT = Settings(
    environments=environments_setting("prod"),
    maxFirstStep=positive_number(
        10, "Largest share of traffic (percent) the first step may give the new version.", maximum=100
    ),
)
DEFAULT_STEPS: Final = (10, 50, 100)


def rollout_problems(props: Mapping[str, Any], max_first: float) -> list[str]:
    """What is wrong with one traffic shift's steps, bake and gates (empty when it is gated)."""
    problems: list[str] = []
    raw_steps = props.get("steps")
    steps = [number(step) for step in raw_steps] if is_list(raw_steps) else list(map(float, DEFAULT_STEPS))
    if raw_steps is not None and not is_list(raw_steps):
        problems.append(f"has steps {render(raw_steps)}, not a list of percentages")
    elif not steps or any(step is None or not 0 < step <= 100 for step in steps):
        problems.append(f"has steps {render(raw_steps)}; each step is a percentage above 0 and at most 100")
    else:
        known = [step for step in steps if step is not None]
        if any(later <= earlier for earlier, later in itertools.pairwise(known)):
            problems.append(f"has steps {render(raw_steps)}, which do not ascend")
        if known[0] > max_first:
            problems.append(f"starts at {show(known[0])}% of traffic, more than {show(max_first)}%")
        if known[-1] != 100:
            problems.append(f"ends at {show(known[-1])}% of traffic instead of 100%")
    bake = number(props.get("bake_seconds"))
    if bake is None:
        problems.append(f"has no bake time (bake_seconds {render(props.get('bake_seconds'))})")
    elif bake <= 0:
        problems.append(f"bakes {show(bake)} seconds per step; each step must bake for some time")
    latency = number(props.get("max_p95_latency_ms"))
    if latency is None or latency <= 0:
        problems.append("has no latency gate (max_p95_latency_ms)")
    error_rate = number(props.get("max_error_rate"))
    if error_rate is None or not 0 < error_rate < 1:
        problems.append("has no error-rate gate (max_error_rate, a ratio between 0 and 1)")
    return problems


def validate_rollout(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != TRAFFIC_SHIFT:
        return
    only_in_environments(args, ROLLOUT)
    group = args.props.get("group") or args.name
    max_first = float(ROLLOUT.get(args, "maxFirstStep"))
    for problem in rollout_problems(args.props, max_first):
        report(
            f"traffic shift of EAS group '{group}' {problem}. Set rollout under {SERVING_KEY} to steps that ascend "
            f"from {show(max_first)}% or less to 100%, a bakeSeconds above 0, maxP95LatencyMs and maxErrorRate.",
            None,
        )


eas_prod_gated_rollout = ResourceValidationPolicy(
    name="eas-prod-gated-rollout",
    description="Production traffic shifts move in ascending, baked steps behind latency and error-rate gates.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_rollout,
    config_schema=ROLLOUT.schema(),
)

POLICIES: Final = [
    eas_prod_min_instances,
    eas_dev_scale_to_zero,
    eas_scale_in_cooldown,
    eas_prod_dedicated_resource_group,
    eas_prod_gated_rollout,
]
