"""The copy role's session through the provider host: what it may read and write, RAM's delay, expiry, old state.

The emulator's OSS judges every request made with an STS session against the role's attached policies
(tests/emulator/sts.py), so a copy outside the granted prefixes is refused by OSS, not by the provider's own check.
"""

from __future__ import annotations

import json
from typing import Any

import oss2
import pytest

from components.copy_role import read_document, trust_document, write_document
from providers.clients import ClientFactory
from providers.copy_session import assume_role, session_policy
from providers.promotion import ModelPromotionProvider
from tests.emulator import Control
from tests.providers.test_promotion import ACCOUNT, DEST, FILES, PREFIX, ROLE, ROLE_ARN, SOURCE, grant, inputs, sha
from tests.support.provider_host import ProviderFailed, ProviderHost

OTHER = "models/image_tagger/v3/"


@pytest.fixture
def stocked(cloud: Control, clients: ClientFactory) -> Any:
    """Both buckets, the released v7 and another model's v3 in the source; the role not registered yet."""
    cloud.clock(speed=1.0)  # sessions last 900 virtual seconds
    for bucket in (SOURCE, DEST):
        cloud.create_bucket(bucket)
    source = clients.oss_bucket(SOURCE)
    for name, data in FILES.items():
        source.put_object(PREFIX + name, data)
    source.put_object(OTHER + "model.onnx", b"another model's weights")
    cloud.clear_calls()
    return clients.oss_bucket(DEST)


def objects(bucket: Any) -> dict[str, bytes]:
    return {item.key: bucket.get_object(item.key).read() for item in bucket.list_objects_v2(prefix="").object_list}


def test_the_copy_assumes_the_role_once_for_a_short_session(host: ProviderHost, cloud: Control, stocked: Any) -> None:
    grant(cloud)
    _, outputs = host.create(ModelPromotionProvider(), inputs())
    assert outputs["checksums"] == {name: sha(data) for name, data in FILES.items()}
    calls = cloud.calls(api="sts", action="AssumeRole")
    assert [call["query"] for call in calls] == [
        {
            "DurationSeconds": "900",
            "RoleArn": ROLE_ARN,
            "RoleSessionName": "promote.fraud_scorer.v7",
            "Policy": session_policy(SOURCE, PREFIX, DEST, PREFIX),  # this copy's prefixes only (the next test)
        }
    ]
    assert f"promote {PREFIX}: session 1 of {ROLE_ARN} (900s)" in host.stderr


@pytest.mark.parametrize(
    ("granted", "asked", "denied"),
    [
        # the role reads v6 only; the config asks for v7 (the version whose release the gate checked)
        ("models/fraud_scorer/v6/", PREFIX, f"list oss://{SOURCE}/{PREFIX}"),
        # an attacker's config points the copy at another model's prefix
        (PREFIX, OTHER, f"list oss://{SOURCE}/{OTHER}"),
    ],
    ids=["another-version", "another-model"],
)
def test_a_prefix_the_role_was_not_granted_is_refused_by_oss(
    host: ProviderHost, cloud: Control, stocked: Any, granted: str, asked: str, denied: str
) -> None:
    grant(cloud, prefix=granted)
    with pytest.raises(ProviderFailed) as caught:
        host.create(ModelPromotionProvider(), inputs(source_prefix=asked, dest_prefix=asked, deadline_seconds=3))
    assert (
        f"promote {asked}: {denied}: the copy role {ROLE_ARN} is not allowed to (AccessDenied (HTTP 403): You have "
        "no right to access this object because of the RAM policy.; 2 attempts). It may read only the source "
        "prefixes and write only the destination prefixes of the versions this stack promotes"
    ) in caught.value.details
    assert [c["status"] for c in cloud.calls(api="oss", action="ListObjectsV2")] == [403, 403]
    assert cloud.calls(api="oss", action="PutObject") == []
    assert objects(stocked) == {}
    assert "RAM may not have applied the copy role's policies yet, asking again (1/6) in 1s" in host.stderr


def test_a_policy_ram_has_not_applied_yet_is_waited_for(host: ProviderHost, cloud: Control, stocked: Any) -> None:
    grant(cloud, hidden_for=1)  # the role's first OSS request does not see its policies yet
    _, outputs = host.create(ModelPromotionProvider(), inputs())
    assert outputs["checksums"] == {name: sha(data) for name, data in FILES.items()}
    assert [c["status"] for c in cloud.calls(api="oss", action="ListObjectsV2")][:2] == [403, 200]
    assert (
        f"promote {PREFIX}: list oss://{SOURCE}/{PREFIX}: AccessDenied (HTTP 403): You have no right to access this "
        "object because of the RAM policy.; RAM may not have applied the copy role's policies yet, asking again "
        "(1/6) in 1s"
    ) in host.stderr


