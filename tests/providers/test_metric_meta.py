"""The metric-meta check through the provider host against the emulator's CloudMonitor catalogue.

EAS metric names and the DLC GPU metric are unconfirmed (fidelity-audit E10, D10); ``pulumi up`` asks
``DescribeMetricMetaList`` for each and fails naming the config key when CloudMonitor does not list the metric, its
dimension or the statistic the alarms use.
"""

from __future__ import annotations

import copy

import pytest

from components.monitoring import metric_checks
from providers.metric_meta import MetricCheck, MetricMetaCheckProvider, listed, verdict
from stack_config import parse_stack_config
from tests.conftest import VALID_RAW
from tests.emulator import Control
from tests.support.provider_host import ProviderFailed, ProviderHost


def checks(**metrics: str) -> list[MetricCheck]:
    raw = copy.deepcopy(VALID_RAW)
    raw["serving"]["metrics"] = {"source": "cloudmonitor", **metrics}
    config = parse_stack_config(raw, "prod")
    return metric_checks(config.serving.metrics, config.alarms, gpu=True)


def inputs(found: list[MetricCheck]) -> dict[str, object]:
    return {"checks": [check.as_input() for check in found], "deadline_seconds": 20}


def test_the_stack_checks_every_watched_metric_with_its_config_keys() -> None:
    found = checks()
    assert [(c.namespace, c.metric, c.dimensions, c.key) for c in found] == [
        ("acs_learn", "rt", ("serviceName",), "pai-mlops:serving.metrics.latencyMetric"),
        ("acs_learn", "rps_status_5xx_ratio", ("serviceName",), "pai-mlops:serving.metrics.errorMetric"),
        ("acs_learn", "qps_total", ("serviceName",), "pai-mlops:serving.metrics.qpsMetric"),
        (
            "acs_pai_dlc",
            "JOB_GPU_ACCELERATOR_DUTTY_UTIL",
            ("userId", "regionId", "workspaceId"),
            "pai-mlops:alarms.gpuMetric",
        ),
    ]
    assert {(c.namespace_key, c.dimension_key, c.statistic) for c in found[:3]} == {
        ("pai-mlops:serving.metrics.namespace", "pai-mlops:serving.metrics.dimension", "Average")
    }
    # what is checked beyond the name: the statistic the stack reads and the unit the config says, with their keys
    assert [(c.statistic_key, c.unit, c.unit_key) for c in found] == [
        ("pai-mlops:serving.metrics.latencyStatistic", "microseconds", "pai-mlops:serving.metrics.latencyUnit"),
        (None, "percent", "pai-mlops:serving.metrics.errorUnit"),
        (None, None, None),
        (None, None, None),
    ]


def test_the_defaults_pass_against_the_documented_catalogue(host: ProviderHost) -> None:
    """The emulator's catalogue is CloudMonitor's EAS appendix: acs_learn, rt in microseconds, the ratio in %."""
    outputs = host.create(MetricMetaCheckProvider(), inputs(checks()))[1]
    assert outputs["verified"] == [
        "acs_learn/rt",
        "acs_learn/rps_status_5xx_ratio",
        "acs_learn/qps_total",
        "acs_pai_dlc/JOB_GPU_ACCELERATOR_DUTTY_UTIL",
    ]


def test_the_display_names_and_the_assumed_namespace_are_refused(host: ProviderHost) -> None:
    with pytest.raises(ProviderFailed) as caught:
        host.create(MetricMetaCheckProvider(), inputs(checks(namespace="acs_pai_eas")[:1]))
    assert "CloudMonitor lists no metric 'rt' in namespace 'acs_pai_eas'" in caught.value.details
    with pytest.raises(ProviderFailed) as caught:
        host.create(
            MetricMetaCheckProvider(), inputs(checks(latencyMetric="TP95ResponseTime", latencyUnit="milliseconds")[:1])
        )
    assert "CloudMonitor lists no metric 'TP95ResponseTime' in namespace 'acs_learn'" in caught.value.details


