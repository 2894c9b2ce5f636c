"""The reference profile: per-feature statistics of the data a model was trained on.

The training run (or the preprocessing step) calls :func:`build_profile` on the columns it trained with and saves
:func:`dumps` of it next to the model, as ``models/<model>/<version>/drift-profile.json``::

    {"format": "pai-mlops/drift-profile", "version": 1,
     "features": {"amount": {"count": 5000, "dropped": 0,
                             "edges": [12.5, 30.1, ...],        # inner bin edges, strictly increasing
                             "proportions": [0.1, 0.1, ...],    # len(edges) + 1 shares, summing to 1
                             "sample": [17.2, 4.9, ...]}}}      # up to sample_size finite values, for KS

:func:`load_profile` refuses anything else with a :class:`ProfileError` naming the feature and the key.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from drift_check.stats import DEFAULT_BINS, Values, finite, proportions, quantile_edges

FORMAT: Final = "pai-mlops/drift-profile"
VERSION: Final = 1
DEFAULT_SAMPLE: Final = 1000
SUM_TOLERANCE: Final = 1e-6


class ProfileError(ValueError):
    """The profile cannot be used: it names where (feature, key) and what is wrong."""


@dataclass(frozen=True)
class FeatureProfile:
    count: int
    dropped: int
    edges: Values
    proportions: Values
    sample: Values


def build_profile(
    columns: Mapping[str, Sequence[float]],
    *,
    bins: int = DEFAULT_BINS,
    sample_size: int = DEFAULT_SAMPLE,
    seed: int = 0,
) -> dict[str, Any]:
    """The profile of ``columns`` (feature name → its values): NaN and infinite values are dropped and counted; the
    KS sample is ``sample_size`` values drawn without replacement with ``seed`` (all values when there are fewer)."""
    if not columns:
        raise ProfileError("no features: give at least one column")
    rng = np.random.default_rng(seed)
    features: dict[str, Any] = {}
    for name, raw in columns.items():
        values, dropped = finite(raw)
        if values.size == 0:
            raise ProfileError(f"feature {name!r}: no finite values to profile ({dropped} dropped)")
        edges = quantile_edges(values, bins)
        sample = values if values.size <= sample_size else rng.choice(values, size=sample_size, replace=False)
        features[name] = {
            "count": int(values.size),
            "dropped": dropped,
            "edges": edges.tolist(),
            "proportions": proportions(values, edges).tolist(),
            "sample": np.sort(sample).tolist(),
        }
    return {"format": FORMAT, "version": VERSION, "features": features}


def dumps(profile: Mapping[str, Any]) -> str:
    return json.dumps(profile, sort_keys=True)


def _numbers(name: str, key: str, value: Any) -> list[float]:
    if not isinstance(value, list) or not all(
        isinstance(x, int | float) and not isinstance(x, bool)
        for x in value  # pyright: ignore[reportUnknownVariableType]
    ):
        raise ProfileError(f"feature {name!r}: {key} must be a list of numbers; got {json.dumps(value)[:80]}")
    numbers = [float(x) for x in value]  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
    if not all(math.isfinite(x) for x in numbers):
        raise ProfileError(f"feature {name!r}: {key} holds a value that is not finite")
    return numbers


def _feature(name: str, raw: Any) -> FeatureProfile:
    if not isinstance(raw, dict):
        raise ProfileError(f"feature {name!r}: must be an object with count, edges, proportions, sample")
    edges = _numbers(name, "edges", raw.get("edges"))
    shares = _numbers(name, "proportions", raw.get("proportions"))
    sample = _numbers(name, "sample", raw.get("sample"))
    if any(b <= a for a, b in itertools.pairwise(edges)):
        raise ProfileError(f"feature {name!r}: edges must be strictly increasing")
    if len(shares) != len(edges) + 1:
        raise ProfileError(
            f"feature {name!r}: proportions has {len(shares)} values; {len(edges)} edges make {len(edges) + 1} bins"
        )
    if any(x < 0 for x in shares) or abs(sum(shares) - 1.0) > SUM_TOLERANCE:
        raise ProfileError(f"feature {name!r}: proportions must be non-negative and sum to 1; got sum {sum(shares)}")
    if not sample:
        raise ProfileError(f"feature {name!r}: sample is empty; KS needs the reference's values")
    count, dropped = raw.get("count"), raw.get("dropped", 0)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ProfileError(f"feature {name!r}: count must be a positive integer; got {count!r}")
    if not isinstance(dropped, int) or isinstance(dropped, bool) or dropped < 0:
        raise ProfileError(f"feature {name!r}: dropped must be a non-negative integer; got {dropped!r}")
    return FeatureProfile(count, dropped, np.asarray(edges), np.asarray(shares), np.asarray(sample))


def load_profile(text: str) -> dict[str, FeatureProfile]:
    """The features of a saved profile, validated."""
    try:
        raw = json.loads(text)
    except ValueError as error:
        raise ProfileError(f"the profile is not JSON: {error}") from error
    if not isinstance(raw, dict) or raw.get("format") != FORMAT or raw.get("version") != VERSION:
        raise ProfileError(f"the profile must have format {FORMAT!r} and version {VERSION}")
    features = raw.get("features")
    if not isinstance(features, dict) or not features:
        raise ProfileError("the profile has no features")
    return {str(name): _feature(str(name), value) for name, value in features.items()}  # pyright: ignore[reportUnknownVariableType]
