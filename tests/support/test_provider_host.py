"""A provider from providers/ driven through ``python -m pulumi.dynamic``, as ``pulumi up`` drives it.

Proves the round trip the real providers depend on: Pulumi's serializer pickles the provider by reference to
its module, the host (started from the project root) unpickles it, ``configure()`` receives the stack config
with secrets unwrapped, the client factory signs with exactly those credentials, transient errors are retried,
and no credential ends up in the outputs that go into state.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from providers.probe import ApiProbeProvider
from tests.emulator import Control, Emulator
from tests.support.provider_host import ProviderFailed, ProviderHost

CONFIG = {
    "alicloud:accessKey": "stack-access-key",
    "alicloud:secretKey": "stack-secret-key-do-not-leak",
    "alicloud:region": "cn-hangzhou",
}
SECRET = frozenset({"alicloud:secretKey"})
INPUTS = {"apis": ["eas", "dlc", "dsw", "oss"], "bucket": "mlops-dev", "deadline_seconds": 20}


@pytest.fixture
def host(emulator: Emulator, cloud: Control) -> Iterator[ProviderHost]:
    cloud.create_bucket("mlops-dev")
    cloud.verify_credentials("stack-access-key", "stack-secret-key-do-not-leak")
    with ProviderHost(env=emulator.environment()) as running:
        yield running


def test_provider_is_pickled_by_reference_to_its_module() -> None:
    pickled = base64.b64decode(serialize_provider(ApiProbeProvider()))
    assert b"providers.probe" in pickled and b"ApiProbeProvider" in pickled
    assert b"def _probe" not in pickled and b"list_services" not in pickled  # the code itself is not in state


def test_create_through_the_host_uses_the_configured_credentials(host: ProviderHost, cloud: Control) -> None:
    assert host.configure(CONFIG, SECRET) is False  # the dynamic host never accepts secrets: the engine strips them
    inputs, failures = host.check(ApiProbeProvider(), {}, INPUTS)
    assert failures == []
    id_, outputs = host.create(ApiProbeProvider(), inputs)
    assert id_ == "probe-cn-hangzhou"
    assert outputs == {
        **INPUTS,
        "region": "cn-hangzhou",
        "reachable": {"eas": True, "dlc": True, "dsw": True, "oss": True},
        "requests": {"eas": 1.0, "dlc": 1.0, "dsw": 1.0, "oss": 1.0},  # numbers come back as floats over gRPC
    }
    assert "stack-secret-key" not in json.dumps(outputs) and "stack-access-key" not in json.dumps(outputs)
    assert [call["action"] for call in cloud.calls() if call["api"] != "oss"] == [
        "ListServices",
        "ListJobs",
        "ListInstances",
    ]  # each signed with the stack's key: the emulator verified every signature


def test_check_reports_each_bad_input(host: ProviderHost) -> None:
    host.configure(CONFIG, SECRET)
    _, failures = host.check(ApiProbeProvider(), {}, {"apis": ["eas", "ecs", "oss"], "deadline_seconds": 0})
    assert failures == [
        (
            "apis[1]",
            "ApiProbe [apis[1]]: must be one of 'eas', 'dlc', 'dsw' or 'oss'; got 'ecs'. "
            "List the APIs to probe, from eas, dlc, dsw and oss.",
        ),
        (
            "deadline_seconds",
            "ApiProbe [deadline_seconds]: must be greater than 0; got 0. Give the probe's budget in seconds, e.g. 60.",
        ),
    ]
    _, failures = host.check(ApiProbeProvider(), {}, {"apis": ["eas", "oss"]})
    assert failures == [("bucket", "probing oss needs the bucket to list; set bucket")]


@pytest.mark.parametrize(
    ("inputs", "failure"),
    [
        (
            {"apis": "eas"},
            "ApiProbe [apis]: must be a list; got 'eas'. List the APIs to probe, from eas, dlc, dsw and oss.",
        ),
        (
            {"apis": []},
            "ApiProbe [apis]: must not be empty; got []. List the APIs to probe, from eas, dlc, dsw and oss.",
        ),
        (
            {"deadline_seconds": "60"},
            "ApiProbe [deadline_seconds]: must be a number; got '60'. Give the probe's budget in seconds, e.g. 60.",
        ),
        (
            {"deadline_seconds": True},
            "ApiProbe [deadline_seconds]: must be a number; got True. Give the probe's budget in seconds, e.g. 60.",
        ),
    ],
)
def test_check_refuses_wrong_types_instead_of_crashing_later(
    host: ProviderHost, inputs: dict[str, object], failure: str
) -> None:
    _, failures = host.check(ApiProbeProvider(), {}, inputs)
    assert [reason for _, reason in failures] == [failure]


def test_throttling_is_retried_inside_the_host(host: ProviderHost, cloud: Control) -> None:
    host.configure(CONFIG, SECRET)
    cloud.fault("ListJobs", "throttle", times=2)
    _, outputs = host.create(ApiProbeProvider(), INPUTS)
    assert outputs["requests"]["dlc"] == 3
    assert [c["fault"] for c in cloud.calls(action="ListJobs")] == ["throttle", "throttle", None]
    assert "[pai-mlops] probe dlc: Throttling.User (HTTP 400): code: 400, Request was denied" in host.stderr


def test_wrong_credentials_fail_with_the_apis_answer(emulator: Emulator, cloud: Control) -> None:
    cloud.verify_credentials("stack-access-key", "a-different-secret")
    with ProviderHost(env=emulator.environment()) as host:
        host.configure(CONFIG, SECRET)
        with pytest.raises(ProviderFailed) as caught:
            host.create(ApiProbeProvider(), {"apis": ["dlc"], "deadline_seconds": 5})
    assert "the stack's credentials do not reach every PAI API in region cn-hangzhou: dlc: SignatureDoesNotMatch" in (
        caught.value.details
    )
    assert "stack-secret-key" not in caught.value.details


def test_missing_credentials_name_the_config_keys(emulator: Emulator, cloud: Control) -> None:
    with ProviderHost(env=emulator.environment()) as host:
        host.configure({"alicloud:region": "cn-hangzhou"})
        with pytest.raises(ProviderFailed) as caught:
            host.create(ApiProbeProvider(), {"apis": ["dlc"]})
    assert "Alibaba Cloud credentials are incomplete; missing alicloud:accessKey" in caught.value.details


def test_diff_update_read_delete(host: ProviderHost) -> None:
    host.configure(CONFIG, SECRET)
    _, outputs = host.create(ApiProbeProvider(), INPUTS)
    same = host.diff(ApiProbeProvider(), "probe-cn-hangzhou", outputs, INPUTS)
    assert (same.changes, same.replaces) == ("DIFF_NONE", [])
    fewer = {**INPUTS, "apis": ["eas"]}
    changed = host.diff(ApiProbeProvider(), "probe-cn-hangzhou", outputs, fewer)
    assert (changed.changes, changed.replaces) == ("DIFF_SOME", [])
    updated = host.update(ApiProbeProvider(), "probe-cn-hangzhou", outputs, fewer)
    assert updated["reachable"] == {"eas": True}
    assert host.read(ApiProbeProvider(), "probe-cn-hangzhou", updated) == ("probe-cn-hangzhou", updated)
    host.delete(ApiProbeProvider(), "probe-cn-hangzhou", updated)
