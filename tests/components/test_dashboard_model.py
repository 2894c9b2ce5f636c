"""The generated dashboard against the config: every served version and GPU run has its panels, exactly."""

from __future__ import annotations

import copy
import json
from typing import Any

from components.dashboard_model import SCHEMA_VERSION, dashboard, dashboard_json, ref_id
from components.dashboards import model_of
from stack_config import StackConfig, parse_stack_config
from tests.conftest import VALID_RAW, VALID_SERVICE
from tests.stack_config.test_stack import SPOT_JOB

CMS = {"type": "aliyun_cms_grafana_datasource", "uid": "cms-hz"}
TAGGER = {**VALID_SERVICE, "name": "image_tagger", "versions": ["v3"], "live": "v3", "codeCommits": {"v3": "1a2b3c4d"}}
CPU_JOB = {**SPOT_JOB, "name": "tabular", "instanceType": "ecs.g6.xlarge", "spot": False}
PANELS = (
    "latency (rt, mean)",
    "error ratio (5xx)",
    "requests per second",
    "instances",
    "traffic share per version (%)",
)


def config_of(services: list[dict[str, Any]], jobs: list[dict[str, Any]], **dashboards: Any) -> StackConfig:
    raw = copy.deepcopy(VALID_RAW)
    raw["serving"] = {"services": services}
    raw["training"] = {"jobs": jobs}
    raw["dashboards"] = {"datasourceUid": "cms-hz", "instancesMetric": "InstanceCount", **dashboards}
    return parse_stack_config(raw, "prod")


def board(config: StackConfig) -> dict[str, Any]:
    job_ids = {job.name: f"dlc-{job.name}" for job in config.training.jobs}
    return dashboard(model_of(config, stack="prod", workspace_id="ws-1", job_ids=job_ids))


def panel(document: dict[str, Any], title: str) -> dict[str, Any]:
    [found] = [p for p in document["panels"] if p["title"] == title]
    return found


def query(metric: str, dimensions: dict[str, str], legend: str, ref: str, project: str = "acs_learn") -> dict[str, Any]:
    return {
        "refId": ref,
        "datasource": CMS,
        "project": project,
        "metric": metric,
        "period": "60",
        "dimensions": [json.dumps(dimensions, sort_keys=True)],
        "ycol": ["Average"],
        "xcol": "timestamp",
        "describe": legend,
        "group": "",
        "type": "timeserie",
    }


def test_every_served_version_has_a_series_in_each_of_its_models_five_panels() -> None:
    document = board(config_of([VALID_SERVICE, TAGGER], [SPOT_JOB, CPU_JOB]))
    assert [p["title"] for p in document["panels"]] == [
        "serving: fraud_scorer",
        *(f"fraud_scorer · {title}" for title in PANELS),
        "serving: image_tagger",
        *(f"image_tagger · {title}" for title in PANELS),
        "training: GPU utilisation",
        "training fraud_scorer run r20261124 · GPU utilisation (%)",
    ]
    metrics = ("rt", "rps_status_5xx_ratio", "qps_total", "InstanceCount", "qps_total")
    for title, metric in zip(PANELS, metrics, strict=True):
        assert panel(document, f"fraud_scorer · {title}")["targets"] == [
            query(metric, {"serviceName": "fraud_scorer_v6"}, "v6", "A"),
            query(metric, {"serviceName": "fraud_scorer_v7"}, "v7", "B"),
        ]
        assert panel(document, f"image_tagger · {title}")["targets"] == [
            query(metric, {"serviceName": "image_tagger_v3"}, "v3", "A")
        ]


def test_the_gate_thresholds_are_red_lines_and_releases_show_as_steps() -> None:
    document = board(config_of([VALID_SERVICE], []))
    latency = panel(document, "fraud_scorer · latency (rt, mean)")["fieldConfig"]["defaults"]
    # rt is in microseconds (CloudMonitor's EAS appendix): the 150 ms gate is drawn at 150000 µs
    assert latency["unit"] == "µs"
    assert latency["thresholds"] == {
        "mode": "absolute",
        "steps": [{"color": "green", "value": None}, {"color": "red", "value": 150000.0}],
    }
    assert latency["custom"]["thresholdsStyle"] == {"mode": "line"}
    errors = panel(document, "fraud_scorer · error ratio (5xx)")["fieldConfig"]["defaults"]
    # the ratio is in percent: maxErrorRate 0.01 is the line at 1 on Grafana's 0-100 "percent" unit
    assert (errors["unit"], errors["thresholds"]["steps"][1]) == ("percent", {"color": "red", "value": 1.0})
    share = panel(document, "fraud_scorer · traffic share per version (%)")["fieldConfig"]["defaults"]["custom"]
    assert (share["lineInterpolation"], share["stacking"], share["fillOpacity"]) == (
        "stepAfter",
        {"mode": "percent", "group": "A"},
        60,
    )
    instances = panel(document, "fraud_scorer · instances")["fieldConfig"]["defaults"]["custom"]
    assert (instances["lineInterpolation"], instances["stacking"]["mode"]) == ("stepAfter", "none")
    qps = panel(document, "fraud_scorer · requests per second")["fieldConfig"]["defaults"]
    assert (qps["unit"], qps["custom"]["lineInterpolation"], qps["custom"]["thresholdsStyle"]) == (
        "reqps",
        "linear",
        {"mode": "off"},
    )


