"""Compare new data with a reference profile and decide whether it has drifted.

Every feature of the profile gets its PSI and its KS statistic and p-value; the decision reads one of them
(``method``): the data has drifted when the largest ``psi`` (or ``ks`` statistic) over the features reaches
``threshold``. What is refused, with a :class:`DriftError`, rather than guessed:

- a feature of the profile missing from the data: a schema change is not a distribution shift, and ignoring the
  column would hide it; no run starts, and the report says which feature is missing;
- a feature with no finite value (all empty or NaN), or no rows at all;
- a value that is not a number.

Empty cells and NaN are dropped per feature and counted in the report (``dropped``); columns the profile does not
know are listed (``unprofiled``) and not compared.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, Literal

from drift_check.profile import FeatureProfile
from drift_check.stats import finite, ks, proportions, psi

REPORT_FORMAT: Final = "pai-mlops/drift-report"
METHODS: Final = ("psi", "ks")
Method = Literal["psi", "ks"]


class DriftError(ValueError):
    """The data cannot be compared with the profile; the message names the feature and the fix."""


def read_columns(texts: Iterable[str], features: Sequence[str]) -> tuple[dict[str, list[float]], list[str]]:
    """The profiled features' values from CSV texts (a header row each), and the columns no feature profiles.

    An empty cell or ``nan`` reads as NaN (dropped later and counted); any other non-number is an error."""
    columns: dict[str, list[float]] = {name: [] for name in features}
    extra: set[str] = set()
    for index, text in enumerate(texts):
        reader = csv.DictReader(io.StringIO(text))
        header = list(reader.fieldnames or [])
        missing = [name for name in features if name not in header]
        if missing:
            raise DriftError(
                f"file {index}: feature(s) {', '.join(missing)} of the profile are not in the data "
                f"(columns: {', '.join(header) or 'none'}); a schema change needs a new profile, not a retraining"
            )
        extra.update(name for name in header if name not in columns)
        for line, row in enumerate(reader, start=2):
            for name in features:
                cell = (row.get(name) or "").strip()
                try:
                    columns[name].append(float(cell) if cell else math.nan)
                except ValueError:
                    raise DriftError(f"file {index} line {line}: feature {name!r} is not a number: {cell!r}") from None
    return columns, sorted(extra)


def compare(
    profile: Mapping[str, FeatureProfile],
    columns: Mapping[str, Sequence[float]],
    *,
    method: Method,
    threshold: float,
) -> dict[str, Any]:
    """The report: per-feature figures, the score (the largest figure of ``method``), and the decision."""
    if method not in METHODS:
        raise DriftError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    if not math.isfinite(threshold) or threshold <= 0:
        raise DriftError(f"threshold must be a positive number; got {threshold!r}")
    missing = [name for name in profile if name not in columns]
    if missing:
        raise DriftError(f"feature(s) {', '.join(missing)} of the profile are not in the data")
    rows = max(len(columns[name]) for name in profile)
    if rows == 0:
        raise DriftError("the data has no rows: land the batch before writing its marker")
    figures: dict[str, dict[str, Any]] = {}
    for name, reference in profile.items():
        values, dropped = finite(columns[name])
        if values.size == 0:
            raise DriftError(f"feature {name!r} has no finite value in the data ({dropped} empty or NaN)")
        statistic, p_value = ks(reference.sample, values)
        figures[name] = {
            "psi": psi(reference.proportions, proportions(values, reference.edges)),
            "ks": statistic,
            "ksPValue": p_value,
            "rows": int(values.size),
            "dropped": dropped,
        }
    feature = max(figures, key=lambda name: (figures[name][method], name))
    score = float(figures[feature][method])
    return {
        "format": REPORT_FORMAT,
        "version": 1,
        "method": method,
        "threshold": threshold,
        "score": score,
        "feature": feature,
        "drift": score >= threshold,
        "rows": rows,
        "features": figures,
    }
