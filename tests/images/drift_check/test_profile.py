"""The reference profile: what the training side writes, and what the check refuses to read."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from drift_check.profile import FORMAT, ProfileError, build_profile, dumps, load_profile


def _saved(**feature: Any) -> str:
    base: dict[str, Any] = {"count": 4, "dropped": 0, "edges": [1.0], "proportions": [0.5, 0.5], "sample": [0.0, 2.0]}
    return json.dumps({"format": FORMAT, "version": 1, "features": {"amount": {**base, **feature}}})


def test_the_profile_of_0_to_99_in_quartiles() -> None:
    profile = build_profile({"amount": [float(x) for x in range(100)] + [math.nan]}, bins=4, sample_size=3, seed=7)

    feature = profile["features"]["amount"]
    assert profile["format"] == "pai-mlops/drift-profile"
    assert profile["version"] == 1
    assert feature["count"] == 100
    assert feature["dropped"] == 1
    assert feature["edges"] == [24.75, 49.5, 74.25]
    assert feature["proportions"] == [0.25, 0.25, 0.25, 0.25]
    assert len(feature["sample"]) == 3
    assert feature["sample"] == sorted(feature["sample"])
    assert set(feature["sample"]) <= set(range(100))


def test_the_sample_is_the_same_for_the_same_seed_and_holds_every_value_when_there_are_few() -> None:
    values = [float(x) for x in range(50)]

    first = build_profile({"x": values}, sample_size=10, seed=3)
    again = build_profile({"x": values}, sample_size=10, seed=3)

    assert first == again
    assert build_profile({"x": values}, sample_size=100)["features"]["x"]["sample"] == values


def test_a_saved_profile_loads_back_with_its_figures() -> None:
    saved = dumps(build_profile({"amount": [float(x) for x in range(100)]}, bins=4))

    loaded = load_profile(saved)["amount"]

    assert loaded.edges.tolist() == [24.75, 49.5, 74.25]
    assert loaded.proportions.tolist() == [0.25, 0.25, 0.25, 0.25]
    assert loaded.count == 100


def test_a_feature_with_no_finite_value_cannot_be_profiled() -> None:
    with pytest.raises(ProfileError, match=r"^feature 'amount': no finite values to profile \(2 dropped\)$"):
        build_profile({"amount": [math.nan, math.inf]})


@pytest.mark.parametrize(
    ("feature", "message"),
    [
        ({"edges": "1.0"}, "feature 'amount': edges must be a list of numbers; got \"1.0\""),
        ({"edges": [1, "2"]}, "feature 'amount': edges must be a list of numbers; got [1, \"2\"]"),
        ({"edges": [True]}, "feature 'amount': edges must be a list of numbers; got [true]"),
        ({"edges": [2.0, 1.0], "proportions": [0.2, 0.3, 0.5]}, "feature 'amount': edges must be strictly increasing"),
        ({"proportions": [1.0]}, "feature 'amount': proportions has 1 values; 1 edges make 2 bins"),
        (
            {"proportions": [0.5, 0.6]},
            "feature 'amount': proportions must be non-negative and sum to 1; got sum 1.1",
        ),
        ({"sample": []}, "feature 'amount': sample is empty; KS needs the reference's values"),
        ({"count": "4"}, "feature 'amount': count must be a positive integer; got '4'"),
        ({"dropped": -1}, "feature 'amount': dropped must be a non-negative integer; got -1"),
    ],
)
def test_a_profile_of_the_wrong_shape_is_refused_naming_the_feature_and_key(
    feature: dict[str, Any], message: str
) -> None:
    with pytest.raises(ProfileError) as raised:
        load_profile(_saved(**feature))
    assert str(raised.value) == message


def test_nan_in_a_saved_profile_is_refused() -> None:
    text = _saved().replace('"sample": [0.0, 2.0]', '"sample": [0.0, NaN]')

    with pytest.raises(ProfileError, match=r"^feature 'amount': sample holds a value that is not finite$"):
        load_profile(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "the profile is not JSON: Expecting value: line 1 column 1 (char 0)"),
        ('{"format": "other", "version": 1}', "the profile must have format 'pai-mlops/drift-profile' and version 1"),
        (json.dumps({"format": FORMAT, "version": 1, "features": {}}), "the profile has no features"),
        (
            json.dumps({"format": FORMAT, "version": 1, "features": {"x": [1]}}),
            "feature 'x': must be an object with count, edges, proportions, sample",
        ),
    ],
)
def test_a_document_that_is_not_a_profile_is_refused(text: str, message: str) -> None:
    with pytest.raises(ProfileError) as raised:
        load_profile(text)
    assert str(raised.value) == message
