"""The offline plan writes the stack's dashboard to build/dashboards/<stack>.json, ids unknown at preview marked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.dashboard_model import dashboard_json
from components.dashboards import model_of
from stack_config import parse_stack_config, raw_from_values
from tests.support.program_copy import project_copy
from tools import plan
from tools.dashboard_file import WORKSPACE_PLACEHOLDER, dashboard_path, job_placeholder, write_dashboard
from tools.mock_engine import stack_config_values


def test_the_plan_writes_the_dashboard_of_the_stacks_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "project").mkdir()
    root = project_copy(tmp_path / "project")
    assert plan.main(["--stack", "dev", "--root", str(root), "--out", str(tmp_path / "plan.json")]) == 0
    capsys.readouterr()
    written = (root / "build" / "dashboards" / "dev.json").read_text()
    values, _ = stack_config_values("dev", root)
    config = parse_stack_config(raw_from_values(values, "pai-mlops"), "dev")
    job_ids = {"fraud_scorer": job_placeholder("fraud_scorer")}
    assert written == dashboard_json(model_of(config, stack="dev", workspace_id=WORKSPACE_PLACEHOLDER, job_ids=job_ids))
    document = json.loads(written)
    assert document["title"] == "pai-mlops · dev (dev)"
    gpu = document["panels"][-1]
    assert gpu["title"] == "training fraud_scorer run r20261124 · GPU utilisation (%)"
    assert json.loads(gpu["targets"][0]["dimensions"][0]) == {
        "jobId": "<DLC job id of train-fraud_scorer: known at pulumi up>",
        "workspaceId": "<workspace id: known at pulumi up>",
    }
    # dev does not enable dashboards: the data source uid is a placeholder naming the key that sets it.
    assert gpu["datasource"] == {"type": "aliyun_cms_grafana_datasource", "uid": "<dashboards.datasourceUid>"}


def test_a_plan_refused_on_config_writes_no_dashboard(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project_copy(tmp_path, stack_yaml="config:\n  pai-mlops:environment: qa\n")
    assert plan.main(["--stack", "broken", "--root", str(root), "--out", str(tmp_path / "plan.json")]) == 2
    capsys.readouterr()
    assert not dashboard_path(root, "broken").exists()


def test_write_dashboard_reads_the_dashboards_section_and_overwrites_the_last_file(tmp_path: Path) -> None:
    root = project_copy(tmp_path)
    values, _ = stack_config_values("dev", root)
    dashboard_path(root, "dev").parent.mkdir(parents=True)
    dashboard_path(root, "dev").write_text("stale")
    section = {"datasourceUid": "cms-hz", "datasourceType": "arms-cms", "instancesMetric": "InstanceCount"}
    path = write_dashboard("dev", root, {**values, "pai-mlops:dashboards": json.dumps(section)})
    assert path == root / "build" / "dashboards" / "dev.json"
    document = json.loads(path.read_text())
    instances = next(p for p in document["panels"] if p["title"] == "fraud_scorer · instances")
    assert [t["metric"] for t in instances["targets"]] == ["InstanceCount", "InstanceCount"]
    assert instances["datasource"] == {"type": "arms-cms", "uid": "cms-hz"}
