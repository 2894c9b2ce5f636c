"""The drift decision on synthetic data: an unshifted and a shifted sample with a fixed seed, and the refusals.

The seeded figures are pinned to 1e-12: they move only if numpy's generator, its quantiles or scipy's KS change,
which the exact pins in images/drift-check/requirements.txt keep out. As a sanity bound, the PSI of N(mu, 1)
against N(0, 1) over fine bins tends to mu squared (their symmetric KL divergence): 0.92 for mu = 1 over deciles.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from drift_check.check import DriftError, compare, read_columns
from drift_check.profile import FeatureProfile, build_profile, dumps, load_profile

SEED = 20261201


def _samples() -> tuple[list[float], list[float], list[float]]:
    rng = np.random.default_rng(SEED)
    reference = rng.normal(0.0, 1.0, 5000)
    unshifted = rng.normal(0.0, 1.0, 5000)
    shifted = rng.normal(1.0, 1.0, 5000)
    return reference.tolist(), unshifted.tolist(), shifted.tolist()


def _profile(**columns: list[float]) -> dict[str, FeatureProfile]:
    return load_profile(dumps(build_profile(columns)))


def test_an_unshifted_sample_has_not_drifted() -> None:
    reference, unshifted, _ = _samples()

    report = compare(_profile(amount=reference), {"amount": unshifted}, method="psi", threshold=0.25)

    figures = report["features"]["amount"]
    assert figures["psi"] == pytest.approx(0.004025618325754793, abs=1e-12)
    assert figures["ks"] == pytest.approx(0.0232, abs=1e-12)
    assert figures["ksPValue"] == pytest.approx(0.7548199809639741, abs=1e-12)
    assert report["drift"] is False


def test_a_sample_shifted_by_one_standard_deviation_has_drifted_by_psi_and_by_ks() -> None:
    reference, _, shifted = _samples()
    profile = _profile(amount=reference)

    by_psi = compare(profile, {"amount": shifted}, method="psi", threshold=0.25)
    by_ks = compare(profile, {"amount": shifted}, method="ks", threshold=0.1)

    assert by_psi["features"]["amount"]["psi"] == pytest.approx(0.9235272270483443, abs=1e-12)
    assert by_psi["features"]["amount"]["ks"] == pytest.approx(0.3956, abs=1e-12)
    assert by_psi["features"]["amount"]["ksPValue"] == pytest.approx(2.0740650453638177e-117, rel=1e-9)
    assert (by_psi["drift"], by_psi["score"]) == (True, by_psi["features"]["amount"]["psi"])
    assert (by_ks["drift"], by_ks["score"]) == (True, 0.3956)


def test_the_report_names_the_worst_feature_its_score_and_every_figure() -> None:
    reference, unshifted, shifted = _samples()
    profile = _profile(amount=reference, age=reference)

    report = compare(profile, {"amount": unshifted, "age": shifted}, method="psi", threshold=0.25)

    assert report == {
        "format": "pai-mlops/drift-report",
        "version": 1,
        "method": "psi",
        "threshold": 0.25,
        "score": report["features"]["age"]["psi"],
        "feature": "age",
        "drift": True,
        "rows": 5000,
        "features": {
            "amount": {
                "psi": pytest.approx(0.004025618325754793, abs=1e-12),
                "ks": pytest.approx(0.0232, abs=1e-12),
                "ksPValue": pytest.approx(0.7548199809639741, abs=1e-12),
                "rows": 5000,
                "dropped": 0,
            },
            # the same bins as above (from all 5000 values), but the second feature's KS sample is the
            # generator's next draw of 1000, so its KS figures differ from the one-feature profile's
            "age": {
                "psi": pytest.approx(0.9235272270483443, abs=1e-12),
                "ks": pytest.approx(0.4032, abs=1e-12),
                "ksPValue": pytest.approx(4.1708844883366365e-122, rel=1e-9),
                "rows": 5000,
                "dropped": 0,
            },
        },
    }


def test_the_threshold_is_reached_at_equality() -> None:
    profile = _profile(amount=[float(x) for x in range(100)])
    figure = compare(profile, {"amount": [10.0] * 50 + [90.0] * 50}, method="psi", threshold=1.0)["score"]

    assert compare(profile, {"amount": [10.0] * 50 + [90.0] * 50}, method="psi", threshold=figure)["drift"] is True
    assert (
        compare(profile, {"amount": [10.0] * 50 + [90.0] * 50}, method="psi", threshold=figure * 1.001)["drift"]
        is False
    )


def test_nan_values_are_dropped_and_counted_not_compared() -> None:
    reference, unshifted, _ = _samples()

    report = compare(
        _profile(amount=reference), {"amount": [*unshifted, math.nan, math.nan]}, method="psi", threshold=0.25
    )

    assert report["features"]["amount"]["dropped"] == 2
    assert report["features"]["amount"]["rows"] == 5000
    assert report["features"]["amount"]["psi"] == pytest.approx(0.004025618325754793, abs=1e-12)


def test_a_feature_of_the_profile_missing_from_the_data_is_an_error_not_ignored() -> None:
    reference, unshifted, _ = _samples()

    with pytest.raises(DriftError, match=r"^feature\(s\) age of the profile are not in the data$"):
        compare(_profile(amount=reference, age=reference), {"amount": unshifted}, method="psi", threshold=0.25)


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"amount": []}, "the data has no rows: land the batch before writing its marker"),
        ({"amount": [math.nan, math.nan]}, "feature 'amount' has no finite value in the data (2 empty or NaN)"),
    ],
)
def test_empty_data_is_an_error(columns: dict[str, list[float]], message: str) -> None:
    with pytest.raises(DriftError) as raised:
        compare(_profile(amount=[1.0, 2.0, 3.0]), columns, method="psi", threshold=0.25)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("method", "threshold", "message"),
    [
        ("mean", 0.25, "method must be one of psi, ks; got 'mean'"),
        ("psi", 0.0, "threshold must be a positive number; got 0.0"),
        ("psi", math.nan, "threshold must be a positive number; got nan"),
    ],
)
def test_a_wrong_method_or_threshold_is_refused(method: str, threshold: float, message: str) -> None:
    with pytest.raises(DriftError) as raised:
        compare(_profile(amount=[1.0, 2.0]), {"amount": [1.0]}, method=method, threshold=threshold)  # pyright: ignore[reportArgumentType]
    assert str(raised.value) == message


def test_csv_columns_are_read_with_empty_cells_as_nan_and_unprofiled_columns_listed() -> None:
    columns, extra = read_columns(["amount,id,age\n1.5,a,3\n,b,4\n", "age,amount\n5,nan\n"], ["amount", "age"])

    assert columns["age"] == [3.0, 4.0, 5.0]
    assert columns["amount"][0] == 1.5
    assert all(math.isnan(x) for x in columns["amount"][1:])
    assert extra == ["id"]


def test_a_csv_without_a_profiled_column_is_an_error_naming_it() -> None:
    with pytest.raises(DriftError) as raised:
        read_columns(["amount,id\n1,2\n"], ["amount", "age"])
    assert str(raised.value) == (
        "file 0: feature(s) age of the profile are not in the data (columns: amount, id); "
        "a schema change needs a new profile, not a retraining"
    )


def test_a_cell_that_is_not_a_number_is_an_error_naming_the_line() -> None:
    with pytest.raises(DriftError) as raised:
        read_columns(["amount\n1\nabc\n"], ["amount"])
    assert str(raised.value) == "file 0 line 3: feature 'amount' is not a number: 'abc'"
