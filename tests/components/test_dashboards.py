"""StackDashboard under the mock engine: its own Grafana provider (token as a secret), folder and generated dashboard;
the metric checks behind it; and the program deploying it only when the config enables it."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN

from components.dashboard_model import dashboard_json
from components.dashboards import (
    StackDashboard,
    StackDashboardArgs,
    dashboard_checks,
    known_id,
    merged_checks,
    model_of,
)
from components.monitoring import metric_checks_of
from config_problems import StackConfigError
from providers.metric_meta import MetricCheck, MetricMetaCheck, MetricMetaCheckArgs
from stack_config import StackConfig, parse_stack_config
from tests.conftest import VALID_RAW
from tests.stack_config.test_stack import SPOT_JOB
from tools.mock_engine import RecordingMocks, run_program, run_under_mocks, stack_config_values

PROVIDER = "pulumi:providers:grafana"
DASHBOARD = "grafana:oss/dashboard:Dashboard"
FOLDER = "grafana:oss/folder:Folder"
COMPONENT = "pai-mlops:dashboards:StackDashboard"
SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
ENABLED = {
    "enabled": True,
    "url": "https://grafana.example.com",
    "datasourceUid": "cms-hz",
    "instancesMetric": "InstanceCount",
}


def config_of(**dashboards: Any) -> StackConfig:
    raw = copy.deepcopy(VALID_RAW)
    raw["training"] = {"jobs": [SPOT_JOB]}
    raw["dashboards"] = {**ENABLED, **dashboards}
    return parse_stack_config(raw, "prod", frozenset({"grafanaAuth"}))


def register(config: StackConfig, *, with_check: bool = False) -> None:
    def program() -> None:
        check = (
            MetricMetaCheck("metric-meta", MetricMetaCheckArgs(checks=dashboard_checks(config))) if with_check else None
        )
        args = StackDashboardArgs(
            config=config,
            stack="prod",
            auth="glsa_token",
            workspace_id="ws-1",
            job_ids={"fraud_scorer": "dlc-123"},
            metric_check=check,
        )
        StackDashboard("dashboard", args)

    run_under_mocks(program)


def urn_of(mocks: RecordingMocks, typ: str, name: str) -> str:
    return mocks.one(typ, name).urn


def test_the_dashboard_goes_through_its_own_provider_with_the_token_as_a_secret(mocks: RecordingMocks) -> None:
    config = config_of(folder="ML platform")
    register(config, with_check=True)
    component = mocks.one(COMPONENT, "dashboard")
    provider = mocks.one(PROVIDER, "dashboard-grafana")
    assert provider.parent_urn == component.urn
    assert provider.inputs["url"] == "https://grafana.example.com"
    assert provider.properties["auth"] == {**SECRET_SIG, "value": "glsa_token"}
    folder = mocks.one(FOLDER, "dashboard-folder")
    assert folder.inputs == {"title": "ML platform", "uid": "pai-mlops-prod-folder"}
    assert folder.provider.rsplit("::", 1)[0] == provider.urn
    board = mocks.one(DASHBOARD, "dashboard-dashboard")
    assert board.parent_urn == component.urn
    assert board.provider.rsplit("::", 1)[0] == provider.urn
    expected = dashboard_json(model_of(config, stack="prod", workspace_id="ws-1", job_ids={"fraud_scorer": "dlc-123"}))
    assert board.inputs == {
        "configJson": expected,
        "folder": "pai-mlops-prod-folder",
        "message": "pai-mlops: generated from the prod stack's config",
    }
    assert urn_of(mocks, "pulumi-python:dynamic/pai:MetricMetaCheck", "metric-meta") in board.dependencies
    assert '"dlc-123"' not in expected and "dlc-123" in expected  # the job id sits inside a dimension's JSON text


def test_without_a_folder_the_dashboard_goes_to_general(mocks: RecordingMocks) -> None:
    register(config_of())
    assert [r.type for r in mocks.registrations if r.type == FOLDER] == []
    assert "folder" not in mocks.one(DASHBOARD, "dashboard-dashboard").inputs


def test_no_token_is_refused_before_anything_is_registered() -> None:
    with pytest.raises(ValueError, match=r"^pai-mlops:grafanaAuth is required for dashboards"):
        StackDashboardArgs.of_stack(config_of(), auth=None, workspace_id="ws-1", job_ids={}, metric_check=None)


def test_an_enabled_dashboard_checks_every_metric_it_draws_and_the_merge_keeps_each_once() -> None:
    config = config_of()
    serving = {
        "namespace_key": "pai-mlops:serving.metrics.namespace",
        "dimension_key": "pai-mlops:serving.metrics.dimension",
    }

    def eas(metric: str, key: str, statistic_key: str | None = None, unit: str | None = None) -> MetricCheck:
        return MetricCheck(
            namespace="acs_learn",
            metric=metric,
            dimensions=("serviceName",),
            statistic="Average",
            key=f"pai-mlops:{key}",
            **serving,
            statistic_key=statistic_key and f"pai-mlops:{statistic_key}",
            unit=unit,
            unit_key=unit and f"pai-mlops:{key.replace('Metric', 'Unit')}",
        )

    gpu = MetricCheck(
        namespace="acs_pai_dlc",
        metric="JOB_GPU_ACCELERATOR_DUTTY_UTIL",
        dimensions=("workspaceId", "jobId"),
        statistic="Average",
        key="pai-mlops:alarms.gpuMetric",
        namespace_key="pai-mlops:alarms.trainingNamespace",
        dimension_key="pai-mlops:alarms.trainingDimension",
    )
    assert dashboard_checks(config) == [
        eas("rt", "serving.metrics.latencyMetric", "serving.metrics.latencyStatistic", "microseconds"),
        eas("rps_status_5xx_ratio", "serving.metrics.errorMetric", unit="percent"),
        eas("qps_total", "serving.metrics.qpsMetric"),
        eas("InstanceCount", "dashboards.instancesMetric"),
        gpu,
    ]
    merged = merged_checks(metric_checks_of(config), dashboard_checks(config))
    assert [(c.metric, c.dimensions) for c in merged] == [
        ("rt", ("serviceName",)),
        ("rps_status_5xx_ratio", ("serviceName",)),
        ("qps_total", ("serviceName",)),
        ("JOB_GPU_ACCELERATOR_DUTTY_UTIL", ("userId", "regionId", "workspaceId")),
        ("InstanceCount", ("serviceName",)),
        ("JOB_GPU_ACCELERATOR_DUTTY_UTIL", ("workspaceId", "jobId")),
    ]
    raw = copy.deepcopy(VALID_RAW)
    assert dashboard_checks(parse_stack_config(raw, "prod")) == []  # off by default: nothing to check


def run_stack(stack: str, dashboards: dict[str, Any] | None, secret: bool = True) -> RecordingMocks:
    values, secret_keys = stack_config_values(stack)
    if dashboards is not None:
        values = {**values, "pai-mlops:dashboards": json.dumps(dashboards), "pai-mlops:grafanaAuth": "glsa_token"}
        secret_keys = [*secret_keys, "pai-mlops:grafanaAuth"] if secret else secret_keys
    return run_program(stack, preview=True, config=(values, secret_keys))


def test_the_program_deploys_the_dashboard_only_when_enabled_and_checks_its_metrics_first() -> None:
    assert [r for r in run_stack("dev", None).registrations if r.type in (PROVIDER, DASHBOARD, COMPONENT)] == []
    mocks = run_stack("dev", ENABLED)
    board = mocks.one(DASHBOARD, "dashboard-dashboard")
    # The DLC job ids are unknown at preview, so the JSON is too: the engine receives the unknown, never a guess.
    assert isinstance(board.inputs["configJson"], Unknown)
    assert board.properties["configJson"] == UNKNOWN
    provider = mocks.one(PROVIDER, "dashboard-grafana")
    assert provider.properties["auth"] == {**SECRET_SIG, "value": "glsa_token"}
    check = mocks.one("pulumi-python:dynamic/pai:MetricMetaCheck", "metric-meta")
    assert check.urn in board.dependencies
    checked = {(c["metric"], c["key"]) for c in check.inputs["checks"]}
    assert ("InstanceCount", "pai-mlops:dashboards.instancesMetric") in checked


def test_a_grafana_token_in_plain_text_is_refused() -> None:
    with pytest.raises(StackConfigError) as caught:
        run_stack("dev", ENABLED, secret=False)
    assert "pai-mlops [grafanaAuth]: is set in plain text, not as a secret" in str(caught.value)


def test_a_missing_job_id_fails_instead_of_charting_the_text_none() -> None:
    assert known_id("fraud_scorer", "dlc-123") == "dlc-123"
    for lost in (None, "", 123):
        with pytest.raises(ValueError, match=r"^training job 'fraud_scorer' has no DLC job id to chart"):
            known_id("fraud_scorer", lost)
