"""The stack's Grafana dashboard: ``dashboards`` (where it is deployed, which data source it reads) and its rules.

Off by default. When ``enabled``, ``components/dashboards.py`` deploys the dashboard through the Grafana Pulumi
provider with its own provider resource (``url`` here, the token in the secret ``pai-mlops:grafanaAuth``, never in
plain text). The offline plan writes the same dashboard to ``build/dashboards/<stack>.json`` whether or not it is
enabled (``tools/dashboard_file.py``). docs/dashboards.md has the sources and the unknowns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from pydantic import StrictBool, StrictStr
from pydantic.dataclasses import dataclass

from config_problems import MISSING, PROJECT, Problem, key
from stack_config.fields import MODEL

# The Alibaba CloudMonitor data source plugin for Grafana: its plugin id (aliyun/aliyun-cms-grafana src/plugin.json).
CMS_PLUGIN: Final = "aliyun_cms_grafana_datasource"
GRAFANA_AUTH_KEY: Final = "grafanaAuth"


@dataclass(frozen=True, kw_only=True, config=MODEL)
class DashboardConfig:
    """The stack's Grafana dashboard (ARMS Managed Grafana or self-hosted) and the CloudMonitor data source it reads."""

    enabled: StrictBool = key(
        "Write true to deploy the stack's dashboard to Grafana (needs url, datasourceUid and the secret grafanaAuth)",
        default=False,
    )
    url: StrictStr | None = key(
        "Give the Grafana root URL, e.g. 'https://grafana.example.com' or the ARMS Grafana workspace URL",
        default=None,
        rule="an https:// URL with no user or token in it",
        pattern=r"^https://[^\s@/]+(/\S*)?$",
    )
    folder: StrictStr | None = key(
        "Name the Grafana folder the dashboard is created in, e.g. 'ML platform' (none: the General folder)",
        default=None,
        min_length=1,
        max_length=100,
    )
    datasource_uid: StrictStr | None = key(
        "Give the uid of the CloudMonitor data source in Grafana (Connections → Data sources: the end of its URL)",
        default=None,
        rule="1-40 letters, digits, '-' or '_'",
        pattern=r"^[A-Za-z0-9_-]{1,40}$",
    )
    datasource_type: StrictStr = key(
        "Give the plugin id of that data source; aliyun_cms_grafana_datasource is the CloudMonitor plugin's",
        default=CMS_PLUGIN,
        min_length=1,
    )
    instances_metric: StrictStr | None = key(
        "Name the CloudMonitor metric of a service's running instances, as DescribeMetricMetaList lists it in "
        "serving.metrics.namespace (no public doc names one; checked at pulumi up)",
        default=None,
        min_length=1,
    )


def dashboard_problems(raw: Mapping[str, Any], secrets_set: frozenset[str]) -> list[Problem]:
    """An enabled dashboard names where it goes, what it reads and how it signs in (the token as a secret)."""
    dashboards = raw.get("dashboards")
    if not isinstance(dashboards, dict) or dashboards.get("enabled") is not True:
        return []
    where = f"{PROJECT}:dashboards"
    needed = {
        "url": "Give the Grafana root URL, e.g. 'https://grafana.example.com'",
        "datasourceUid": "Give the uid of the CloudMonitor data source in Grafana (Connections → Data sources)",
        "instancesMetric": "List the namespace's metrics (DescribeMetricMetaList, or the CloudMonitor console) and "
        "name the one that counts a service's running instances",
    }
    problems = [
        Problem(where, name, "is required when enabled is true", MISSING, fix)
        for name, fix in needed.items()
        if dashboards.get(name) in (None, "")
    ]
    if GRAFANA_AUTH_KEY not in secrets_set:
        problems.append(
            Problem(
                PROJECT,
                GRAFANA_AUTH_KEY,
                "is required when dashboards.enabled is true: the Grafana provider signs in with it",
                MISSING,
                "Run `pulumi config set --secret grafanaAuth <service account token or user:password>`",
            )
        )
    return problems
