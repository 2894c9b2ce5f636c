"""``serving.metrics``: the defaults are CloudMonitor's EAS appendix IDs and units, and a unit outside the known ones
is refused naming the key."""

from __future__ import annotations

from stack_config import parse_stack_config
from tests.conftest import VALID_RAW
from tests.stack_config.test_stack import edited, problems_of


def test_the_defaults_are_the_appendix_ids_units_and_the_mean_statistic() -> None:
    metrics = parse_stack_config(VALID_RAW, "prod").serving.metrics
    assert (metrics.namespace, metrics.dimension) == ("acs_learn", "serviceName")
    assert (metrics.latency_metric, metrics.latency_statistic, metrics.latency_unit) == (
        "rt",
        "Average",
        "microseconds",
    )
    assert (metrics.error_metric, metrics.error_unit, metrics.qps_metric) == (
        "rps_status_5xx_ratio",
        "percent",
        "qps_total",
    )


def test_a_unit_outside_the_known_ones_is_refused_naming_the_key() -> None:
    assert problems_of(edited("serving.metrics", {"errorUnit": "fraction", "latencyUnit": "ms"})) == [
        "pai-mlops:serving.metrics [latencyUnit]: must be one of 'microseconds' or 'milliseconds'; got 'ms'. Write "
        "microseconds (rt's unit per CloudMonitor's EAS appendix) or milliseconds: the unit latencyMetric's data "
        "points are in; readings are converted to the gate's milliseconds.",
        "pai-mlops:serving.metrics [errorUnit]: must be one of 'percent' or 'ratio'; got 'fraction'. Write percent "
        "(0-100, rps_status_5xx_ratio's unit % per CloudMonitor's EAS appendix) or ratio (0-1): the unit "
        "errorMetric's data points are in; rollout.maxErrorRate stays a ratio and is converted.",
    ]


def test_a_metric_named_other_than_the_default_must_say_its_unit() -> None:
    """A stack that kept an earlier release's names (TP95ResponseTime in ms, 5xxResponseRatio as 0-1) would inherit
    the defaults' microseconds and percent, and its gates would read 1000 and 100 times too little: refused."""
    assert problems_of(
        edited("serving.metrics", {"latencyMetric": "TP95ResponseTime", "errorMetric": "5xxResponseRatio"})
    ) == [
        "pai-mlops:serving.metrics [latencyUnit]: is required when latencyMetric is not the default rt; got nothing. "
        "Write the unit TP95ResponseTime's data points are in (DescribeMetricMetaList shows it; docs/day-one.md).",
        "pai-mlops:serving.metrics [errorUnit]: is required when errorMetric is not the default "
        "rps_status_5xx_ratio; got nothing. Write the unit 5xxResponseRatio's data points are in "
        "(DescribeMetricMetaList shows it; docs/day-one.md).",
    ]
    stated = {
        "latencyMetric": "TP95ResponseTime",
        "latencyUnit": "milliseconds",
        "errorMetric": "5xxResponseRatio",
        "errorUnit": "ratio",
    }
    metrics = parse_stack_config(edited("serving.metrics", stated), "prod").serving.metrics
    assert (metrics.latency_unit, metrics.error_unit) == ("milliseconds", "ratio")
    defaults = {"latencyMetric": "rt", "errorMetric": "rps_status_5xx_ratio"}
    metrics = parse_stack_config(edited("serving.metrics", defaults), "prod").serving.metrics
    assert (metrics.latency_unit, metrics.error_unit) == ("microseconds", "percent")
