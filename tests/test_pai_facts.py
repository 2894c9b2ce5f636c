"""pai_facts.py: the model path every layer builds from one function, and the rules shared by config and providers."""

from __future__ import annotations

import pytest

from pai_facts import MODELS_PREFIX, contract_major, model_prefix, model_uri, registry_version


def test_a_model_version_lives_under_models_name_version() -> None:
    assert MODELS_PREFIX == "models/"
    assert model_prefix("fraud_scorer", "v7") == "models/fraud_scorer/v7/"
    assert model_uri("acme-pai-prod", "fraud_scorer", "v7") == "oss://acme-pai-prod/models/fraud_scorer/v7/"


def test_the_registry_form_carries_the_oss_endpoint() -> None:
    # CreateModelVersionRequest.uri: oss://<bucket>.<endpoint>/object, e.g. oss://mybucket.oss-cn-beijing.aliyuncs.com/
    assert (
        model_uri("acme-pai-prod", "fraud_scorer", "v7", region="cn-hangzhou")
        == "oss://acme-pai-prod.oss-cn-hangzhou.aliyuncs.com/models/fraud_scorer/v7/"
    )


@pytest.mark.parametrize(("text", "major"), [("v2", 2), ("2.1", 2), ("v1.4.0", 1), (" v3 ", 3), ("beta", None)])
def test_contract_major(text: str, major: int | None) -> None:
    assert contract_major(text) == major


@pytest.mark.parametrize(
    ("version", "explicit", "expected"),
    [("v6", {}, "6.0.0"), ("v6", {"v6": "6.1.0"}, "6.1.0"), ("r1", {}, "")],
)
def test_registry_version(version: str, explicit: dict[str, str], expected: str) -> None:
    assert registry_version(version, explicit) == expected
