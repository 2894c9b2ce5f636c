"""PSI and KS on constructed data whose figures follow by hand (images/drift-check/drift_check/stats.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from drift_check.stats import EPSILON, finite, ks, proportions, psi, quantile_edges

HUNDRED = np.arange(100, dtype=np.float64)


def test_quartile_edges_of_0_to_99_are_the_interpolated_quantiles_and_split_it_evenly() -> None:
    edges = quantile_edges(HUNDRED, 4)

    # numpy's linear interpolation: the q-quantile of 0..99 is 99 * q
    assert edges.tolist() == [24.75, 49.5, 74.25]
    assert proportions(HUNDRED, edges).tolist() == [0.25, 0.25, 0.25, 0.25]


def test_an_edge_opens_its_bin_and_values_outside_the_reference_land_in_the_outer_bins() -> None:
    edges = quantile_edges(HUNDRED, 4)

    assert proportions(np.array([-1000.0, 24.75, 49.5, 1e9]), edges).tolist() == [0.25, 0.25, 0.25, 0.25]


def test_repeated_quantiles_of_a_binary_feature_collapse_into_fewer_bins() -> None:
    binary = np.array([0.0] * 70 + [1.0] * 30)

    edges = quantile_edges(binary, 10)

    # the 10%..60% quantiles are all 0 and 80%, 90% are 1; the 70% quantile interpolates to 0.3, so the bin
    # [0.3, 1) stays empty, and adds nothing to PSI while the new data leaves it empty too
    assert edges.tolist() == pytest.approx([0.0, 0.3, 1.0], abs=1e-12)
    assert proportions(binary, edges).tolist() == [0.0, 0.7, 0.0, 0.3]
    assert psi(proportions(binary, edges), proportions(np.array([0.0] * 7 + [1.0] * 3), edges)) == 0.0


def test_psi_of_identical_proportions_is_zero() -> None:
    quarters = np.array([0.25, 0.25, 0.25, 0.25])

    assert psi(quarters, quarters) == 0.0


def test_psi_of_emptied_bins_uses_epsilon_and_is_computable_by_hand() -> None:
    edges = quantile_edges(HUNDRED, 4)
    # half the new values in the first quarter, half in the last: bins 2 and 3 are empty
    actual = proportions(np.array([10.0] * 50 + [90.0] * 50), edges)

    expected = 2 * (0.5 - 0.25) * math.log(0.5 / 0.25) + 2 * (EPSILON - 0.25) * math.log(EPSILON / 0.25)
    assert actual.tolist() == [0.5, 0.0, 0.0, 0.5]
    assert psi(np.full(4, 0.25), actual) == pytest.approx(expected, abs=1e-12)
    assert expected == pytest.approx(4.257031786505947, abs=1e-12)


def test_ks_statistic_and_exact_p_value_of_two_small_samples() -> None:
    statistic, p_value = ks(np.array([1.0, 2.0, 3.0, 4.0]), np.array([3.0, 4.0, 5.0, 6.0]))

    # the empirical CDFs differ most at 2 (0.5 vs 0) and at 4 (1 vs 0.5); of the C(8,4) = 70 equally likely
    # orderings, 54 give a distance of at least 0.5 (scipy's exact method for small samples)
    assert statistic == 0.5
    assert p_value == pytest.approx(54 / 70, abs=1e-12)


def test_finite_drops_nan_and_infinity_and_counts_them() -> None:
    kept, dropped = finite([1.0, math.nan, 2.0, math.inf, -math.inf])

    assert kept.tolist() == [1.0, 2.0]
    assert dropped == 3


def test_fewer_than_two_bins_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^bins must be at least 2; got 1$"):
        quantile_edges(HUNDRED, 1)