def test_each_gpu_run_has_its_gpu_panel_on_its_job_and_workspace_and_cpu_runs_have_none() -> None:
    second_gpu = {**SPOT_JOB, "name": "ranker", "run": "r20261201"}
    document = board(config_of([VALID_SERVICE], [SPOT_JOB, CPU_JOB, second_gpu]))
    training = [p for p in document["panels"] if p["title"].startswith("training ")]
    assert [p["title"] for p in training] == [
        "training fraud_scorer run r20261124 · GPU utilisation (%)",
        "training ranker run r20261201 · GPU utilisation (%)",
    ]
    gpu = "JOB_GPU_ACCELERATOR_DUTTY_UTIL"
    assert training[1]["targets"] == [
        query(gpu, {"jobId": "dlc-ranker", "workspaceId": "ws-1"}, "ranker/r20261201", "A", project="acs_pai_dlc")
    ]
    assert training[0]["fieldConfig"]["defaults"]["thresholds"]["steps"][1] == {"color": "red", "value": 60.0}
    assert not any("tabular" in p["title"] for p in document["panels"])


def test_a_removed_service_loses_its_panels_and_a_new_version_gets_its_series() -> None:
    both = board(config_of([VALID_SERVICE, TAGGER], []))
    only_fraud = board(config_of([VALID_SERVICE], []))
    assert [p["title"] for p in only_fraud["panels"]] == [
        "serving: fraud_scorer",
        *(f"fraud_scorer · {title}" for title in PANELS),
    ]
    assert not any("image_tagger" in json.dumps(p) for p in only_fraud["panels"])
    assert any("image_tagger" in json.dumps(p) for p in both["panels"])
    three = board(
        config_of(
            [
                {
                    **VALID_SERVICE,
                    "versions": ["v6", "v7", "v8"],
                    "codeCommits": {"v6": "9f1c2ab7", "v7": "4be2c1d9", "v8": "0c0ffee1"},
                }
            ],
            [],
        )
    )
    assert [t["describe"] for t in panel(three, "fraud_scorer · traffic share per version (%)")["targets"]] == [
        "v6",
        "v7",
        "v8",
    ]


def test_the_dashboard_reads_the_configured_metric_names_namespace_dimension_and_data_source() -> None:
    raw_metrics = {
        "namespace": "acs_learn",
        "dimension": "service",
        "latencyMetric": "tp95_rt",
        "latencyStatistic": "Value",
        "latencyUnit": "milliseconds",
        "errorUnit": "ratio",
        "qpsMetric": "qps_total",
    }
    raw = copy.deepcopy(VALID_RAW)
    raw["serving"]["metrics"] = raw_metrics
    raw["dashboards"] = {"datasourceUid": "arms-cms", "datasourceType": "arms-cloudmonitor"}
    config = parse_stack_config(raw, "prod")
    document = dashboard(model_of(config, stack="prod", workspace_id="ws-1", job_ids={}))
    latency = panel(document, "fraud_scorer · latency (tp95_rt, Value)")
    [first, *_] = latency["targets"]
    assert (first["project"], first["metric"], first["dimensions"], first["ycol"]) == (
        "acs_learn",
        "tp95_rt",
        ['{"service": "fraud_scorer_v6"}'],
        ["Value"],
    )
    defaults = latency["fieldConfig"]["defaults"]
    assert (defaults["unit"], defaults["thresholds"]["steps"][1]["value"]) == ("ms", 150.0)
    errors = panel(document, "fraud_scorer · error ratio (5xx)")["fieldConfig"]["defaults"]
    assert (errors["unit"], errors["thresholds"]["steps"][1]["value"]) == ("percentunit", 0.01)
    assert first["datasource"] == {"type": "arms-cloudmonitor", "uid": "arms-cms"}
    # No instance metric named: the panel stays, empty, and says which key to set.
    instances = panel(document, "fraud_scorer · instances")
    assert instances["targets"] == []
    assert instances["description"] == (
        "No instance metric named: set pai-mlops:dashboards.instancesMetric (docs/dashboards.md)."
    )


def test_the_document_has_the_json_models_keys_unique_ids_and_a_grid_without_overlaps() -> None:
    document = board(config_of([VALID_SERVICE, TAGGER], [SPOT_JOB]))
    assert {"uid", "title", "tags", "time", "schemaVersion", "panels", "templating", "annotations", "version"} <= set(
        document
    )
    assert (document["uid"], document["title"], document["tags"]) == (
        "pai-mlops-prod",
        "pai-mlops · prod (prod)",
        ["pai-mlops", "prod"],
    )
    assert document["schemaVersion"] == SCHEMA_VERSION == 39
    ids = [p["id"] for p in document["panels"]]
    assert ids == list(range(1, len(ids) + 1))
    cells: set[tuple[int, int]] = set()
    for item in document["panels"]:
        grid = item["gridPos"]
        assert {"type", "title", "gridPos", "id"} <= set(item)
        assert grid["x"] + grid["w"] <= 24
        covered = {
            (x, y) for x in range(grid["x"], grid["x"] + grid["w"]) for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not covered & cells, item["title"]
        cells |= covered
    assert (
        json.loads(
            dashboard_json(
                model_of(
                    config_of([VALID_SERVICE, TAGGER], [SPOT_JOB]),
                    stack="prod",
                    workspace_id="ws-1",
                    job_ids={"fraud_scorer": "dlc-fraud_scorer"},
                )
            )
        )
        == document
    )


def test_query_ids_go_on_past_z() -> None:
    assert [ref_id(i) for i in (0, 1, 25, 26, 27, 51, 52)] == ["A", "B", "Z", "AA", "AB", "AZ", "BA"]
