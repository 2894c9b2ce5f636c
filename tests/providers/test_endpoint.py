"""ServiceEndpoint through ``python -m pulumi.dynamic`` against the emulator: token rotation that reaches every
member and converges, drift and deletion seen by refresh, lost answers and busy members, a typed ``check``."""

# pyright: basic, reportOptionalMemberAccess=false, reportArgumentType=false, reportReturnType=false

from __future__ import annotations

import json
from typing import Any

import pytest
from alibabacloud_eas20210701 import models as eas

from providers.clients import ClientFactory
from providers.endpoint import ServiceEndpointProvider
from tests.emulator import Control
from tests.support.provider_host import ProviderHost

REGION = "cn-hangzhou"
V6, V7 = "fraud_scorer_v6", "fraud_scorer_v7"
ID = f"{REGION}/fraud_scorer"
OLD, NEW = "old-token-0123456789", "new-token-0123456789"


def endpoint(token: str | None = OLD, **services: str) -> dict[str, Any]:
    return {"group": "fraud_scorer", "services": services or {"v6": V6, "v7": V7}, "token": token}


@pytest.fixture
def group(cloud: Control, clients: ClientFactory) -> ClientFactory:
    for name in (V6, V7):
        config = {"metadata": {"name": name, "group": "fraud_scorer", "instance": 1}, "processor": "pmml"}
        clients.eas().create_service(eas.CreateServiceRequest(body=json.dumps(config)))
    cloud.clock(advance=120)
    return clients


def token_of(clients: ClientFactory, service: str) -> str:
    return clients.eas().describe_service(REGION, service).body.access_token


def rotations(cloud: Control) -> list[tuple[str, str | None]]:
    """(service, fault) of every UpdateService that carried a token."""
    return [(c["path"].split("/")[-1], c["fault"]) for c in cloud.calls(api="eas", action="UpdateService")]


def test_endpoints_and_tokens_are_read_and_rotated(host: ProviderHost, cloud: Control, group: ClientFactory) -> None:
    props = endpoint(token=None)
    id_, outs = host.create(ServiceEndpointProvider(), props)
    client = group.eas()
    v7 = client.describe_service(REGION, V7).body
    grp = client.describe_group(REGION, "fraud_scorer").body
    assert outs["endpoints"]["v7"] == {
        "service": V7,
        "internet": v7.internet_endpoint,
        "intranet": v7.intranet_endpoint,
    }
    assert outs["access_token"]["v7"] == v7.access_token and len(v7.access_token) == 32
    assert (outs["group_access_token"], outs["group_endpoint"]["internet"]) == (grp.access_token, grp.internet_endpoint)

    rotated = host.update(ServiceEndpointProvider(), id_, outs, {**props, "token": "rotated-token-0123456789"})
    assert rotated["access_token"] == {"v6": "rotated-token-0123456789", "v7": "rotated-token-0123456789"}
    assert [c["body"] for c in cloud.calls(api="eas", action="UpdateService")] == [
        {"token": "rotated-token-0123456789"}
    ] * 2


def test_rotation_reaches_a_version_added_later(host: ProviderHost, cloud: Control, group: ClientFactory) -> None:
    id_, outs = host.create(ServiceEndpointProvider(), endpoint(v6=V6))
    assert rotations(cloud) == [(V6, None)]
    cloud.clock(advance=120)
    outs = host.update(ServiceEndpointProvider(), id_, outs, endpoint())  # v7 added; the token is unchanged
    assert rotations(cloud) == [(V6, None), (V7, None)]
    assert (token_of(group, V6), token_of(group, V7)) == (OLD, OLD)
    assert outs["access_token"] == {"v6": OLD, "v7": OLD}


def test_a_rotation_stopped_half_way_converges_on_the_next_up_waiting_for_a_busy_member(
    host: ProviderHost, cloud: Control, group: ClientFactory
) -> None:
    id_, outs = host.create(ServiceEndpointProvider(), endpoint())
    cloud.clock(advance=120)  # the first rotation settled
    cloud.timing(eas={"update": 1000})  # one virtual update lasts about half a real second
    # The last up rotated v6 to the new token and stopped; v7 is meanwhile busy with a config update.
    client = group.eas()
    client.update_service(REGION, V6, eas.UpdateServiceRequest(body={"token": NEW}))
    cloud.clock(advance=2000)
    client.update_service(REGION, V7, eas.UpdateServiceRequest(body={"metadata": {"instance": 2}}))
    assert client.describe_service(REGION, V7).body.status == "Updating"
    before = len(rotations(cloud))

    host.update(ServiceEndpointProvider(), id_, outs, endpoint(NEW), timeout=60)
    assert rotations(cloud)[before:] == [(V7, None)]  # v6 already had it; v7 once it settled
    assert (token_of(group, V6), token_of(group, V7)) == (NEW, NEW)
    assert f"endpoints of fraud_scorer: {V7} to settle before its token changes: Updating" in host.stderr


