"""The CloudMonitor reader against the emulator, which serves EAS metrics as CloudMonitor's EAS appendix documents
them (acs_learn; rps_status_5xx_ratio in percent; rt in microseconds, Average/Maximum/Minimum): readings reach the
gates in the gates' units (a ratio, milliseconds), converted in one place."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from providers import metrics
from providers.clients import ClientFactory
from providers.metrics import CloudMonitorReader, MetricsRefused, Sample
from providers.traffic_spec import breach
from tests.emulator import Control

SERVICE = "fraud_scorer_v7"
MAX_P95_LATENCY_MS, MAX_ERROR_RATE = 200.0, 0.01  # tests/support/shift.py's gates


def direct(_what: str, call: Callable[[], Any]) -> Any:
    return call()


def read(clients: ClientFactory, **settings: Any) -> Sample | None:
    reader = CloudMonitorReader(clients, metrics.with_defaults(metrics.for_new_inputs(settings)), direct)
    return reader.read(SERVICE)


def test_the_defaults_are_the_appendix_ids_and_units() -> None:
    assert metrics.with_defaults(metrics.for_new_inputs({"source": "cloudmonitor"})) == {
        "source": "cloudmonitor",
        "namespace": "acs_learn",
        "dimension": "serviceName",
        "latency_metric": "rt",
        "latency_statistic": "Average",
        "latency_unit": "microseconds",
        "error_metric": "rps_status_5xx_ratio",
        "error_unit": "percent",
        "qps_metric": "qps_total",
        "period_seconds": 60,
    }


@pytest.mark.parametrize(("percent", "breaks"), [(2.0, True), (0.5, False)])
def test_a_5xx_ratio_in_percent_is_compared_with_max_error_rate_as_a_ratio(
    clients: ClientFactory, cloud: Control, percent: float, breaks: bool
) -> None:
    cloud.set_metrics(SERVICE, p95_latency_ms=90, error_ratio=percent / 100, qps=50)
    sample = read(clients)
    assert sample is not None and sample.error_ratio == percent / 100
    verdict = breach(sample, MAX_P95_LATENCY_MS, MAX_ERROR_RATE)
    if breaks:
        assert verdict is not None and (verdict.metric, verdict.value, verdict.threshold) == ("error ratio", 0.02, 0.01)
    else:
        assert verdict is None


@pytest.mark.parametrize(("microseconds", "breaks"), [(180000, False), (250000, True)])
def test_rt_in_microseconds_is_compared_with_the_gate_in_milliseconds(
    clients: ClientFactory, cloud: Control, microseconds: int, breaks: bool
) -> None:
    cloud.set_metrics(SERVICE, p95_latency_ms=microseconds / 1000, error_ratio=0.001, qps=50)
    sample = read(clients)
    assert sample is not None and sample.p95_latency_ms == microseconds / 1000
    verdict = breach(sample, MAX_P95_LATENCY_MS, MAX_ERROR_RATE)
    if breaks:
        assert verdict is not None
        assert (verdict.metric, verdict.value, verdict.threshold) == ("Average latency (rt)", 250.0, 200.0)
        assert verdict.detail == "Average latency (rt) 250 ms is above max_p95_latency_ms 200"
    else:
        assert verdict is None


def test_the_units_convert_one_way_for_readings_and_the_other_for_thresholds() -> None:
    assert (metrics.to_gate(2, "percent"), metrics.to_gate(0.02, "ratio")) == (0.02, 0.02)
    assert (metrics.to_gate(180000, "microseconds"), metrics.to_gate(180, "milliseconds")) == (180.0, 180.0)
    assert (metrics.to_metric(0.01, "percent"), metrics.to_metric(200, "microseconds")) == (1.0, 200000.0)


def test_units_the_config_says_are_read_as_such(clients: ClientFactory, cloud: Control) -> None:
    """A user who sets ratio and milliseconds (a metric that is in them) gets the value unconverted."""
    cloud.set_metrics(SERVICE, p95_latency_ms=0.18, error_ratio=0.0002, qps=50)  # served as 180 µs, 0.02 %
    sample = read(clients, error_unit="ratio", latency_unit="milliseconds")
    assert sample is not None and (sample.p95_latency_ms, sample.error_ratio) == (180.0, 0.02)


def test_nan_and_missing_readings_are_still_no_data(clients: ClientFactory, cloud: Control) -> None:
    cloud.set_metrics(SERVICE, p95_latency_ms="NaN", error_ratio="missing", qps=50)
    sample = read(clients)
    assert sample is not None and (sample.p95_latency_ms, sample.error_ratio, sample.qps) == (None, None, 50.0)
    assert not sample.complete


def test_a_statistic_rt_does_not_list_is_no_data_never_a_pass(clients: ClientFactory, cloud: Control) -> None:
    cloud.set_metrics(SERVICE, p95_latency_ms=90, error_ratio=0.001, qps=50)
    sample = read(clients, latency_statistic="p95")
    assert sample is not None and sample.p95_latency_ms is None and not sample.complete


@pytest.mark.parametrize(
    "settings",
    [{"latency_metric": "TP95ResponseTime"}, {"error_metric": "5xxResponseRatio"}, {"namespace": "acs_pai_eas"}],
)
def test_the_old_display_names_are_refused_naming_the_keys(
    clients: ClientFactory, cloud: Control, settings: dict[str, str]
) -> None:
    cloud.set_metrics(SERVICE, p95_latency_ms=90, error_ratio=0.001, qps=50)
    with pytest.raises(MetricsRefused) as caught:
        read(clients, **settings)
    assert "ResourceNotFound" in str(caught.value) and "Fix serving.metrics.namespace" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value"), [("error_unit", "percentage"), ("latency_unit", "ms"), ("latency_statistic", "")]
)
def test_a_unit_or_statistic_outside_the_known_ones_is_a_problem(name: str, value: str) -> None:
    settings = metrics.with_defaults(metrics.for_new_inputs({"source": "cloudmonitor", name: value}))
    expected = {
        "error_unit": "must be percent or ratio; got 'percentage'",
        "latency_unit": "must be microseconds or milliseconds; got 'ms'",
        "latency_statistic": "is required",
    }[name]
    assert metrics.problems(settings) == [(f"metrics.{name}", expected)]
