"""PSI and KS for one feature.

PSI (population stability index) over the reference's bins: ``sum((a - e) * ln(a / e))`` where ``e`` is the reference
proportion of a bin and ``a`` the new data's. Bins come from the reference's quantiles (:func:`quantile_edges`): the
inner edges ``e_1 < ... < e_{k-1}`` cut the line into ``(-inf, e_1), [e_1, e_2), ..., [e_{k-1}, inf)``, so a new
value outside the reference's range still lands in an outer bin. A bin empty on either side would make ``ln`` infinite,
so every proportion is raised to at least :data:`EPSILON` (1e-4) before the sum (no renormalisation): an emptied bin
then adds ``(1e-4 - e) * ln(1e-4 / e)``, large but finite. KS is ``scipy.stats.ks_2samp`` (two-sided, its default
``method="auto"``) between the reference's sample and the new values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, cast

import numpy as np
from numpy.typing import NDArray
from scipy import stats

EPSILON: Final = 1e-4
DEFAULT_BINS: Final = 10

Values = NDArray[np.float64]


def finite(values: Sequence[float] | Values) -> tuple[Values, int]:
    """The finite values, and how many were dropped (NaN, +-inf)."""
    array = np.asarray(values, dtype=np.float64)
    kept = array[np.isfinite(array)]
    return kept, int(array.size - kept.size)


def quantile_edges(reference: Values, bins: int = DEFAULT_BINS) -> Values:
    """The inner bin edges at the reference's ``1/bins, ..., (bins-1)/bins`` quantiles (numpy's default linear
    interpolation); repeated edges (a feature with few distinct values) collapse, so there may be fewer bins."""
    if bins < 2:
        raise ValueError(f"bins must be at least 2; got {bins}")
    inner = np.quantile(reference, np.linspace(0.0, 1.0, bins + 1)[1:-1])
    return np.unique(inner)


def proportions(values: Values, edges: Values) -> Values:
    """The share of ``values`` in each bin: ``len(edges) + 1`` numbers summing to 1."""
    counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=edges.size + 1)
    return counts / values.size


def psi(expected: Values, actual: Values) -> float:
    """PSI of ``actual`` against ``expected`` (bin proportions, the same bins), each raised to at least EPSILON."""
    e = np.maximum(expected, EPSILON)
    a = np.maximum(actual, EPSILON)
    return float(np.sum((a - e) * np.log(a / e)))


def ks(sample: Values, values: Values) -> tuple[float, float]:
    """(KS statistic, two-sided p-value) of the new values against the reference's sample."""
    # ks_2samp answers a KstestResult, a named tuple built at run time (statistic, pvalue first)
    statistic, p_value = stats.ks_2samp(sample, values)[:2]
    return float(cast(float, statistic)), float(cast(float, p_value))