def test_a_lost_answer_on_a_rotation_is_read_back_not_sent_again(
    host: ProviderHost, cloud: Control, group: ClientFactory
) -> None:
    id_, outs = host.create(ServiceEndpointProvider(), endpoint())
    cloud.clock(advance=120)
    cloud.timing(eas={"update": 4000})  # a repeated UpdateService would meet the member still Updating
    cloud.fault("UpdateService", "lost_response", api="eas")
    outs = host.update(ServiceEndpointProvider(), id_, outs, endpoint(NEW), timeout=60)
    assert rotations(cloud)[2:] == [(V6, "lost_response"), (V7, None)]
    assert outs["access_token"] == {"v6": NEW, "v7": NEW}
    assert "endpoints of fraud_scorer: token of fraud_scorer_v6: the change took effect" in host.stderr


def test_refresh_shows_a_token_changed_by_hand_and_up_restores_it(
    host: ProviderHost, cloud: Control, group: ClientFactory
) -> None:
    id_, outs = host.create(ServiceEndpointProvider(), endpoint())
    assert outs["observed"] == {"stale_token": [], "missing": []}
    cloud.clock(advance=120)
    group.eas().update_service(REGION, V7, eas.UpdateServiceRequest(body={"token": "by-hand-token-0123456789"}))
    cloud.clock(advance=60)

    read_id, refreshed = host.read(ServiceEndpointProvider(), id_, outs)
    assert read_id == id_ and refreshed["token"] == OLD  # the declared token is kept
    assert refreshed["observed"] == {"stale_token": ["v7"], "missing": []}
    assert refreshed["access_token"]["v7"] == "by-hand-token-0123456789"
    assert host.diff(ServiceEndpointProvider(), id_, refreshed, endpoint()).changes == "DIFF_SOME"

    restored = host.update(ServiceEndpointProvider(), id_, refreshed, endpoint())
    assert token_of(group, V7) == OLD and rotations(cloud)[-1] == (V7, None)
    assert host.diff(ServiceEndpointProvider(), id_, restored, endpoint()).changes == "DIFF_NONE"


def test_refresh_after_deletion_in_the_console(host: ProviderHost, cloud: Control, group: ClientFactory) -> None:
    id_, outs = host.create(ServiceEndpointProvider(), endpoint(None))
    group.eas().delete_service(REGION, V7)
    cloud.clock(advance=60)
    read_id, refreshed = host.read(ServiceEndpointProvider(), id_, outs)
    assert read_id == id_ and refreshed["observed"] == {"stale_token": [], "missing": ["v7"]}
    assert list(refreshed["endpoints"]) == ["v6"]
    assert host.diff(ServiceEndpointProvider(), id_, refreshed, endpoint(None)).changes == "DIFF_SOME"
    group.eas().delete_service(REGION, V6)  # the group goes with its last member
    cloud.clock(advance=60)
    assert host.read(ServiceEndpointProvider(), id_, outs) == ("", {})


@pytest.mark.parametrize(
    ("changes", "failure"),
    [
        (
            {"services": "fraud_scorer_v7"},
            (
                "services",
                "ServiceEndpoint [services]: must be an object (a YAML mapping); got 'fraud_scorer_v7'. "
                "Map each version to its EAS service name, e.g. {v7: fraud_scorer_v7}.",
            ),
        ),
        (
            {"services": {}},
            (
                "services",
                "ServiceEndpoint [services]: must not be empty; got {}. "
                "Map each version to its EAS service name, e.g. {v7: fraud_scorer_v7}.",
            ),
        ),
        (
            {"group": ""},
            (
                "group",
                "ServiceEndpoint [group]: must not be empty; got ''. Give the EAS service group the members belong to.",
            ),
        ),
        (
            {"token": "short-secret"},
            (
                "token",
                "ServiceEndpoint [token]: must have at least 16 characters; got a value not shown here. "
                "Pass a secret of at least 16 characters (pulumi config set --secret), or leave it out.",
            ),
        ),
    ],
)
def test_check_refuses_each_bad_input_and_never_echoes_the_token(
    host: ProviderHost, changes: dict[str, Any], failure: tuple[str, str]
) -> None:
    _, failures = host.check(ServiceEndpointProvider(), {}, {**endpoint(), **changes})
    assert failures == [failure]
