"""One check of a landed batch on OSS: read the profile and the batch's CSV objects, compare, write the report.

The retraining trigger calls :func:`check_batch` when a ``dataMarker`` is written (functions/start_pipeline.py). What
the data or the profile gets wrong (a missing feature, no rows, a profile of the wrong shape, no profile at all) is
permanent for that batch: it is written into the report as ``error`` with ``drift: false``, so no run starts and
the same event retried by FC finds the same answer. A failure to reach OSS is not caught: the invocation fails and
FC retries it.
"""

from __future__ import annotations

import json
from typing import Any, Final

import oss2  # pyright: ignore[reportMissingTypeStubs]

from drift_check import store
from drift_check.check import REPORT_FORMAT, DriftError, Method, compare, read_columns
from drift_check.profile import ProfileError, load_profile

DATA_SUFFIX: Final = ".csv"


def check_batch(
    bucket: Any,
    *,
    profile_key: str,
    data_prefix: str,
    report_key: str,
    method: Method,
    threshold: float,
) -> dict[str, Any]:
    """The report of the batch under ``data_prefix`` against the profile, as written to ``report_key``."""
    where = {"profile": profile_key, "data": data_prefix, "report": report_key}
    try:
        try:
            profile = load_profile(store.read_text(bucket, profile_key))
        except oss2.exceptions.NoSuchKey:
            raise ProfileError(
                f"no profile at {profile_key}: the training run of the live version writes it (docs/retraining.md)"
            ) from None
        keys = store.data_keys(bucket, data_prefix, DATA_SUFFIX)
        if not keys:
            raise DriftError(f"no {DATA_SUFFIX} object under {data_prefix}: land the batch before its marker")
        columns, extra = read_columns((store.read_text(bucket, key) for key in keys), list(profile))
        report = {**compare(profile, columns, method=method, threshold=threshold), "objects": keys, "unprofiled": extra}
    except (DriftError, ProfileError) as error:
        report = {
            "format": REPORT_FORMAT,
            "version": 1,
            "method": method,
            "threshold": threshold,
            "drift": False,
            "error": str(error),
        }
    report = {**report, **where}
    store.write_json(bucket, report_key, json.dumps(report, sort_keys=True))
    return report
