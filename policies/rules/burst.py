"""EAS burst capacity within a declared cost ceiling: ``eas-burst-ceiling``.

A service with ``metadata.resource_burstable`` true runs on a dedicated resource group and, when a scale-out finds
no room there, starts the new instance as a pay-as-you-go public instance; scale-in removes public instances first
(EAS elastic resource pool, https://www.alibabacloud.com/help/en/pai/elastic-resource-pool). EAS has no service
config key that caps the public instances alone (none in the service parameters, shared/reference/eas-api.md §3;
the SDK only reports them after the fact, ``Service.InstanceCountInResource.Public`` in alibabacloud_eas20210701
``models/_service.py``). So the bound this rule can trust is the service's own instance ceiling: when the dedicated
group is full (other services on it, a node down), every instance of the service may be public. A bursting
service's burst ceiling is therefore the largest of its ``EasAutoscaler`` ``max_instances``, its cron scaler
``target_size``s, an in-config ``autoscaler.max`` and its ``metadata.instance``; a value that is not a finite number
counts as unbounded. The rule holds each service to ``maxInstancesPerService`` and the stack to
``maxInstancesTotal``; both default to 0, so a policy config without them allows no bursting at all.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

from pulumi_policy import EnforcementLevel, ReportViolation, StackValidationArgs, StackValidationPolicy

from .common import (
    EAS_AUTOSCALER,
    EAS_SERVICES,
    MalformedDocument,
    Settings,
    environment_of,
    environments_setting,
    is_list,
    render,
    show,
)
from .eas import SERVING_KEY, service_config, service_name

CEILING_DOC: Final = "docs/burst.md"


def _ceiling(description: str) -> dict[str, Any]:
    return {"type": "integer", "minimum": 0, "default": 0, "description": description}


BURST = Settings(
    environments=environments_setting("prod"),
    maxInstancesPerService=_ceiling("Most pay-as-you-go public instances one bursting EAS service may reach."),
    maxInstancesTotal=_ceiling("Most pay-as-you-go public instances all bursting EAS services of the stack may reach."),
)


def _finite(value: Any) -> float | None:
    """A JSON number that is finite (NaN and infinities are not); None for anything else, booleans included."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _bounds(config: Mapping[str, Any], scalers: Sequence[Mapping[str, Any]]) -> list[tuple[str, Any]]:
    """Every instance count the service may reach, with where it comes from."""
    metadata = config.get("metadata")
    found: list[tuple[str, Any]] = []
    if isinstance(metadata, Mapping) and "instance" in metadata:
        found.append(("serviceConfig metadata.instance", metadata.get("instance")))
    in_config = config.get("autoscaler")
    if isinstance(in_config, Mapping) and "max" in in_config:
        found.append(("serviceConfig autoscaler.max", in_config.get("max")))
    for scaler in scalers:
        found.append(("EasAutoscaler max_instances", scaler.get("max_instances")))
        cron = scaler.get("cron")
        for job in cron if is_list(cron) else []:
            if isinstance(job, Mapping):
                found.append((f"cron target_size of {render(job.get('name'))}", job.get("target_size")))
    return found


def _text(value: Any) -> str:
    """A value for a message; NaN and infinities as Python writes them (``render`` takes only finite numbers)."""
    return str(value) if isinstance(value, float) and not math.isfinite(value) else render(value)


def bursts(config: Mapping[str, Any]) -> bool:
    """Whether the config turns the elastic pool on; any value but false or absent counts (the less forgiving)."""
    metadata = config.get("metadata")
    flag = metadata.get("resource_burstable") if isinstance(metadata, Mapping) else None
    return flag is not None and flag is not False


def validate_burst_ceiling(args: StackValidationArgs, report: ReportViolation) -> None:
    wanted: Sequence[str] = BURST.get(args, "environments")
    per_service = float(BURST.get(args, "maxInstancesPerService"))
    total_ceiling = float(BURST.get(args, "maxInstancesTotal"))
    scalers: dict[str, list[Mapping[str, Any]]] = {}
    for resource in args.resources:
        if resource.resource_type == EAS_AUTOSCALER:
            scalers.setdefault(str(resource.props.get("service_name")), []).append(resource.props)
    total, counted, first = 0.0, list[str](), None
    fix = (
        f"Lower maxInstances (and cron targetSize) of this model under {SERVING_KEY}, or remove its burst, or raise "
        f"the ceiling in policies/config/<stack>.json in a reviewed change ({CEILING_DOC})"
    )
    for resource in args.resources:
        if resource.resource_type not in EAS_SERVICES or environment_of(resource.urn, resource.props) not in wanted:
            continue
        try:
            config = service_config(resource.props)
        except MalformedDocument:
            continue  # eas-prod-min-instances and the provider report a broken serviceConfig
        if not bursts(config):
            continue
        name = service_name(config, resource.name)
        first = first or resource.urn
        bounds = _bounds(config, scalers.get(name, [])) or [("serviceConfig metadata.instance", None)]
        unbounded = [(where, value) for where, value in bounds if _finite(value) is None]
        if unbounded:
            where, value = unbounded[0]
            report(
                f"bursting EAS service '{name}' has no countable instance ceiling ({where} is {_text(value)}, not a "
                f"finite number), so its pay-as-you-go burst is unbounded. {fix}.",
                resource.urn,
            )
            continue
        where, worst = max(((w, _finite(v) or 0.0) for w, v in bounds), key=lambda item: item[1])
        total += worst
        counted.append(f"{name} {show(worst)}")
        if worst > per_service:
            report(
                f"bursting EAS service '{name}' may run {show(worst)} pay-as-you-go public instances ({where}; when "
                f"its dedicated group is full every instance may be public), over this stack's ceiling of "
                f"{show(per_service)} per service (maxInstancesPerService). {fix}.",
                resource.urn,
            )
    if first is not None and total > total_ceiling:
        report(
            f"bursting EAS services may run {show(total)} pay-as-you-go public instances together "
            f"({', '.join(counted)}), over this stack's ceiling of {show(total_ceiling)} (maxInstancesTotal). {fix}.",
            first,
        )


eas_burst_ceiling = StackValidationPolicy(
    name="eas-burst-ceiling",
    description="EAS services that burst into pay-as-you-go public instances stay within the stack's ceiling.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_burst_ceiling,
    config_schema=BURST.schema(),
)

POLICIES: Final = [eas_burst_ceiling]