def test_a_session_expiring_mid_copy_is_renewed_and_the_copy_goes_on(
    host: ProviderHost, cloud: Control, stocked: Any
) -> None:
    grant(cloud)
    cloud.expire_sessions(after_requests=4)  # lists of source and dest, then the first read: then it expires
    _, outputs = host.create(ModelPromotionProvider(), inputs())
    assert outputs["checksums"] == {name: sha(data) for name, data in FILES.items()}
    assert objects(stocked) == {PREFIX + name: data for name, data in FILES.items()}
    assert len(cloud.calls(api="sts", action="AssumeRole")) == 2
    assert f"the session of {ROLE_ARN} expired; assuming the role again" in host.stderr


def test_a_session_that_cannot_be_renewed_mid_copy_stops_it_and_a_rerun_resumes(
    host: ProviderHost, cloud: Control, stocked: Any
) -> None:
    grant(cloud)
    cloud.expire_sessions(after_requests=6)  # two lists, then the first object read, looked for, written, read back
    cloud.fault("AssumeRole", "server_error", times=1000, after=1, api="sts")  # STS down when it must renew
    with pytest.raises(ProviderFailed) as caught:
        host.create(ModelPromotionProvider(), inputs(deadline_seconds=2))
    assert f"promote {PREFIX}: assume {ROLE_ARN}: gave up after" in caught.value.details
    assert objects(stocked) == {PREFIX + "meta/config.json": FILES["meta/config.json"]}
    cloud.clear_faults()
    cloud.clear_calls()
    _, outputs = host.create(ModelPromotionProvider(), inputs())
    assert [c["path"] for c in cloud.calls(api="oss", action="PutObject")] == [f"/{DEST}/{PREFIX}model.pmml"]
    assert outputs["checksums"] == {name: sha(data) for name, data in FILES.items()}
    assert "meta/config.json already copied, identical" in host.stderr


def test_a_role_that_does_not_exist_is_named_with_what_to_check(
    host: ProviderHost, cloud: Control, stocked: Any
) -> None:
    with pytest.raises(ProviderFailed) as caught:
        host.create(ModelPromotionProvider(), inputs(deadline_seconds=3))
    details = caught.value.details
    # (the SDK's message adds the status and request id between code and text)
    assert (
        f"promote {PREFIX}: assume {ROLE_ARN}: the copy role cannot be assumed (EntityNotExist.Role (HTTP 404): "
        in (details)
    )
    assert "The specified Role not exists." in details
    assert (
        f"; 2 attempts). Check that {ROLE_ARN} exists (pulumi up creates it with the promotions) and that its trust "
        "policy names the identity that deploys this stack (docs/environments.md, 'The copy role')"
    ) in details
    assert cloud.calls(api="oss") == []


def test_a_caller_the_trust_policy_does_not_name_cannot_assume_the_role(
    host: ProviderHost, cloud: Control, stocked: Any
) -> None:
    cloud.put_role(ROLE, json.loads(trust_document(ACCOUNT, f"acs:ram::{ACCOUNT}:role/pai-mlops-deploy")))
    with pytest.raises(ProviderFailed) as caught:
        host.create(ModelPromotionProvider(), inputs(deadline_seconds=3))
    assert "the copy role cannot be assumed (NoPermission (HTTP 403): " in caught.value.details
    assert "No permission perform sts:AssumeRole on this Role." in caught.value.details
    assert cloud.calls(api="oss") == []
    # The deploying identity itself may.
    cloud.register_caller("test-access-key", f"acs:ram::{ACCOUNT}:role/pai-mlops-deploy")
    grant_only_policies(cloud)
    _, outputs = host.create(ModelPromotionProvider(), inputs())
    assert outputs["objects"] == 2


def grant_only_policies(cloud: Control) -> None:
    cloud.attach_policy(ROLE, "read", json.loads(read_document(SOURCE, PREFIX)))
    cloud.attach_policy(ROLE, "write", json.loads(write_document(DEST, PREFIX)))


