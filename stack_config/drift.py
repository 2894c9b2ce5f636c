"""Drift-triggered retraining: ``trigger.drift`` (when new data starts a run) and a run's lineage in the registry.

The check itself is images/drift-check (docs/retraining.md, "Drift-triggered retraining"); the trigger function runs
it on a ``dataMarker`` event, so drift needs the marker, and the function needs numpy and scipy through an FC layer
(``layer: build``, the default: the stack publishes it from ``make layer``'s zip; or a layer version ARN).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

from pydantic import StrictBool, StrictStr
from pydantic.dataclasses import dataclass

from config_problems import MISSING, Problem, key
from stack_config.fields import MODEL, Number

# PSI's usual reading (Siddiqi, "Credit Risk Scorecards", 2006; Yurdakul, "Statistical Properties of Population
# Stability Index", 2018): below 0.1 no significant change, 0.1 to 0.25 a moderate one, above 0.25 a significant one.
PSI_DEFAULT_THRESHOLD: Final = 0.25
DriftMethod = Literal["psi", "ks"]
Trigger = Literal["drift", "data", "schedule", "manual"]
LAYER_BUILD: Final = "build"  # trigger.drift.layer: the stack builds the layer (tools/build_layer.py's zip)


@dataclass(frozen=True, kw_only=True, config=MODEL)
class DriftConfig:
    """Start a data-triggered run only when the new data has drifted from the live version's training data."""

    enabled: StrictBool = key("Write true to check drift before a data-triggered run, false to start every time")
    method: DriftMethod = key("Write psi or ks: the figure the decision reads", default="psi")
    threshold: Number | None = key(
        "Set the largest per-feature figure that is not drift, e.g. 0.25 for psi (ks has no default)",
        default=None,
        gt=0,
    )
    profile: StrictStr | None = key(
        "Give the reference profile's object key, e.g. 'models/fraud_scorer/v6/drift-profile.json'; leave it out "
        "for the live version's models/<model>/<live>/drift-profile.json",
        default=None,
        rule="an object key under models/ or data/ ending in .json",
        pattern=r"^(models|data)/([A-Za-z0-9_.=-]+/)*[A-Za-z0-9_.=-]+\.json$",
    )
    layer: StrictStr = key(
        "Write build to have the stack publish numpy, scipy and oss2 as an FC layer from "
        "images/drift-check/requirements.txt (run `make layer` before `pulumi up`), or give the ARN of a layer you "
        "built, e.g. 'acs:fc:cn-hangzhou:1234567890:layers/drift-check/versions/1'",
        default=LAYER_BUILD,
        rule="build, or an FC layer version ARN acs:fc:<region>:<account>:layers/<name>/versions/<n>",
        pattern=r"^(build|acs:fc:[a-z0-9-]+:[0-9a-z]+:layers/[A-Za-z0-9_-]+/versions/[1-9][0-9]*)$",
    )

    @property
    def builds_layer(self) -> bool:
        """Whether the stack publishes the check's layer itself (components/drift_layer.py)."""
        return self.layer == LAYER_BUILD

    @property
    def limit(self) -> float:
        """The threshold in force (psi's conventional 0.25 when none is given; validation requires one for ks)."""
        return self.threshold if self.threshold is not None else PSI_DEFAULT_THRESHOLD


@dataclass(frozen=True, kw_only=True, config=MODEL)
class RetrainedByConfig:
    """What started the pipeline run that trained a version (copied from the run's parameters, docs/retraining.md)."""

    trigger: Trigger = key("Write drift, data, schedule or manual (the run's 'trigger' parameter)")
    method: DriftMethod | None = key("Write psi or ks (the run's 'drift_method') for a drift run", default=None)
    score: Number | None = key("Give the run's 'drift_score', e.g. 0.31, for a drift run", default=None, ge=0)


def drift_problems(trigger: Mapping[str, Any], where: str) -> list[Problem]:
    """The rules across ``trigger.drift``'s keys and the trigger's."""
    drift = trigger.get("drift")
    if not isinstance(drift, dict) or drift.get("enabled") is not True:
        return []
    at = f"{where}.drift"
    problems: list[Problem] = []
    if not trigger.get("dataMarker"):
        problems.append(
            Problem(
                at,
                "enabled",
                "checks new data, and this trigger has no dataMarker",
                True,
                "Give trigger.dataMarker (e.g. 'data/transactions/_SUCCESS'), or write enabled: false",
            )
        )
    if drift.get("method") == "ks" and drift.get("threshold") is None:
        problems.append(
            Problem(at, "threshold", "has no conventional default for ks", MISSING, "Set the KS statistic, e.g. 0.1")
        )
    return problems


def retrained_by_problems(svc: Mapping[str, Any], where: str) -> list[Problem]:
    """Each ``retrainedBy`` entry names a deployed version, and a drift run gives its figures."""
    lineage = svc.get("retrainedBy")
    versions = svc.get("versions") if isinstance(svc.get("versions"), list) else []
    problems: list[Problem] = []
    for version, entry in (lineage or {}).items() if isinstance(lineage, dict) else []:
        if version not in versions:
            problems.append(
                Problem(where, "retrainedBy", "names a version that is not deployed", version, "Add it to versions")
            )
        drift = isinstance(entry, dict) and entry.get("trigger") == "drift"
        if drift and (entry.get("method") is None or entry.get("score") is None):
            problems.append(
                Problem(
                    f"{where}.retrainedBy.{version}",
                    "score",
                    "a drift run records its method and score",
                    MISSING,
                    "Copy drift_method and drift_score from the run's parameters",
                )
            )
    return problems