def test_a_statistic_rt_does_not_list_fails_up_naming_the_statistic_key(host: ProviderHost) -> None:
    with pytest.raises(ProviderFailed) as caught:
        host.create(MetricMetaCheckProvider(), inputs(checks(latencyStatistic="p95")[:1]))
    assert (
        "pai-mlops:serving.metrics.latencyStatistic: metric acs_learn/rt offers the statistics Average, Maximum, "
        "Minimum, not p95 (what the gates, alarms and dashboard read); set pai-mlops:serving.metrics.latencyStatistic "
        "to one of those"
    ) in caught.value.details


def test_a_unit_other_than_the_catalogues_fails_up_naming_the_unit_key(host: ProviderHost) -> None:
    with pytest.raises(ProviderFailed) as caught:
        host.create(MetricMetaCheckProvider(), inputs(checks(errorUnit="ratio", latencyUnit="milliseconds")[:2]))
    assert (
        "pai-mlops:serving.metrics.latencyUnit: metric acs_learn/rt is in 'microseconds' by CloudMonitor's "
        "catalogue, not milliseconds; gates and alarms would compare it with thresholds in the wrong unit. Set "
        "pai-mlops:serving.metrics.latencyUnit to the unit CloudMonitor reports (microseconds, milliseconds, "
        "percent, ratio)"
    ) in caught.value.details
    assert (
        "pai-mlops:serving.metrics.errorUnit: metric acs_learn/rps_status_5xx_ratio is in '%' by CloudMonitor's "
        "catalogue, not ratio;"
    ) in caught.value.details


@pytest.mark.parametrize(("unit", "reported"), [("percent", "%"), ("microseconds", "us"), ("milliseconds", "ms")])
def test_the_units_usual_spellings_match(unit: str, reported: str) -> None:
    check = {**checks()[0].as_input(), "unit": unit}
    assert verdict(check, [{"Namespace": "acs_learn", "MetricName": "rt", "Unit": reported}]) is None


def test_a_check_written_before_units_existed_still_checks_name_and_statistic() -> None:
    """A ``checks`` entry from an older state has no statistic_key, unit or unit_key: it reads; no unit is checked."""
    old = {k: v for k, v in checks()[1].as_input().items() if k not in ("statistic_key", "unit", "unit_key")}
    meta = [{"Namespace": "acs_learn", "MetricName": "rps_status_5xx_ratio", "Unit": "%", "Statistics": "Maximum"}]
    assert verdict(old, meta) == (
        "pai-mlops:serving.metrics.errorMetric: metric acs_learn/rps_status_5xx_ratio offers the statistics Maximum, "
        "not Average (what the gates, alarms and dashboard read); choose a metric"
    )
    assert verdict(old, [{**meta[0], "Statistics": "Average"}]) is None


def test_no_cloudmonitor_and_no_gpu_alarm_means_nothing_to_check() -> None:
    raw = copy.deepcopy(VALID_RAW)
    raw["serving"]["metrics"] = {"source": "prometheus", "endpoint": "https://prometheus.example.com"}
    config = parse_stack_config(raw, "prod")
    assert metric_checks(config.serving.metrics, None, gpu=False) == []


def test_prod_alarms_are_checked_even_when_the_gates_read_prometheus() -> None:
    """The alarms are CloudMonitor rules on the latency and error metrics whatever source the gates read."""
    raw = copy.deepcopy(VALID_RAW)
    raw["serving"]["metrics"] = {"source": "prometheus", "endpoint": "https://prometheus.example.com"}
    config = parse_stack_config(raw, "prod")
    found = metric_checks(config.serving.metrics, config.alarms, gpu=False)
    assert [(c.namespace, c.metric, c.key) for c in found] == [
        ("acs_learn", "rt", "pai-mlops:serving.metrics.latencyMetric"),
        ("acs_learn", "rps_status_5xx_ratio", "pai-mlops:serving.metrics.errorMetric"),
    ]


def test_metrics_cloudmonitor_lists_pass(host: ProviderHost, cloud: Control) -> None:
    checked, failures = host.check(MetricMetaCheckProvider(), {}, inputs(checks()))
    assert failures == []
    _, outputs = host.create(MetricMetaCheckProvider(), checked)
    assert outputs["verified"] == [
        "acs_learn/rt",
        "acs_learn/rps_status_5xx_ratio",
        "acs_learn/qps_total",
        "acs_pai_dlc/JOB_GPU_ACCELERATOR_DUTTY_UTIL",
    ]
    assert [(c["action"], c["query"]["MetricName"]) for c in cloud.calls(api="metrics")][:1] == [
        ("DescribeMetricMetaList", "rt")
    ]


