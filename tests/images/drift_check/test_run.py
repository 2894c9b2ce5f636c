"""A landed batch checked on OSS (the emulator's, through oss2): the report written, the errors recorded."""

from __future__ import annotations

import json

import numpy as np
import oss2
import pytest

from drift_check.profile import build_profile, dumps
from drift_check.run import check_batch
from providers.clients import ClientFactory
from tests.emulator import Control

BUCKET = "acme-ml-dev"
PROFILE = "models/fraud_scorer/v6/drift-profile.json"
REPORT = "data/drift-reports/fraud_retraining/r20261201081542.json"


@pytest.fixture
def bucket(clients: ClientFactory, cloud: Control) -> oss2.Bucket:
    cloud.create_bucket(BUCKET)
    return clients.oss_bucket(BUCKET)


def _csv(values: list[float]) -> bytes:
    return ("amount,id\n" + "".join(f"{v!r},{i}\n" for i, v in enumerate(values))).encode()


def _check(bucket: oss2.Bucket) -> dict[str, object]:
    return check_batch(
        bucket,
        profile_key=PROFILE,
        data_prefix="data/transactions/",
        report_key=REPORT,
        method="psi",
        threshold=0.25,
    )


def test_a_shifted_batch_split_over_two_objects_is_drift_and_the_report_lands_on_oss(bucket: oss2.Bucket) -> None:
    rng = np.random.default_rng(20261201)
    reference, _, shifted = rng.normal(0, 1, 5000), rng.normal(0, 1, 5000), rng.normal(1, 1, 5000)
    bucket.put_object(PROFILE, dumps(build_profile({"amount": reference.tolist()})).encode())
    bucket.put_object("data/transactions/part-0.csv", _csv(shifted[:2500].tolist()))
    bucket.put_object("data/transactions/part-1.csv", _csv(shifted[2500:].tolist()))
    bucket.put_object("data/transactions/_SUCCESS", b"")

    report = _check(bucket)

    assert report["drift"] is True
    assert report["score"] == pytest.approx(0.9235272270483443, abs=1e-12)
    assert report["objects"] == ["data/transactions/part-0.csv", "data/transactions/part-1.csv"]
    assert report["unprofiled"] == ["id"]
    assert (report["profile"], report["data"], report["report"]) == (PROFILE, "data/transactions/", REPORT)
    assert json.loads(bucket.get_object(REPORT).read()) == json.loads(json.dumps(report))


@pytest.mark.parametrize(
    ("objects", "error"),
    [
        ({}, f"no profile at {PROFILE}: the training run of the live version writes it (docs/retraining.md)"),
        ({PROFILE: b"{}"}, "the profile must have format 'pai-mlops/drift-profile' and version 1"),
        (
            {PROFILE: dumps(build_profile({"amount": [1.0, 2.0]})).encode()},
            "no .csv object under data/transactions/: land the batch before its marker",
        ),
        (
            {PROFILE: dumps(build_profile({"amount": [1.0, 2.0]})).encode(), "data/transactions/a.csv": b"id\n1\n"},
            "file 0: feature(s) amount of the profile are not in the data (columns: id); "
            "a schema change needs a new profile, not a retraining",
        ),
    ],
)
def test_what_the_batch_or_profile_gets_wrong_is_reported_as_an_error_and_no_drift(
    bucket: oss2.Bucket, objects: dict[str, bytes], error: str
) -> None:
    for key, data in objects.items():
        bucket.put_object(key, data)

    report = _check(bucket)

    assert (report["drift"], report["error"]) == (False, error)
    assert json.loads(bucket.get_object(REPORT).read())["error"] == error
