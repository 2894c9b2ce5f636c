"""The ``dashboards`` section: off by default, and an enabled one names where it goes, what it reads and its secret."""

from __future__ import annotations

import copy
from typing import Any

from stack_config import DashboardConfig, parse_stack_config
from stack_config.secrets import MUST_BE_SECRET, plaintext_secret_problems
from tests.conftest import VALID_RAW
from tests.stack_config.test_stack import problems_of

ENABLED: dict[str, Any] = {
    "enabled": True,
    "url": "https://grafana.example.com",
    "folder": "ML platform",
    "datasourceUid": "cms-hz",
    "instancesMetric": "InstanceCount",
}


def with_dashboards(dashboards: Any) -> dict[str, Any]:
    raw = copy.deepcopy(VALID_RAW)
    raw["dashboards"] = dashboards
    return raw


def test_dashboards_are_off_by_default_and_read_the_cloudmonitor_plugin() -> None:
    config = parse_stack_config(copy.deepcopy(VALID_RAW), "prod")
    assert config.dashboards == DashboardConfig()
    assert (config.dashboards.enabled, config.dashboards.url, config.dashboards.datasource_uid) == (False, None, None)
    assert config.dashboards.datasource_type == "aliyun_cms_grafana_datasource"
    assert config.dashboards.instances_metric is None


def test_an_enabled_dashboard_with_its_keys_and_the_secret_parses() -> None:
    config = parse_stack_config(with_dashboards(ENABLED), "prod", frozenset({"grafanaAuth"}))
    assert config.dashboards == DashboardConfig(
        enabled=True,
        url="https://grafana.example.com",
        folder="ML platform",
        datasource_uid="cms-hz",
        instances_metric="InstanceCount",
    )


def test_an_enabled_dashboard_without_its_keys_or_secret_names_each_and_its_fix() -> None:
    assert problems_of(with_dashboards({"enabled": True})) == [
        "pai-mlops:dashboards [url]: is required when enabled is true; got nothing. Give the Grafana root URL, "
        "e.g. 'https://grafana.example.com'.",
        "pai-mlops:dashboards [datasourceUid]: is required when enabled is true; got nothing. Give the uid of the "
        "CloudMonitor data source in Grafana (Connections → Data sources).",
        "pai-mlops:dashboards [instancesMetric]: is required when enabled is true; got nothing. List the namespace's "
        "metrics (DescribeMetricMetaList, or the CloudMonitor console) and name the one that counts a service's "
        "running instances.",
        "pai-mlops [grafanaAuth]: is required when dashboards.enabled is true: the Grafana provider signs in with it; "
        "got nothing. Run `pulumi config set --secret grafanaAuth <service account token or user:password>`.",
    ]


def test_a_disabled_dashboard_needs_nothing_else() -> None:
    config = parse_stack_config(with_dashboards({"enabled": False, "folder": "ML"}), "prod")
    assert (config.dashboards.enabled, config.dashboards.folder) == (False, "ML")


def test_wrong_types_and_a_plain_http_or_credential_url_are_refused_by_key() -> None:
    problems = problems_of(with_dashboards({**ENABLED, "enabled": "yes", "url": "http://grafana.example.com"}))
    assert problems == [
        "pai-mlops:dashboards [enabled]: must be true or false; got 'yes'. Write true to deploy the stack's dashboard "
        "to Grafana (needs url, datasourceUid and the secret grafanaAuth).",
        "pai-mlops:dashboards [url]: must be an https:// URL with no user or token in it; got "
        "'http://grafana.example.com'. Give the Grafana root URL, e.g. 'https://grafana.example.com' or the ARMS "
        "Grafana workspace URL.",
    ]
    leaked = problems_of(with_dashboards({**ENABLED, "url": "https://admin:glsa_123@grafana.example.com"}), "prod")
    assert "glsa_123" not in " ".join(leaked)
    assert "pai-mlops:dashboards [url]: holds a user name or token inside the URL; got a value not shown here." in (
        " ".join(leaked)
    )


def test_an_unknown_key_and_a_bad_datasource_uid_are_refused() -> None:
    problems = problems_of(with_dashboards({**ENABLED, "datasourceUid": "cms hz", "dashbord": 1}))
    assert problems[:2] == [
        "pai-mlops:dashboards [datasourceUid]: must be 1-40 letters, digits, '-' or '_'; got 'cms hz'. Give the uid "
        "of the CloudMonitor data source in Grafana (Connections → Data sources: the end of its URL).",
        "pai-mlops:dashboards [dashbord]: is not a known key; got a value not shown here. Known keys here: "
        "datasourceType, datasourceUid, enabled, folder, instancesMetric, url.",
    ]


def test_the_grafana_token_must_be_set_as_a_secret() -> None:
    assert "pai-mlops:grafanaAuth" in MUST_BE_SECRET
    problems = plaintext_secret_problems(["pai-mlops:grafanaAuth"], secret_keys=set())
    assert [(p.where, p.key, p.problem) for p in problems] == [
        ("pai-mlops", "grafanaAuth", "is set in plain text, not as a secret")
    ]
