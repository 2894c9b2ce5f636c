"""``trigger.drift`` and ``retrainedBy``: what each refuses, in the exact words a user reads at preview."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from stack_config import parse_stack_config
from tests.components.test_pipeline import RETRAINING, raw_with
from tests.stack_config.test_stack import problems_of

LAYER = "acs:fc:cn-hangzhou:1234567890:layers/drift-check/versions/1"
MARKER = "data/transactions/_SUCCESS"
WHERE = "pai-mlops:pipeline.retraining[0].trigger.drift"
LAYER_RULE = "must be build, or an FC layer version ARN acs:fc:<region>:<account>:layers/<name>/versions/<n>"
LAYER_FIX = (
    "Write build to have the stack publish numpy, scipy and oss2 as an FC layer from "
    "images/drift-check/requirements.txt (run `make layer` before `pulumi up`), or give the ARN of a layer you "
    "built, e.g. 'acs:fc:cn-hangzhou:1234567890:layers/drift-check/versions/1'"
)


def _raw(trigger: dict[str, Any]) -> dict[str, Any]:
    return raw_with({"provider": "1234567890", "retraining": [{**RETRAINING, "trigger": trigger}]})


def test_drift_with_a_marker_and_a_layer_parses_with_psis_conventional_threshold() -> None:
    config = parse_stack_config(_raw({"dataMarker": MARKER, "drift": {"enabled": True, "layer": LAYER}}), "prod")

    drift = config.pipeline.retraining[0].trigger.drift  # type: ignore[union-attr]
    assert drift is not None
    assert (drift.method, drift.threshold, drift.limit, drift.profile, drift.layer) == ("psi", None, 0.25, None, LAYER)
    assert drift.builds_layer is False


def test_drift_switched_on_with_config_alone_builds_its_layer() -> None:
    config = parse_stack_config(_raw({"dataMarker": MARKER, "drift": {"enabled": True}}), "prod")

    drift = config.pipeline.retraining[0].trigger.drift  # type: ignore[union-attr]
    assert drift is not None
    assert (drift.layer, drift.builds_layer) == ("build", True)
    explicit = parse_stack_config(_raw({"dataMarker": MARKER, "drift": {"enabled": True, "layer": "build"}}), "prod")
    assert explicit.pipeline.retraining[0].trigger.drift == drift  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        (
            {"schedule": "0 0 3 * * *", "drift": {"enabled": True, "layer": LAYER}},
            [
                f"{WHERE} [enabled]: checks new data, and this trigger has no dataMarker; got True. Give "
                "trigger.dataMarker (e.g. 'data/transactions/_SUCCESS'), or write enabled: false."
            ],
        ),
        (
            {"dataMarker": MARKER, "drift": {"enabled": True, "method": "ks", "layer": LAYER}},
            [f"{WHERE} [threshold]: has no conventional default for ks; got nothing. Set the KS statistic, e.g. 0.1."],
        ),
        (
            {"dataMarker": MARKER, "drift": {"enabled": True, "layer": LAYER, "method": "mean"}},
            [
                f"{WHERE} [method]: must be one of 'psi' or 'ks'; got 'mean'. Write psi or ks: the figure the "
                "decision reads."
            ],
        ),
        (
            {"dataMarker": MARKER, "drift": {"enabled": True, "layer": LAYER, "threshold": 0}},
            [
                f"{WHERE} [threshold]: must be greater than 0; got 0. Set the largest per-feature figure that is "
                "not drift, e.g. 0.25 for psi (ks has no default)."
            ],
        ),
        (
            {"dataMarker": MARKER, "drift": {"enabled": True, "layer": LAYER, "threshold": "0.25"}},
            [
                f"{WHERE} [threshold]: must be a number; got '0.25'. Set the largest per-feature figure that is "
                "not drift, e.g. 0.25 for psi (ks has no default)."
            ],
        ),
        (
            {"dataMarker": MARKER, "drift": {"enabled": True, "layer": "my-layer"}},
            [f"{WHERE} [layer]: {LAYER_RULE}; got 'my-layer'. {LAYER_FIX}."],
        ),
        (  # build is the one word: a build that is not exactly it is neither
            {"dataMarker": MARKER, "drift": {"enabled": True, "layer": "Build"}},
            [f"{WHERE} [layer]: {LAYER_RULE}; got 'Build'. {LAYER_FIX}."],
        ),
        (
            {"dataMarker": MARKER, "drift": {"enabled": True, "layer": None}},
            [f"{WHERE} [layer]: must be a string; got None. {LAYER_FIX}."],
        ),
        (
            {"dataMarker": MARKER, "drift": {"enabled": True, "layer": LAYER, "profile": "checkpoints/p.json"}},
            [
                f"{WHERE} [profile]: must be an object key under models/ or data/ ending in .json; got "
                "'checkpoints/p.json'. Give the reference profile's object key, e.g. "
                "'models/fraud_scorer/v6/drift-profile.json'; leave it out for the live version's "
                "models/<model>/<live>/drift-profile.json."
            ],
        ),
    ],
)
def test_drift_config_problems(trigger: dict[str, Any], expected: list[str]) -> None:
    assert problems_of(_raw(trigger)) == expected


def test_drift_switched_off_requires_nothing_else() -> None:
    config = parse_stack_config(_raw({"schedule": "0 0 3 * * *", "drift": {"enabled": False}}), "prod")

    assert config.pipeline.retraining[0].trigger.drift.enabled is False  # type: ignore[union-attr]


def _with_lineage(lineage: dict[str, Any]) -> dict[str, Any]:
    raw = _raw({"dataMarker": MARKER})
    raw = copy.deepcopy(raw)
    raw["serving"]["services"][0]["retrainedBy"] = lineage
    return raw


@pytest.mark.parametrize(
    ("lineage", "expected"),
    [
        (
            {"v9": {"trigger": "schedule"}},
            [
                "pai-mlops:serving.services[0] [retrainedBy]: names a version that is not deployed; got 'v9'. "
                "Add it to versions."
            ],
        ),
        (
            {"v7": {"trigger": "drift"}},
            [
                "pai-mlops:serving.services[0].retrainedBy.v7 [score]: a drift run records its method and score; "
                "got nothing. Copy drift_method and drift_score from the run's parameters."
            ],
        ),
        (
            {"v7": {"trigger": "cron"}},
            [
                "pai-mlops:serving.services[0].retrainedBy.v7 [trigger]: must be one of 'drift', 'data', 'schedule' "
                "or 'manual'; got 'cron'. Write drift, data, schedule or manual (the run's 'trigger' parameter)."
            ],
        ),
    ],
)
def test_retrained_by_problems(lineage: dict[str, Any], expected: list[str]) -> None:
    assert problems_of(_with_lineage(lineage)) == expected


def test_a_drift_runs_lineage_parses() -> None:
    config = parse_stack_config(_with_lineage({"v7": {"trigger": "drift", "method": "psi", "score": 0.31}}), "prod")

    lineage = config.serving.services[0].retrained_by["v7"]
    assert (lineage.trigger, lineage.method, lineage.score) == ("drift", "psi", 0.31)
