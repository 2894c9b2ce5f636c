"""The offline plan's copy of the stack's dashboard: ``build/dashboards/<stack>.json``, for a reviewer to open.

Written by every plan that passed config validation, whether or not ``dashboards.enabled`` is set, so a pull request
shows what the dashboard would look like (import it in Grafana: Dashboards → New → Import). Values known only at
``pulumi up`` are placeholders: the workspace id, each training run's DLC job id, and the data source uid when
``dashboards.datasourceUid`` is not set. The panels and queries are otherwise exactly what ``up`` deploys
(``components/dashboards.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from components.dashboard_model import dashboard_json
from components.dashboards import gpu_runs, model_of
from stack_config import StackConfig, parse_stack_config, raw_from_values
from stack_config.secrets import SECRET_KEYS
from tools.mock_engine import project_name

WORKSPACE_PLACEHOLDER = "<workspace id: known at pulumi up>"


def job_placeholder(job: str) -> str:
    return f"<DLC job id of train-{job}: known at pulumi up>"


def offline_dashboard(config: StackConfig, stack: str) -> str:
    """The dashboard JSON of ``config`` with placeholders for the ids known only at ``pulumi up``."""
    job_ids = {job: job_placeholder(job) for job, _ in gpu_runs(config)}
    return dashboard_json(model_of(config, stack=stack, workspace_id=WORKSPACE_PLACEHOLDER, job_ids=job_ids))


def dashboard_path(root: Path, stack: str) -> Path:
    return root / "build" / "dashboards" / f"{stack}.json"


def write_dashboard(stack: str, root: Path, values: Mapping[str, str]) -> Path:
    """Write the dashboard of the stack whose flat config is ``values`` (as the plan read it); return its path.

    The plan has validated the same values already (the program ran on them), so this cannot fail on config.
    """
    project = project_name(root)
    keys = (full_key.partition(":") for full_key in values)
    secrets_set = frozenset(name for namespace, _, name in keys if namespace == project and name in SECRET_KEYS)
    config = parse_stack_config(raw_from_values(values, project), stack, secrets_set, full_keys=values)
    path = dashboard_path(root, stack)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(offline_dashboard(config, stack))
    return path
