"""Long-running dynamic resources are spread over explicit provider hosts (lanes); the rest stay on the default."""

from __future__ import annotations

import hashlib
import zlib

import pytest

from components.provider_hosts import lane_of
from config_problems import StackConfigError
from tools.mock_engine import RecordingMocks, Registration, run_program, stack_config_values

PROVIDER_TYPE = "pulumi:providers:pulumi-python"
LONG = ("pulumi-python:dynamic/pai:TrafficShift", "pulumi-python:dynamic/pai:EasService")
TRAINING = "pulumi-python:dynamic/pai:TrainingJob"
SECRET_SIG = "4dabf18193072939515e22adb298388d"


def run(stack: str, **overrides: str) -> RecordingMocks:
    values, secret_keys = stack_config_values(stack)
    values = {**values, **overrides}
    secrets = [*secret_keys, *(k for k in overrides if k.endswith(("secretKey", "securityToken")))]
    return run_program(stack, config=(values, secrets))


def providers(mocks: RecordingMocks) -> dict[str, Registration]:
    return {r.urn: r for r in mocks.registrations if r.type == PROVIDER_TYPE}


def provider_urn(registration: Registration) -> str:
    return registration.provider.rsplit("::", 1)[0] if registration.provider else ""


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_each_long_running_resource_is_on_the_lane_its_name_hashes_to(stack: str) -> None:
    mocks = run(stack)
    lanes = providers(mocks)
    long_running = [r for r in mocks.registrations if r.type in (*LONG, TRAINING)]
    assert {r.type for r in long_running} == {*LONG, TRAINING}
    for resource in long_running:
        lane = int.from_bytes(hashlib.blake2b(resource.name.encode(), digest_size=8).digest(), "big") % 16
        assert lanes[provider_urn(resource)].name == f"provider-host-{lane}", resource.name
    # Only lanes that serve something exist, and everything else is on the default provider.
    assert set(lanes) == {provider_urn(r) for r in long_running}
    others = [r for r in mocks.registrations if r.type.startswith("pulumi-python:") and r not in long_running]
    assert others and all(r.provider == "" for r in others)


def test_a_lane_gets_the_credentials_the_providers_read_and_the_secret_ones_as_secrets() -> None:
    mocks = run(
        "dev",
        **{"alicloud:accessKey": "AKIDLANE", "alicloud:secretKey": "lane-secret", "alicloud:securityToken": "tok"},
    )
    [lane, *_] = providers(mocks).values()
    assert set(lane.inputs) == {"alicloud:region", "alicloud:accessKey", "alicloud:secretKey", "alicloud:securityToken"}
    assert lane.inputs["alicloud:region"] == "cn-hangzhou"
    assert lane.inputs["alicloud:accessKey"] == "AKIDLANE"
    # The secret ones travel wrapped in Pulumi's secret signature, which the engine encrypts in the state.
    secret = {SECRET_SIG: "1b47061264138c4ac30d75fd1eb44270"}
    assert lane.properties["alicloud:secretKey"] == {**secret, "value": "lane-secret"}
    assert lane.properties["alicloud:securityToken"] == {**secret, "value": "tok"}
    assert lane.properties["alicloud:accessKey"] == "AKIDLANE"


def test_zero_lanes_keep_every_resource_on_the_default_host() -> None:
    mocks = run("dev", **{"pai-mlops:providerHosts": "0"})
    assert providers(mocks) == {}
    assert all(r.provider == "" for r in mocks.registrations if r.type.startswith("pulumi-python:"))


def test_the_lane_count_comes_from_config_as_the_engine_hands_it_over() -> None:
    mocks = run("dev", **{"pai-mlops:providerHosts": "1"})
    assert [r.name for r in providers(mocks).values()] == ["provider-host-0"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("65", "pai-mlops [providerHosts]: must be at most 64; got 65."),
        ("many", "pai-mlops [providerHosts]: must be a whole number; got 'many'."),
    ],
)
def test_a_bad_lane_count_is_refused_naming_the_key(value: str, message: str) -> None:
    with pytest.raises(StackConfigError) as caught:
        run("dev", **{"pai-mlops:providerHosts": value})
    assert [str(p).startswith(message) for p in caught.value.problems] == [True], caught.value.problems


def test_a_resources_lane_does_not_move_when_others_come_and_go() -> None:
    # The lane is a function of the name alone (and the lane count), the same in every process and Python version.
    assert [lane_of(f"fraud_scorer{i}-traffic", 16) for i in range(3)] == [2, 0, 14]
    assert lane_of("fraud_scorer-traffic", 16) == 13
    assert lane_of("fraud_scorer-traffic", 64) == 29


def test_numbered_names_spread_over_lanes_where_a_crc_piles_them_on_one() -> None:
    # Training runs named train0 … train3: a CRC-32 puts all four on one lane, filling its four threads.
    assert [zlib.crc32(f"train{i}-job".encode()) % 16 for i in range(4)] == [1, 1, 1, 1]
    assert [lane_of(f"train{i}-job", 16) for i in range(4)] == [9, 9, 12, 6]
    assert [zlib.crc32(f"job{i}-job".encode()) % 16 for i in range(10)] == [8] * 8 + [9] * 2
    assert len({lane_of(f"job{i}-job", 16) for i in range(10)}) == 10