def test_state_from_before_the_copy_role_reads_and_is_verified_again_in_place(host: ProviderHost) -> None:
    old = {k: v for k, v in inputs().items() if k != "copy_role_arn"}
    old_state = {**old, "checksums": {"model.pmml": sha(b"x")}, "objects": 1, "bytes": 1}
    # refresh: the stored state reads as it is
    assert host.read(ModelPromotionProvider(), f"{DEST}/{PREFIX}", old_state) == (f"{DEST}/{PREFIX}", old_state)
    # the next up gives the role: an update that verifies the copy again, not a replacement
    diff = host.diff(ModelPromotionProvider(), f"{DEST}/{PREFIX}", old_state, inputs())
    assert (diff.changes, diff.replaces) == ("DIFF_SOME", [])
    # inputs without it (an old program) are refused, naming the input and the fix
    _, failures = host.check(ModelPromotionProvider(), {}, old)
    assert failures == [
        (
            "copy_role_arn",
            "ModelPromotion [copy_role_arn]: is required; got nothing. Give the ARN of the stack's promotion copy "
            "role, acs:ram::<uid>:role/<prefix>-promote-copy; the program sets it from the Promotions component, so "
            "update pai-mlops and run pulumi up (docs/environments.md, 'The copy role').",
        )
    ]
    with pytest.raises(ProviderFailed) as caught:
        host.update(ModelPromotionProvider(), f"{DEST}/{PREFIX}", old_state, old)
    assert "ModelPromotion [copy_role_arn]: is missing. Give the ARN of the stack's promotion copy role" in (
        caught.value.details
    )


def test_the_role_arn_input_is_checked(host: ProviderHost) -> None:
    _, failures = host.check(ModelPromotionProvider(), {}, inputs(copy_role_arn=f"acs:ram::{ACCOUNT}:user/{ROLE}"))
    assert [name for name, _ in failures] == ["copy_role_arn"]


def test_a_session_for_v7_cannot_read_v6_although_the_role_holds_v6s_policy(
    host: ProviderHost, cloud: Control, stocked: Any, clients: ClientFactory
) -> None:
    """All versions' policies hang on one role; the session policy keeps each copy's session on its own version."""
    v6 = "models/fraud_scorer/v6/"
    clients.oss_bucket(SOURCE).put_object(v6 + "model.pmml", b"v6 weights")
    grant(cloud)
    grant(cloud, prefix=v6)
    _, outputs = host.create(ModelPromotionProvider(), inputs())
    assert outputs["checksums"] == {name: sha(data) for name, data in FILES.items()}
    [call] = cloud.calls(api="sts", action="AssumeRole")
    assert json.loads(call["query"]["Policy"]) == {
        "Version": "1",
        "Statement": [
            {"Effect": "Allow", "Action": ["oss:GetObject"], "Resource": [f"acs:oss:*:*:{SOURCE}/{PREFIX}*"]},
            {
                "Effect": "Allow",
                "Action": ["oss:ListObjects"],
                "Resource": [f"acs:oss:*:*:{SOURCE}"],
                "Condition": {"StringLike": {"oss:Prefix": [f"{PREFIX}*"]}},
            },
            {
                "Effect": "Allow",
                "Action": ["oss:GetObject", "oss:PutObject"],
                "Resource": [f"acs:oss:*:*:{DEST}/{PREFIX}*"],
            },
            {
                "Effect": "Allow",
                "Action": ["oss:ListObjects"],
                "Resource": [f"acs:oss:*:*:{DEST}"],
                "Condition": {"StringLike": {"oss:Prefix": [f"{PREFIX}*"]}},
            },
            {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": ["*"]},
        ],
    }
    # the same session as the copy's (its policy as sent), used for v6: OSS refuses, the role would have allowed it
    session = clients.with_credentials(
        assume_role(clients, ROLE_ARN, "promote.fraud_scorer.v7", policy=call["query"]["Policy"])
    )
    with pytest.raises(oss2.exceptions.AccessDenied) as caught:
        session.oss_bucket(SOURCE).get_object(v6 + "model.pmml")
    assert caught.value.message == "You have no right to access this object because of the STS token's session policy."
    with pytest.raises(oss2.exceptions.AccessDenied):
        session.oss_bucket(DEST).put_object(v6 + "model.pmml", b"x")
    whole_role = clients.with_credentials(assume_role(clients, ROLE_ARN, "promote.fraud_scorer.v7"))
    assert whole_role.oss_bucket(SOURCE).get_object(v6 + "model.pmml").read() == b"v6 weights"
