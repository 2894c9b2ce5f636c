"""The promotion gate: a version copied from another stack may take traffic only after it was released there.

``promotion-gate`` reads a ``ModelPromotion``'s gate inputs, which the program fills from the source stack's own
outputs (``pulumi.StackReference``; the offline plan answers from the source stack's file or from recorded
outputs): ``source_stack``, ``model``, ``version``, ``live`` (whether this stack makes the version live),
``release_history`` (the source's ``releaseHistory`` of that model: the TrafficShift events), ``source_artifact``
(the source's ``modelArtifacts`` entry: uri, commit, origin, checksums), ``commit`` (the commit this stack expects)
and ``override`` (a reviewed bypass: reason, approvedBy, ticket).

A live promoted version passes when the source's history has a step to 100% for that version whose verdict is
``pass`` and nothing after it (a breach, an inconclusive bake, a revert, a hand change) took it back; when the
source recorded the version's commit and it is the one expected here; and when a version the source itself
promoted comes with the checksums its copy verified (one it trained or holds otherwise is verified against the
bytes it holds instead). The copy then
checks every object against those checksums before any traffic moves. A well-formed override turns the gate off
for that version; the program records it in the model registry and the ``promotions`` output.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .common import is_list

MODEL_PROMOTION: Final = "pulumi-python:dynamic/pai:ModelPromotion"
RELEASED_PHASES: Final = ("step", "resume")
TAKEN_BACK: Final = ("breach", "inconclusive", "changed_by_someone_else")
OVERRIDE_FIELDS: Final = ("reason", "approvedBy", "ticket")


def released(history: Any, version: str) -> bool:
    """Whether ``history`` shows ``version`` reaching 100% with a passing bake, not taken back since."""
    events = [e for e in history if isinstance(e, Mapping) and e.get("to") == version] if is_list(history) else []
    last_pass = max(
        (
            i
            for i, e in enumerate(events)
            if e.get("phase") in RELEASED_PHASES and e.get("step") in (100, 100.0) and e.get("verdict") == "pass"
        ),
        default=None,
    )
    if last_pass is None:
        return False
    later = events[last_pass + 1 :]
    return not any(e.get("verdict") in TAKEN_BACK or e.get("phase") in ("revert", "stopped") for e in later)


def valid_override(override: Any) -> bool:
    return isinstance(override, Mapping) and all(
        isinstance(override.get(name), str) and override.get(name, "").strip() for name in OVERRIDE_FIELDS
    )


def gate_problems(props: Mapping[str, Any]) -> list[str]:
    """What is missing before this promoted version may be live (empty: it may)."""
    if props.get("live") is not True or valid_override(props.get("override")):
        return []
    source, model, version = props.get("source_stack"), props.get("model"), props.get("version")
    artifact = props.get("source_artifact")
    artifact = artifact if isinstance(artifact, Mapping) else {}
    missing: list[str] = []
    if not artifact:
        missing.append(f"stack '{source}' exports no artifact of {model} {version} (its modelArtifacts output)")
    if not released(props.get("release_history"), str(version)):
        missing.append(
            f"stack '{source}' has no release of {model} {version} to 100% without a breach in its releaseHistory"
        )
    recorded, expected = artifact.get("commit"), props.get("commit")
    if artifact and expected and recorded != expected:
        missing.append(f"stack '{source}' built {version} from commit {recorded!r}, this stack expects {expected!r}")
    checksums = artifact.get("checksums")
    if artifact.get("origin") == "promoted" and not artifact.get("planned") and not checksums:
        missing.append(f"stack '{source}' recorded no checksums of {model} {version}, so the copy cannot be verified")
    return missing


def validate_gate(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != MODEL_PROMOTION:
        return
    missing = gate_problems(args.props)
    if missing:
        props = args.props
        report(
            f"{props.get('model')} {props.get('version')} is promoted from stack '{props.get('source_stack')}' and "
            f"made live here, but {'; '.join(missing)}. Release it in '{props.get('source_stack')}' first (its "
            "pulumi up must finish the traffic shift), or set live back to a released version; in an emergency, "
            "add a reviewed override {reason, approvedBy, ticket} to the version's promoted entry.",
            None,
        )


promotion_gate = ResourceValidationPolicy(
    name="promotion-gate",
    description="A promoted model version is live only after its source stack released it and recorded its checksums.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_gate,
)

POLICIES: Final[Sequence[ResourceValidationPolicy]] = [promotion_gate]
