"""OSS through oss2 (path style on an IP endpoint) and the metrics APIs (CloudMonitor SDK, Prometheus HTTP)."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

import oss2
import pytest
from alibabacloud_cms20190101 import models as cms
from alibabacloud_tea_openapi.exceptions import ClientException

from providers.clients import ClientFactory
from tests.emulator import Control, Emulator
from tests.emulator.control import ControlError


@pytest.fixture
def bucket(clients: ClientFactory, cloud: Control) -> oss2.Bucket:
    cloud.create_bucket("mlops-dev")
    return clients.oss_bucket("mlops-dev")


def test_put_get_head_delete(bucket: oss2.Bucket) -> None:
    put = bucket.put_object("models/fraud/run 1/model.pt", b"weights", headers={"x-oss-meta-step": "100"})
    assert put.etag == hashlib.md5(b"weights").hexdigest().upper()
    assert bucket.get_object("models/fraud/run 1/model.pt").read() == b"weights"
    head = bucket.head_object("models/fraud/run 1/model.pt")
    assert (head.content_length, head.headers["x-oss-meta-step"]) == (7, "100")
    assert bucket.object_exists("models/fraud/run 1/model.pt") is True
    assert bucket.delete_object("models/fraud/run 1/model.pt").status == 204
    assert bucket.object_exists("models/fraud/run 1/model.pt") is False


def test_errors_are_oss_xml(bucket: oss2.Bucket, clients: ClientFactory) -> None:
    with pytest.raises(oss2.exceptions.NoSuchKey) as missing:
        bucket.get_object("nope")
    assert (missing.value.status, missing.value.code, missing.value.message) == (
        404,
        "NoSuchKey",
        "The specified key does not exist.",
    )
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        clients.oss_bucket("no-such-bucket").put_object("k", b"v")
    with pytest.raises(oss2.exceptions.NoSuchBucket):  # HEAD: the error document travels in x-oss-err
        clients.oss_bucket("no-such-bucket").object_exists("k")


def test_list_v2_with_prefix_delimiter_and_pages(bucket: oss2.Bucket) -> None:
    for step in (100, 200, 300):
        bucket.put_object(f"checkpoints/fraud/run1/step-{step}/model.pt", b"x" * step)
        bucket.put_object(f"checkpoints/fraud/run1/step-{step}/_COMPLETE", b"")
    bucket.put_object("checkpoints/fraud/run1/notes.txt", b"n")
    listing = bucket.list_objects_v2(prefix="checkpoints/fraud/run1/", delimiter="/")
    assert listing.prefix_list == [f"checkpoints/fraud/run1/step-{s}/" for s in (100, 200, 300)]
    assert [o.key for o in listing.object_list] == ["checkpoints/fraud/run1/notes.txt"]
    assert listing.is_truncated is False
    every = [o.key for o in oss2.ObjectIteratorV2(bucket, prefix="checkpoints/fraud/run1/step-", max_keys=2)]
    assert len(every) == 6 and every[0] == "checkpoints/fraud/run1/step-100/_COMPLETE"
    sizes = {o.key: o.size for o in oss2.ObjectIteratorV2(bucket, prefix="checkpoints/fraud/run1/step-300/")}
    assert sizes == {"checkpoints/fraud/run1/step-300/_COMPLETE": 0, "checkpoints/fraud/run1/step-300/model.pt": 300}
    page = bucket.list_objects_v2(prefix="checkpoints/", max_keys=3)
    assert (page.is_truncated, len(page.object_list), page.next_continuation_token) == (
        True,
        3,
        "checkpoints/fraud/run1/step-100/model.pt",
    )
    assert [o.key for o in oss2.ObjectIterator(bucket, prefix="checkpoints/fraud/run1/n")] == [
        "checkpoints/fraud/run1/notes.txt"
    ]  # ListObjects v1 too


def test_cloudmonitor_describe_metric_last(clients: ClientFactory, cloud: Control) -> None:
    cloud.set_metrics("fraud_v2", p95_latency_ms=180.5, error_ratio=0.02, qps=40)
    client = clients.cloudmonitor()

    def last(metric: str, service: str = "fraud_v2") -> Any:
        request = cms.DescribeMetricLastRequest(
            namespace="acs_learn", metric_name=metric, dimensions=json.dumps([{"serviceName": service}]), period="60"
        )
        return client.describe_metric_last(request).body

    body = last("rt")
    points = json.loads(body.datapoints)
    assert (body.code, body.period, len(points)) == ("200", "60", 1)
    # rt is in microseconds and lists Average, Maximum, Minimum only (CloudMonitor's EAS appendix): no percentile
    assert points[0] == {
        "timestamp": points[0]["timestamp"],
        "serviceName": "fraud_v2",
        **dict.fromkeys(("Average", "Maximum", "Minimum"), 180500.0),
    }
    # the 5xx ratio is in percent, with Average, Maximum, Minimum and Value
    [ratio] = json.loads(last("rps_status_5xx_ratio").datapoints)
    assert {k: ratio[k] for k in ("Average", "Maximum", "Minimum", "Value")} == dict.fromkeys(
        ("Average", "Maximum", "Minimum", "Value"), 2.0
    )
    [qps] = json.loads(last("qps_total").datapoints)
    assert set(qps) == {"timestamp", "serviceName", "Value", "Average", "Maximum"} and qps["Value"] == 40.0
    assert json.loads(last("qps_total", "unknown_service").datapoints) == []  # no traffic, no data
    # the PAI alert page's display names are not CloudMonitor IDs, and acs_pai_eas is in no source
    for metric in ("TP99ResponseTime", "TP95ResponseTime", "5xxResponseRatio", "QueryPerSecondTotal"):
        with pytest.raises(ClientException) as caught:
            last(metric)  # an unknown metric: the DescribeMetricLast doc's error code
        assert (
            caught.value.code == "ResourceNotFound" and "The specified resource is not found." in caught.value.message
        )
    with pytest.raises(ClientException) as caught:
        client.describe_metric_last(
            cms.DescribeMetricLastRequest(
                namespace="acs_pai_eas", metric_name="rt", dimensions=json.dumps([{"serviceName": "fraud_v2"}])
            )
        )
    assert caught.value.code == "ResourceNotFound"


def test_cloudmonitors_catalogue_lists_each_metrics_unit_and_statistics(clients: ClientFactory, cloud: Control) -> None:
    request = cms.DescribeMetricMetaListRequest(namespace="acs_learn", page_size=100)
    resources = clients.cloudmonitor().describe_metric_meta_list(request).body.resources.resource
    assert {(r.metric_name, r.unit, r.statistics, r.dimensions) for r in resources} == {
        ("rt", "microseconds", "Average,Maximum,Minimum", "userId,serviceName"),
        ("rps_status_5xx_ratio", "%", "Average,Maximum,Minimum,Value", "userId,serviceName"),
        ("qps_total", "frequency", "Value,Average,Maximum", "userId,serviceName"),
    }


def test_cloudmonitor_serves_lies_and_refusals(clients: ClientFactory, cloud: Control) -> None:
    cloud.set_metrics("fraud_v2", p95_latency_ms="NaN", error_ratio="missing", qps="many")
    client = clients.cloudmonitor()

    def last(metric: str, namespace: str = "acs_learn") -> Any:
        request = cms.DescribeMetricLastRequest(
            namespace=namespace, metric_name=metric, dimensions=json.dumps([{"serviceName": "fraud_v2"}])
        )
        return client.describe_metric_last(request).body

    assert "NaN" in last("rt").datapoints  # the JSON token, as a lying backend writes it
    assert "Average" not in json.loads(last("rps_status_5xx_ratio").datapoints)[0]
    assert json.loads(last("qps_total").datapoints)[0]["Average"] == "many"
    cloud.set_metrics("fraud_v2", qps=None)
    assert json.loads(last("qps_total").datapoints)[0]["Average"] is None
    with pytest.raises(ClientException) as caught:
        last("rt", namespace="acs_eas")
    assert caught.value.code == "ResourceNotFound"
    cloud.refuse_metrics(403, "Forbidden", "not authorized", in_body=True)
    body = last("rt")
    assert (body.success, body.code, body.message, body.datapoints) == (False, "403", "not authorized", None)
    cloud.refuse_metrics(403, "Forbidden", "not authorized")
    with pytest.raises(ClientException) as caught:
        last("rt")
    assert (caught.value.code, caught.value.status_code) == ("Forbidden", 403)


def prometheus(emulator: Emulator, query: str) -> tuple[int, dict[str, Any]]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    url = f"{emulator.url}/api/v1/query?{urlencode({'query': query})}"
    try:
        with opener.open(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_prometheus_instant_queries(emulator: Emulator, cloud: Control) -> None:
    cloud.set_metrics("fraud_v2", p95_latency_ms=95.0, error_ratio=0.001, qps=12)
    cloud.set_metrics("fraud_v1", p95_latency_ms=80.0, error_ratio=0.0, qps=0)  # no traffic
    status, body = prometheus(emulator, 'pai_eas_latency_p95_ms{service="fraud_v2"}')
    assert status == 200 and body["status"] == "success" and body["data"]["resultType"] == "vector"
    [sample] = body["data"]["result"]
    assert (sample["metric"], sample["value"][1]) == (
        {"__name__": "pai_eas_latency_p95_ms", "service": "fraud_v2"},
        "95.0",
    )
    assert prometheus(emulator, 'pai_eas_error_ratio{service="fraud_v1"}')[1]["data"]["result"] == []
    assert [r["metric"]["service"] for r in prometheus(emulator, "pai_eas_qps")[1]["data"]["result"]] == ["fraud_v2"]
    status, body = prometheus(emulator, "rate(http_requests_total[5m])")
    assert (status, body["status"], body["errorType"]) == (400, "error", "bad_data")


def test_metrics_control_validates(cloud: Control) -> None:
    with pytest.raises(ControlError) as caught:
        cloud.set_metrics("fraud_v2", error_ratio=1.5)
    assert (caught.value.status, caught.value.body["message"]) == (
        400,
        "error_ratio must be a non-negative number (error_ratio at most 1); got 1.5",
    )
