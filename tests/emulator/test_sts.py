"""The emulator's STS and its policy check for sessions, through the SDKs the providers use (tests/emulator/sts.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import oss2
import pytest
from alibabacloud_tea_openapi.exceptions import ClientException

from components.copy_role import read_document, trust_document
from providers.clients import ClientFactory
from providers.copy_session import assume_role
from tests.emulator import Control
from tests.emulator.sts import evaluate

ACCOUNT = "1234567890123456"
ARN = f"acs:ram::{ACCOUNT}:role/reader"
BUCKET = "acme-pai-mlops-staging"


@pytest.fixture
def reader(cloud: Control, clients: ClientFactory) -> Any:
    """A role reading models/m/v1/ only, and a session of it (OSS buckets on its credentials)."""
    cloud.clock(speed=1.0)
    cloud.create_bucket(BUCKET)
    clients.oss_bucket(BUCKET).put_object("models/m/v1/a", b"1")
    clients.oss_bucket(BUCKET).put_object("models/m/v2/a", b"2")
    cloud.put_role("reader", json.loads(trust_document(ACCOUNT, None)))
    cloud.attach_policy("reader", "read", json.loads(read_document(BUCKET, "models/m/v1/")))
    return clients.with_credentials(assume_role(clients, ARN, "test.session")).oss_bucket(BUCKET)


def test_a_session_reads_and_lists_only_its_prefix(reader: Any) -> None:
    assert reader.get_object("models/m/v1/a").read() == b"1"
    assert [o.key for o in reader.list_objects_v2(prefix="models/m/v1/").object_list] == ["models/m/v1/a"]
    for denied in (
        lambda: reader.get_object("models/m/v2/a"),
        lambda: reader.list_objects_v2(prefix="models/m/"),  # a wider listing than the condition allows
        lambda: reader.list_objects_v2(prefix=""),
        lambda: reader.put_object("models/m/v1/b", b"x"),  # read only
    ):
        with pytest.raises(oss2.exceptions.AccessDenied) as caught:
            denied()
        assert (caught.value.status, caught.value.code) == (403, "AccessDenied")


def test_an_expired_session_and_a_wrong_token_are_refused(cloud: Control, reader: Any, clients: ClientFactory) -> None:
    cloud.clock(advance=900)
    with pytest.raises(oss2.exceptions.ServerError) as caught:
        reader.get_object("models/m/v1/a")
    assert (caught.value.status, caught.value.code, caught.value.message) == (
        403,
        "SecurityTokenExpired",
        "The security token you provided has expired.",
    )
    session = assume_role(clients, ARN, "test.session")
    forged = clients.with_credentials(type(session)(session.access_key_id, session.access_key_secret, "forged", "x"))
    with pytest.raises(oss2.exceptions.ServerError) as caught:
        forged.oss_bucket(BUCKET).get_object("models/m/v1/a")
    assert caught.value.code == "InvalidSecurityToken"


@pytest.mark.parametrize(
    ("arn", "name", "duration", "code"),
    [
        (f"acs:ram::{ACCOUNT}:role/nobody", "test.session", 900, "EntityNotExist.Role"),
        ("acs:ram::999:role/reader", "test.session", 900, "EntityNotExist.Role"),  # same name, another account
        (ARN, "x", 900, "InvalidParameter.RoleSessionName"),
        (ARN, "a" * 33, 900, "InvalidParameter.RoleSessionName"),
        (ARN, "test.session", 899, "InvalidParameter.DurationSeconds"),
        (ARN, "test.session", 3601, "InvalidParameter.DurationSeconds"),  # above the role's MaxSessionDuration
        (f"acs:ram::{ACCOUNT}:user/reader", "test.session", 900, "InvalidParameter.RoleArn"),
    ],
)
def test_assume_role_refusals_carry_the_documented_codes(
    cloud: Control, clients: ClientFactory, arn: str, name: str, duration: int, code: str
) -> None:
    cloud.put_role("reader", json.loads(trust_document(ACCOUNT, None)))
    with pytest.raises(ClientException) as caught:
        assume_role(clients, arn, name, duration)
    assert caught.value.code == code


def test_only_the_trusted_identity_may_assume_the_role(cloud: Control, clients: ClientFactory) -> None:
    deployer = f"acs:ram::{ACCOUNT}:role/pai-mlops-deploy"
    cloud.put_role("reader", json.loads(trust_document(ACCOUNT, deployer)))
    with pytest.raises(ClientException) as caught:
        assume_role(clients, ARN, "test.session")  # the test key is a user of the account, not the deployer
    assert (caught.value.code, caught.value.status_code) == ("NoPermission", 403)
    cloud.register_caller("test-access-key", deployer)
    assert assume_role(clients, ARN, "test.session").access_key_id.startswith("STS.")
    # a service principal admits no access key
    cloud.put_role(
        "reader",
        {
            "Version": "1",
            "Statement": [
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": ["pai.aliyuncs.com"]}}
            ],
        },
    )
    with pytest.raises(ClientException):
        assume_role(clients, ARN, "test.session")


def test_an_explicit_deny_wins_and_unknown_conditions_never_allow() -> None:
    allow = {"Effect": "Allow", "Action": ["oss:*"], "Resource": ["acs:oss:*:*:b/*"]}
    deny = {"Effect": "Deny", "Action": ["oss:PutObject"], "Resource": ["acs:oss:*:*:b/models/*"]}
    odd = {
        "Effect": "Allow",
        "Action": ["oss:GetObject"],
        "Resource": ["*"],
        "Condition": {"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}},
    }
    resource = "acs:oss:cn-hangzhou:1:b/models/m/v1/a"
    assert evaluate([{"Statement": [allow, deny]}], "oss:PutObject", resource, {}) == "Deny"
    assert evaluate([{"Statement": [allow]}], "oss:PutObject", resource, {}) == "Allow"
    assert evaluate([{"Statement": [odd]}], "oss:GetObject", resource, {}) == "ImplicitDeny"
    exact = {**allow, "Action": ["oss:getobject"]}
    assert evaluate([{"Statement": [exact]}], "oss:GetObject", resource, {}) == "ImplicitDeny"  # case-sensitive


def test_a_session_policy_narrows_the_session_to_what_both_allow(cloud: Control, clients: ClientFactory) -> None:
    """The role reads v1 and v2; a session limited to v1 reads v1 only (the intersection), listing included."""
    cloud.create_bucket(BUCKET)
    for version in ("v1", "v2"):
        clients.oss_bucket(BUCKET).put_object(f"models/m/{version}/a", version.encode())
    cloud.put_role("reader", json.loads(trust_document(ACCOUNT, None)))
    cloud.attach_policy("reader", "read-v1", json.loads(read_document(BUCKET, "models/m/v1/")))
    cloud.attach_policy("reader", "read-v2", json.loads(read_document(BUCKET, "models/m/v2/")))
    narrow = read_document(BUCKET, "models/m/v1/")
    session: Any = clients.with_credentials(assume_role(clients, ARN, "test.session", policy=narrow)).oss_bucket(BUCKET)
    assert session.get_object("models/m/v1/a").read() == b"v1"
    denied: list[Callable[[], object]] = [
        lambda: session.get_object("models/m/v2/a"),
        lambda: session.list_objects_v2(prefix="models/m/v2/"),
    ]
    for attempt in denied:
        with pytest.raises(oss2.exceptions.AccessDenied) as caught:
            attempt()
        assert (caught.value.status, caught.value.code, caught.value.message) == (
            403,
            "AccessDenied",
            "You have no right to access this object because of the STS token's session policy.",
        )
    # a session policy never widens: it allows v3 and the writes, the role does not
    wide = json.dumps({"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["oss:*"], "Resource": ["*"]}]})
    widened = clients.with_credentials(assume_role(clients, ARN, "test.session", policy=wide)).oss_bucket(BUCKET)
    with pytest.raises(oss2.exceptions.AccessDenied):
        widened.put_object("models/m/v1/b", b"x")
    assert widened.get_object("models/m/v2/a").read() == b"v2"


@pytest.mark.parametrize(
    "policy",
    ["not json", "[]", '{"Version": "1"}', "", json.dumps({"Version": "1", "Statement": [], "x": "a" * 2048})],
    ids=["not-json", "not-an-object", "no-statement", "empty", "longer-than-2048"],
)
def test_a_session_policy_that_is_not_a_policy_is_refused(cloud: Control, clients: ClientFactory, policy: str) -> None:
    cloud.put_role("reader", json.loads(trust_document(ACCOUNT, None)))
    with pytest.raises(ClientException) as caught:
        assume_role(clients, ARN, "test.session", policy=policy)
    assert caught.value.code == "InvalidParameter.PolicyGrammar"
    assert "The parameter Policy has not passed grammar check." in caught.value.message