def test_an_unknown_metric_fails_up_naming_its_config_key(host: ProviderHost) -> None:
    with pytest.raises(ProviderFailed) as caught:
        host.create(
            MetricMetaCheckProvider(),
            inputs(checks(latencyMetric="P95Latency", latencyUnit="milliseconds", dimension="service")),
        )
    assert caught.value.details.count("pai-mlops:") >= 2
    assert (
        "the metrics this stack watches are not all in CloudMonitor: pai-mlops:serving.metrics.latencyMetric: "
        "CloudMonitor lists no metric 'P95Latency' in namespace 'acs_learn' (DescribeMetricMetaList); alarms on "
        "it would never fire and release gates would see no data. Set pai-mlops:serving.metrics.latencyMetric (and "
        "pai-mlops:serving.metrics.namespace if the namespace is wrong) to a metric the CloudMonitor console lists "
        "under Cloud Service Monitoring; pai-mlops:serving.metrics.dimension: metric acs_learn/rps_status_5xx_ratio "
        "has no dimension service; it has userId, serviceName. Set pai-mlops:serving.metrics.dimension to one of "
        "those"
    ) in caught.value.details


def test_a_wrong_namespace_fails_every_metric_in_it(host: ProviderHost) -> None:
    with pytest.raises(ProviderFailed) as caught:
        host.create(MetricMetaCheckProvider(), inputs(checks(namespace="acs_eas")))
    assert caught.value.details.count("in namespace 'acs_eas'") == 3


def test_a_refused_lookup_names_the_key_and_the_apis_answer(host: ProviderHost, cloud: Control) -> None:
    cloud.verify_credentials("another-key", "another-secret")  # every signature of the stack's key is refused
    with pytest.raises(ProviderFailed) as caught:
        host.create(MetricMetaCheckProvider(), {**inputs(checks()[:1]), "deadline_seconds": 5})
    assert (
        "pai-mlops:serving.metrics.latencyMetric: could not look up CloudMonitor metric acs_learn/rt: "
        "InvalidAccessKeyId.NotFound"
    ) in caught.value.details


def test_check_refuses_an_empty_or_incomplete_list(host: ProviderHost) -> None:
    complete = checks()[0].as_input()
    _, failures = host.check(
        MetricMetaCheckProvider(), {}, {"checks": [{k: v for k, v in complete.items() if k != "metric"}]}
    )
    assert failures == [
        (
            "checks[0].metric",
            "MetricMetaCheck [checks[0].metric]: is required; got nothing. Give the metric ID, e.g. rt.",
        )
    ]
    _, failures = host.check(MetricMetaCheckProvider(), {}, {"checks": []})
    assert failures == [
        ("checks", "MetricMetaCheck [checks]: must not be empty; got []. List at least one metric to check.")
    ]
    _, failures = host.check(MetricMetaCheckProvider(), {}, {"checks": [complete], "deadline_seconds": "60"})
    assert failures == [
        (
            "deadline_seconds",
            "MetricMetaCheck [deadline_seconds]: must be a whole number; got '60'. Give a positive number of seconds.",
        )
    ]


@pytest.mark.parametrize(
    ("text", "names"),
    [("userId,serviceName", ["userId", "serviceName"]), ('["a", "b"]', ["a", "b"]), ("", []), (None, [])],
)
def test_listed_reads_the_catalogues_strings(text: object, names: list[str]) -> None:
    assert listed(text) == names


def test_a_metric_without_the_alarms_statistic_is_refused() -> None:
    check = checks()[0].as_input()
    meta = [{"Namespace": "acs_learn", "MetricName": "rt", "Statistics": "Maximum"}]
    assert verdict(check, meta) == (
        "pai-mlops:serving.metrics.latencyStatistic: metric acs_learn/rt offers the statistics "
        "Maximum, not Average (what the gates, alarms and dashboard read); set "
        "pai-mlops:serving.metrics.latencyStatistic to one of those"
    )
