"""TrafficShift through ``python -m pulumi.dynamic`` against the emulator.

Releases run on real time (bakes of a fraction of a second); the emulator's metrics for the new version are set per
traffic share, so a version can be healthy at 10% and break at 50%. Weights are asserted from the emulator's log
of ReleaseService calls.
"""

# pyright: basic, reportOptionalMemberAccess=false, reportReturnType=false, reportArgumentType=false

from __future__ import annotations

import copy
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from alibabacloud_eas20210701 import models as eas

from providers.clients import ClientFactory
from providers.traffic import TrafficShiftProvider
from tests.conftest import PROVIDER_CONFIG
from tests.emulator import Control, Emulator
from tests.support.provider_host import ProviderFailed, ProviderHost, wait_until
from tests.support.shift import shift_inputs

REGION = "cn-hangzhou"
V6, V7 = "fraud_scorer_v6", "fraud_scorer_v7"
BAKE = 0.5
SHIFT: dict[str, Any] = shift_inputs(services={"v6": V6, "v7": V7}, bake_seconds=BAKE)
HEALTHY = {"p95_latency_ms": 90, "error_ratio": 0.001, "qps": 50}


def shift(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(SHIFT), **changes}


@pytest.fixture
def group(cloud: Control, clients: ClientFactory) -> ClientFactory:
    """Versions v6 (created first: it takes the group's traffic) and v7 of fraud_scorer, both Running."""
    client = clients.eas()
    for name in (V6, V7):
        config = {"metadata": {"name": name, "group": "fraud_scorer", "instance": 2}, "processor": "pmml"}
        client.create_service(eas.CreateServiceRequest(body=json.dumps(config)))
    cloud.clock(advance=120)
    cloud.set_metrics(V6, **HEALTHY)
    return clients


def live_on_v6(host: ProviderHost, cloud: Control) -> dict[str, Any]:
    """The stack's state after a first deployment with v6 live; the call log starts after it.

    The group was created in ``auto`` mode: the first operation pins the split EAS made (v6 took it all) as weights,
    then sets ``customized``.
    """
    id_, outs = host.create(TrafficShiftProvider(), shift(), timeout=30)
    assert id_ == "cn-hangzhou/fraud_scorer" and outs["weights"] == {"v6": 100, "v7": 0}
    assert releases(cloud) == REVERTED
    assert [c["body"] for c in cloud.calls(api="eas", action="UpdateGroup")] == [{"TrafficMode": "customized"}]
    cloud.clear_calls()
    return outs


def releases(cloud: Control) -> list[tuple[str, int, str]]:
    """Every ReleaseService that took effect: (service, weight, traffic state)."""
    return [
        (call["path"].split("/")[-2], call["body"]["Weight"], call["body"]["TrafficState"])
        for call in cloud.calls(api="eas", action="ReleaseService")
        if call["status"] == 200
    ]


def weights_now(clients: ClientFactory) -> dict[str, tuple[int, str]]:
    services = clients.eas().list_services(eas.ListServicesRequest(group_name="fraud_scorer")).body.services
    return {s.service_name: (s.weight, s.traffic_state) for s in services}


def outside_the_group(clients: ClientFactory, cloud: Control, name: str) -> None:
    """A Running service whose config has no metadata.group: it never joined."""
    body = json.dumps({"metadata": {"name": name}, "processor": "pmml"})
    clients.eas().create_service(eas.CreateServiceRequest(body=body))
    cloud.clock(advance=120)


def failed_update(host: ProviderHost, olds: dict[str, Any], **changes: Any) -> str:
    """Run an update that must fail; the provider's message (with its traceback)."""
    with pytest.raises(ProviderFailed) as failure:
        host.update(TrafficShiftProvider(), "id", olds, shift(**changes), timeout=60)
    return failure.value.details


STEP = {
    10: [(V6, 900, "grouping"), (V7, 100, "grouping")],
    50: [(V6, 500, "grouping"), (V7, 500, "grouping")],
    100: [(V6, 0, "standalone"), (V7, 1000, "grouping")],
}
REVERTED = [(V6, 1000, "grouping"), (V7, 0, "standalone")]


# -- releases ---------------------------------------------------------------------------------------------------


def test_a_healthy_release_moves_10_50_100_and_records_every_step(
    host: ProviderHost, cloud: Control, group: ClientFactory
) -> None:
    olds = live_on_v6(host, cloud)
    assert releases(cloud) == []  # v6 already took all traffic: nothing to move
    cloud.set_metrics(V7, **HEALTHY)

    started = time.monotonic()
    outs = host.update(TrafficShiftProvider(), "cn-hangzhou/fraud_scorer", olds, shift(live="v7"), timeout=60)
    elapsed = time.monotonic() - started

    assert releases(cloud) == STEP[10] + STEP[50] + STEP[100]
    assert cloud.calls(api="eas", action="UpdateService") == []  # instance counts are the autoscaler's
    assert elapsed >= 3 * BAKE  # every step baked (the ratio to the bakes is measured in bench/)
    assert weights_now(group) == {V6: (0, "standalone"), V7: (1000, "grouping")}
    assert (outs["live"], outs["weights"], outs["previous_lives"]) == ("v7", {"v6": 0, "v7": 100}, ["v6", "v7"])
    steps = [(e["phase"], e["step"], e["weights"], e["verdict"]) for e in outs["history"]]
    assert steps == [
        ("traffic_mode", 0, {"v6": 100, "v7": 0}, "customized"),  # from the first deployment
        ("step", 10, {"v6": 90, "v7": 10}, "pass"),
        ("step", 50, {"v6": 50, "v7": 50}, "pass"),
        ("step", 100, {"v6": 0, "v7": 100}, "pass"),
    ]
    assert outs["history"][1]["metrics"] == {"p95_latency_ms": 90.0, "error_ratio": 0.001, "qps": 50.0}
    assert all(e["at"].endswith("Z") for e in outs["history"])
    assert "traffic fraud_scorer: step 50% (v6 50%, v7 50%), baking 0.5s" in host.stderr


def test_an_error_breach_at_50_percent_restores_the_weights_and_names_the_metric(
    host: ProviderHost, cloud: Control, group: ClientFactory
) -> None:
    olds = live_on_v6(host, cloud)
    cloud.set_metrics(V7, **HEALTHY)
    cloud.set_metrics(V7, error_ratio=0.2, from_share=50)  # breaks under half the traffic

    with pytest.raises(ProviderFailed) as failure:
        host.update(TrafficShiftProvider(), "id", olds, shift(live="v7"), timeout=60)

    assert releases(cloud) == STEP[10] + STEP[50] + REVERTED
    assert weights_now(group) == {V6: (1000, "grouping"), V7: (0, "standalone")}
    assert (
        "ShiftFailed: traffic shift of group fraud_scorer to v7 reverted at step 50%: error ratio of fraud_scorer_v7 "
        "was 0.2, above its threshold 0.01. Weights restored: v6 100%, v7 0%. The stack keeps its previous live "
        "version" in failure.value.details
    )
    assert "  - step 50%: breach {'v6': 50, 'v7': 50}" in failure.value.details


def test_a_latency_breach_at_10_percent_never_gets_further(
    host: ProviderHost, cloud: Control, group: ClientFactory
) -> None:
    olds = live_on_v6(host, cloud)
    cloud.set_metrics(V7, **{**HEALTHY, "p95_latency_ms": 900})

    with pytest.raises(ProviderFailed) as failure:
        host.update(TrafficShiftProvider(), "id", olds, shift(live="v7"), timeout=60)

    assert releases(cloud) == STEP[10] + REVERTED
    assert "reverted at step 10%: Average latency (rt) of fraud_scorer_v7 was 900, above its threshold 200." in (
        failure.value.details
    )


def test_no_traffic_is_inconclusive_then_fails_by_default(
    host: ProviderHost, cloud: Control, group: ClientFactory
) -> None:
    olds = live_on_v6(host, cloud)  # v7 has no metrics: it takes no traffic the metrics can see

    with pytest.raises(ProviderFailed) as failure:
        host.update(TrafficShiftProvider(), "id", olds, shift(live="v7"), timeout=60)

    assert releases(cloud) == STEP[10] + REVERTED
    assert (
        "reverted at step 10%: no metric data: the new version took no traffic or the metrics did not answer after 1 "
        "extension(s), and no_data is 'fail'." in failure.value.details
    )
    assert "inconclusive (no metric data" in host.stderr and "extending the bake 1" in host.stderr


def test_no_traffic_with_no_data_proceed_moves_on_and_says_so(
    host: ProviderHost, cloud: Control, group: ClientFactory
) -> None:
    olds = live_on_v6(host, cloud)
    outs = host.update(TrafficShiftProvider(), "id", olds, shift(live="v7", no_data="proceed"), timeout=60)
    assert [e["verdict"] for e in outs["history"] if e["phase"] == "step"] == ["proceeded_without_data"] * 3
    assert outs["weights"] == {"v6": 0, "v7": 100}


def test_too_few_requests_is_inconclusive(host: ProviderHost, cloud: Control, group: ClientFactory) -> None:
    olds = live_on_v6(host, cloud)
    cloud.set_metrics(V7, **{**HEALTHY, "qps": 1})
    with pytest.raises(ProviderFailed) as failure:
        host.update(TrafficShiftProvider(), "id", olds, shift(live="v7", min_requests=100), timeout=60)
    assert "fewer than min_requests 100" in failure.value.details


# -- interruption, rollback, faults -------------------------------------------------------------------------------


def test_an_interrupted_release_is_resumed_from_the_real_weights(
    emulator: Emulator, cloud: Control, group: ClientFactory
) -> None:
    cloud.set_metrics(V7, **HEALTHY)
    with ProviderHost(env=emulator.environment()) as first:
        first.configure(PROVIDER_CONFIG)
        olds = live_on_v6(first, cloud)
        with ThreadPoolExecutor(1) as pool:
            running = pool.submit(first.update, TrafficShiftProvider(), "id", olds, shift(live="v7", bake_seconds=1.5))
            wait_until(lambda: weights_now(group)[V7] == (500, "grouping"), timeout=30)
            first.__exit__()  # pulumi up is killed half-way
            with pytest.raises(ProviderFailed):
                running.result(timeout=10)
    assert releases(cloud) == STEP[10] + STEP[50]

    with ProviderHost(env=emulator.environment()) as again:
        again.configure(PROVIDER_CONFIG)
        outs = again.update(TrafficShiftProvider(), "id", olds, shift(live="v7"), timeout=60)
        assert "v7 already takes 50%; resuming there" in again.stderr

    assert releases(cloud)[4:] == STEP[50] + STEP[100]  # the interrupted step is baked again, then finished
    assert [(e["phase"], e["step"]) for e in outs["history"]] == [("traffic_mode", 0), ("resume", 50), ("step", 100)]


def test_an_interrupted_release_set_back_is_reverted_without_bakes(
    host: ProviderHost, cloud: Control, group: ClientFactory
) -> None:
    olds = live_on_v6(host, cloud)
    client = group.eas()
    client.release_service(REGION, V6, eas.ReleaseServiceRequest(weight=500, traffic_state="grouping"))
    client.release_service(REGION, V7, eas.ReleaseServiceRequest(weight=500, traffic_state="grouping"))

    diff = host.diff(TrafficShiftProvider(), "id", olds, shift())  # the config still says v6

    assert diff.changes == "DIFF_SOME" and diff.replaces == []
    outs = host.update(TrafficShiftProvider(), "id", olds, shift(), timeout=30)
    assert weights_now(group) == {V6: (1000, "grouping"), V7: (0, "standalone")}
    assert outs["history"][-1]["phase"] == "rollback"
    assert host.diff(TrafficShiftProvider(), "id", outs, shift()).changes == "DIFF_NONE"


def test_a_rollback_to_the_previous_version_skips_the_bakes(
    host: ProviderHost, cloud: Control, group: ClientFactory
) -> None:
    cloud.set_metrics(V7, **HEALTHY)
    released = host.update(TrafficShiftProvider(), "id", live_on_v6(host, cloud), shift(live="v7"), timeout=60)
    before = len(releases(cloud))

    started = time.monotonic()
    outs = host.update(TrafficShiftProvider(), "id", released, shift(live="v6", bake_seconds=30), timeout=30)

    assert time.monotonic() - started < 30  # no bake of 30 s ran
    assert releases(cloud)[before:] == REVERTED
    assert (outs["live"], outs["weights"], outs["history"][-1]["phase"]) == ("v6", {"v6": 100, "v7": 0}, "rollback")


def test_a_rollback_away_from_a_failed_version_is_never_refused(
    host: ProviderHost, cloud: Control, group: ClientFactory
) -> None:
    cloud.set_metrics(V7, **HEALTHY)
    released = host.update(TrafficShiftProvider(), "id", live_on_v6(host, cloud), shift(live="v7"), timeout=60)
    cloud.fail_service(V7, reason="OOMKilled", message="out of memory")  # why the on-call rolls back
    cloud.clear_calls()

    outs = host.update(TrafficShiftProvider(), "id", released, shift(live="v6"), timeout=30)

    assert releases(cloud) == REVERTED and outs["weights"] == {"v6": 100, "v7": 0}


def test_throttling_during_a_shift_is_retried_without_an_extra_traffic_change(
    host: ProviderHost, cloud: Control, group: ClientFactory
) -> None:
    olds = live_on_v6(host, cloud)
    cloud.set_metrics(V7, **HEALTHY)
    cloud.fault("ReleaseService", "throttle", times=2, api="eas")

    outs = host.update(TrafficShiftProvider(), "id", olds, shift(live="v7"), timeout=90)

    assert outs["weights"] == {"v6": 0, "v7": 100}
    assert releases(cloud) == STEP[10] + STEP[50] + STEP[100]
    assert [c["fault"] for c in cloud.calls(api="eas", action="ReleaseService") if c["fault"]] == ["throttle"] * 2


def test_a_new_version_that_is_not_running_gets_no_traffic(
    host: ProviderHost, cloud: Control, group: ClientFactory
) -> None:
    olds = live_on_v6(host, cloud)
    cloud.fail_service(V7, reason="ImagePullFailed", message="image not found")
    with pytest.raises(ProviderFailed) as failure:
        host.update(TrafficShiftProvider(), "id", olds, shift(live="v7"), timeout=30)
    assert "fraud_scorer_v7 is Failed; no traffic was moved to it." in failure.value.details
    assert releases(cloud) == []


def test_removing_a_version_that_takes_traffic_is_refused(
    host: ProviderHost, cloud: Control, group: ClientFactory
) -> None:
    olds = live_on_v6(host, cloud)
    group.eas().release_service(REGION, V7, eas.ReleaseServiceRequest(weight=100, traffic_state="grouping"))
    with pytest.raises(ProviderFailed) as failure:
        host.update(TrafficShiftProvider(), "id", olds, shift(services={"v6": V6}), timeout=30)
    assert "refusing to remove v7 (9%): it still takes traffic." in failure.value.details  # 100 of 1100


def test_a_shadow_phase_gates_the_new_version_on_mirrored_requests(
    host: ProviderHost, cloud: Control, group: ClientFactory
) -> None:
    olds = live_on_v6(host, cloud)
    cloud.set_metrics(V7, **{**HEALTHY, "error_ratio": 0.3})  # broken before any user sees it
    with pytest.raises(ProviderFailed) as failure:
        host.update(TrafficShiftProvider(), "id", olds, shift(live="v7", shadow_percent=20, shadow_seconds=0.3))
    mirrors = [(c["action"], c["body"]) for c in cloud.calls(api="eas") if "Mirror" in c["action"]]
    assert mirrors == [
        ("CreateServiceMirror", {"Ratio": 20, "Target": [V7]}),
        ("DeleteServiceMirror", None),
    ]
    assert releases(cloud) == REVERTED  # the revert re-asserts the old weights; v7 never took a request
    assert "reverted at the shadow phase: error ratio of fraud_scorer_v7 was 0.3" in failure.value.details


def test_check_refuses_a_release_across_major_api_contracts(host: ProviderHost) -> None:
    contracts = {"v6": "v1.4", "v7": "v2.0"}
    _, failures = host.check(TrafficShiftProvider(), shift(contracts=contracts), shift(live="v7", contracts=contracts))
    assert failures == [
        (
            "live",
            "TrafficShift [live]: v7 speaks API v2.0 and v6 speaks v1.4: clients of the group would meet an "
            "incompatible schema mid-release. Serve v7 from a new service group, or set allow_breaking_change if "
            "every client handles both.",
        )
    ]
    allowed = shift(live="v7", contracts=contracts, allow_breaking_change=True)
    assert host.check(TrafficShiftProvider(), shift(contracts=contracts), allowed)[1] == []


def test_prometheus_is_a_metrics_source_too(
    emulator: Emulator, host: ProviderHost, cloud: Control, group: ClientFactory
) -> None:
    olds = live_on_v6(host, cloud)
    cloud.set_metrics(V7, **{**HEALTHY, "p95_latency_ms": 500})
    metrics = {"source": "prometheus", "endpoint": "https://prometheus.example.com"}  # the emulator stands in
    with pytest.raises(ProviderFailed) as failure:
        host.update(TrafficShiftProvider(), "id", olds, shift(live="v7", metrics=metrics), timeout=30)
    assert "P95 latency of fraud_scorer_v7 was 500" in failure.value.details
    assert cloud.calls(api="metrics", action="PrometheusQuery") != []


# -- the group's traffic mode and members ---------------------------------------------------------------------------


def test_an_auto_group_is_pinned_then_set_to_customized_before_any_weight_moves(
    host: ProviderHost, cloud: Control, group: ClientFactory
) -> None:
    host.create(TrafficShiftProvider(), shift(), timeout=30)

    calls = [(c["action"], c["path"].split("/")[-1], c["body"]) for c in cloud.calls(api="eas") if c["method"] == "PUT"]
    assert calls == [  # in auto mode weights carry no traffic: v6 took it all by instance count, pinned as 1000
        ("ReleaseService", "release", {"Weight": 1000, "TrafficState": "grouping"}),
        ("ReleaseService", "release", {"Weight": 0, "TrafficState": "standalone"}),
        ("UpdateGroup", "fraud_scorer", {"TrafficMode": "customized"}),
    ]
    assert group.eas().describe_group(REGION, "fraud_scorer").body.traffic_mode == "customized"
    assert "traffic fraud_scorer: traffic mode auto -> customized" in host.stderr


def test_a_group_switched_to_auto_mid_release_stops_it_as_drift(
    host: ProviderHost, cloud: Control, group: ClientFactory
) -> None:
    olds = live_on_v6(host, cloud)
    cloud.set_metrics(V7, **HEALTHY)
    cloud.at_metrics_query(3, traffic_mode="fraud_scorer", mode="auto")  # during the bake of 10%

    details = failed_update(host, olds, live="v7")

    assert releases(cloud) == STEP[10]  # stopped as it was: nothing more moved, nothing undone
    assert (
        "traffic shift of group fraud_scorer to v7 stopped at step 10%: someone else changed the group during the "
        "release: the group's traffic mode is now auto instead of customized: EAS splits its traffic by instance "
        "count and ignores the weights." in details
    )
    assert group.eas().describe_group(REGION, "fraud_scorer").body.traffic_mode == "auto"


def test_a_group_found_in_auto_shows_as_drift_and_up_sets_it_back_without_moving_traffic(
    host: ProviderHost, cloud: Control, group: ClientFactory
) -> None:
    olds = live_on_v6(host, cloud)
    cloud.operate(traffic_mode="fraud_scorer", mode="auto")  # someone switched it in the console

    assert host.diff(TrafficShiftProvider(), "id", olds, shift()).changes == "DIFF_SOME"
    outs = host.update(TrafficShiftProvider(), "id", olds, shift(), timeout=30)

    assert group.eas().describe_group(REGION, "fraud_scorer").body.traffic_mode == "customized"
    assert releases(cloud) == REVERTED  # the split auto made (v6 all of it), pinned before the switch
    assert outs["weights"] == {"v6": 100, "v7": 0}
    assert host.diff(TrafficShiftProvider(), "id", outs, shift()).changes == "DIFF_NONE"


def test_a_refresh_reads_the_live_weights_changes_nothing_and_leaves_the_diff_quiet(
    host: ProviderHost, cloud: Control, group: ClientFactory
) -> None:
    """The deploy runs ``pulumi up --refresh`` (for training runs): a refresh of a settled release only reads."""
    outs = live_on_v6(host, cloud)

    id_, refreshed = host.read(TrafficShiftProvider(), "cn-hangzhou/fraud_scorer", outs)

    assert id_ == "cn-hangzhou/fraud_scorer"
    assert (refreshed["live"], refreshed["weights"], refreshed["history"]) == (
        "v6",
        {"v6": 100, "v7": 0},
        outs["history"],
    )
    assert {call["action"] for call in cloud.calls(api="eas")} == {"DescribeGroup", "ListServices"}  # reads only
    assert host.diff(TrafficShiftProvider(), id_, refreshed, shift()).changes == "DIFF_NONE"


def test_a_new_version_outside_the_group_gets_no_traffic(
    host: ProviderHost, cloud: Control, group: ClientFactory
) -> None:
    olds = live_on_v6(host, cloud)
    v8 = "fraud_scorer_v8"  # its config has no metadata.group: it never joined
    outside_the_group(group, cloud, v8)
    services = {"v6": V6, "v7": V7, "v8": v8}

    details = failed_update(host, olds, services=services, live="v8")

    assert (
        "traffic fraud_scorer: fraud_scorer_v8 (v8) is not a member of EAS service group fraud_scorer: "
        "ListServices(GroupName=fraud_scorer) does not list it; the service reports ServiceGroup ''. The project "
        "joins a version to its group with the service config key metadata.group (components/eas_config.py), which "
        "is UNCONFIRMED for the real EAS API" in details
    )
    assert releases(cloud) == [] and cloud.calls(api="eas", action="UpdateGroup") == []


def test_a_version_deployed_outside_the_group_fails_the_up_that_adds_it(
    host: ProviderHost, cloud: Control, group: ClientFactory
) -> None:
    olds = live_on_v6(host, cloud)
    v8 = "fraud_scorer_v8"
    outside_the_group(group, cloud, v8)

    details = failed_update(host, olds, services={"v6": V6, "v7": V7, "v8": v8})  # deployed beside, live stays v6

    assert (
        "traffic fraud_scorer: v8 (fraud_scorer_v8) is not a member of EAS service group fraud_scorer "
        "(ListServices(GroupName=fraud_scorer) does not list it), so no release could move traffic to or from it."
        in details
    )
    assert releases(cloud) == []


def test_a_release_from_a_live_version_outside_the_group_is_refused(
    host: ProviderHost, cloud: Control, group: ClientFactory
) -> None:
    v5 = "fraud_scorer_v5"
    outside_the_group(group, cloud, v5)
    cloud.set_metrics(V7, **HEALTHY)
    services = {"v5": v5, "v6": V6, "v7": V7}
    olds = {**shift(services=services, live="v5"), "weights": {"v5": 100}, "history": [], "previous_lives": ["v5"]}

    details = failed_update(host, olds, services=services, live="v7")

    assert (
        "traffic fraud_scorer: refusing the release before anything moves: the live version v5 (fraud_scorer_v5) is "
        "not a member of EAS service group fraud_scorer" in details
    )
    assert releases(cloud) == [] and cloud.calls(api="eas", action="UpdateGroup") == []


def test_a_release_whose_fallback_cannot_serve_is_refused_before_anything_moves(
    host: ProviderHost, cloud: Control, group: ClientFactory
) -> None:
    olds = live_on_v6(host, cloud)
    cloud.set_metrics(V7, **HEALTHY)
    cloud.operate(stop=V6)  # v6 still holds the group's weight but no longer serves
    cloud.clock(advance=60)

    details = failed_update(host, olds, live="v7")

    assert (
        "traffic fraud_scorer: refusing the release to v7 before anything moves: restoring the current weights after "
        "a failed gate would fail, as it would leave the group with no serving member: traffic would go to v6 "
        "(status Stopped, 0 running instance(s))." in details
    )
    assert releases(cloud) == []


# -- someone else in the middle of a release ----------------------------------------------------------------------


def test_a_manual_rollback_mid_bake_stops_the_release_and_is_never_undone(
    host: ProviderHost, cloud: Control, group: ClientFactory
) -> None:
    olds = live_on_v6(host, cloud)
    cloud.set_metrics(V7, **HEALTHY)
    cloud.at_metrics_query(3, release=V6, weight=1000, state="grouping")  # the on-call rolls back in the console
    cloud.at_metrics_query(3, release=V7, weight=0, state="standalone")

    details = failed_update(host, olds, live="v7")

    assert releases(cloud) == STEP[10]  # no step after, and no "revert" over the operator's weights
    assert weights_now(group) == {V6: (1000, "grouping"), V7: (0, "standalone")}
    assert (
        "traffic shift of group fraud_scorer to v7 stopped at step 10%: someone else changed the group during the "
        "release: its weights are not what the shift set: fraud_scorer_v6 900 (grouping) -> 1000 (grouping); "
        "fraud_scorer_v7 100 (grouping) -> 0 (standalone). The shift leaves their change as it is (it never undoes "
        "a manual move); weights now: v6 1000 (grouping), v7 0 (standalone). If it was a rollback, set live to the "
        "version that now takes the traffic" in details
    )
    assert "STOPPED at step 10%" in host.stderr


def test_any_weight_someone_else_sets_stops_the_release_at_the_next_check(
    host: ProviderHost, cloud: Control, group: ClientFactory
) -> None:
    olds = live_on_v6(host, cloud)
    cloud.set_metrics(V7, **HEALTHY)
    # Not a rollback: someone gives v7 more by hand while the first reading of 10% is taken.
    cloud.at_metrics_query(0, release=V7, weight=300, state="grouping")

    details = failed_update(host, olds, live="v7")

    assert releases(cloud) == STEP[10]
    assert "fraud_scorer_v7 100 (grouping) -> 300 (grouping)" in details
    assert weights_now(group) == {V6: (900, "grouping"), V7: (300, "grouping")}


@pytest.mark.parametrize(
    ("action", "state"),
    [
        ({"fail": V7, "reason": "OOMKilled", "message": "the container ran out of memory"}, "status Failed"),
        ({"stop": V7}, "status Stopp"),  # Stopping or Stopped by the next look
        ({"scale": V7, "instances": 0}, "status Running, 0 running instance(s)"),  # scaled away
        ({"delete": V7}, ""),  # deleted in the console: gone from the group by the next look
    ],
)
def test_a_version_that_stops_serving_mid_bake_is_reverted_naming_its_status(
    host: ProviderHost, cloud: Control, group: ClientFactory, action: dict[str, Any], state: str
) -> None:
    olds = live_on_v6(host, cloud)
    cloud.set_metrics(V7, **HEALTHY)
    cloud.at_metrics_query(3, **action)

    details = failed_update(host, olds, live="v7")

    if "delete" in action:  # nothing to set on a service that is gone: the rest of the group is restored
        assert releases(cloud) == [*STEP[10], REVERTED[0]] and weights_now(group) == {V6: (1000, "grouping")}
        assert "reverted at step 10%: fraud_scorer_v7 is no longer a member of the group (deleted or moved)" in details
        return
    assert releases(cloud) == STEP[10] + REVERTED
    assert weights_now(group) == {V6: (1000, "grouping"), V7: (0, "standalone")}
    assert (
        f"traffic shift of group fraud_scorer to v7 reverted at step 10%: fraud_scorer_v7 is no longer serving: {state}"
        in details
    )
    if "fail" in action:
        assert "reason OOMKilled: the container ran out of memory. Weights restored: v6 100%, v7 0%." in (details)


def test_a_version_scaled_to_zero_before_the_release_is_not_taken_for_scaled_away(
    host: ProviderHost, cloud: Control, group: ClientFactory
) -> None:
    olds = live_on_v6(host, cloud)
    cloud.operate(scale=V7, instances=0)  # dev: minInstances 0, idle until its first requests wake it
    cloud.set_metrics(V7, **HEALTHY)
    outs = host.update(TrafficShiftProvider(), "id", olds, shift(live="v7"), timeout=60)
    assert releases(cloud) == STEP[10] + STEP[50] + STEP[100]
    assert outs["weights"] == {"v6": 0, "v7": 100}


# -- readings that cannot be trusted, and queries the metrics service refuses ------------------------------------------


@pytest.mark.parametrize(
    "lie",
    [
        {"error_ratio": "NaN"},
        {"p95_latency_ms": "Infinity"},
        {"qps": "Infinity"},
        {"error_ratio": None},
        {"p95_latency_ms": "missing"},
        {"error_ratio": "0.0001"},  # a string is no number
    ],
)
def test_a_reading_that_is_not_a_finite_number_never_passes(
    host: ProviderHost, cloud: Control, group: ClientFactory, lie: dict[str, Any]
) -> None:
    olds = live_on_v6(host, cloud)
    cloud.set_metrics(V7, **{**HEALTHY, **lie})

    details = failed_update(host, olds, live="v7")

    assert releases(cloud) == STEP[10] + REVERTED
    assert "reverted at step 10%: no metric data: the new version took no traffic or the metrics did not answer" in (
        details
    )


def test_a_finite_breach_counts_even_when_another_metric_lies(
    host: ProviderHost, cloud: Control, group: ClientFactory
) -> None:
    olds = live_on_v6(host, cloud)
    cloud.set_metrics(V7, **{**HEALTHY, "p95_latency_ms": "NaN", "error_ratio": 0.3})
    details = failed_update(host, olds, live="v7")
    assert "reverted at step 10%: error ratio of fraud_scorer_v7 was 0.3, above its threshold 0.01." in (details)


def test_prometheus_nan_never_passes(host: ProviderHost, cloud: Control, group: ClientFactory) -> None:
    olds = live_on_v6(host, cloud)
    cloud.set_metrics(V7, **{**HEALTHY, "error_ratio": "NaN"})
    metrics = {"source": "prometheus", "endpoint": "https://prometheus.example.com"}
    details = failed_update(host, olds, live="v7", metrics=metrics)
    assert releases(cloud) == STEP[10] + REVERTED
    assert "no metric data" in details


@pytest.mark.parametrize(
    ("refuse", "metrics", "detail", "keys"),
    [
        (
            None,
            {"source": "cloudmonitor", "namespace": "acs_eas"},
            "ResourceNotFound (HTTP 404): code: 404, The specified resource is not found.",
            "serving.metrics.namespace, serving.metrics.dimension, serving.metrics.latencyMetric",
        ),
        (
            None,
            {"source": "cloudmonitor", "latency_metric": "TP99ResponseTime"},
            "ResourceNotFound (HTTP 404)",
            "serving.metrics.latencyMetric",
        ),
        (
            None,
            {"source": "cloudmonitor", "dimension": "instanceId"},
            "InvalidParameter (HTTP 400): code: 400, Dimensions must name the service",
            "serving.metrics.dimension",
        ),
        ((403, "Forbidden", "not authorized", False), {"source": "cloudmonitor"}, "Forbidden (HTTP 403)", "grant"),
        ((403, "", "not authorized", True), {"source": "cloudmonitor"}, "Code 403, Success False: not authorized", ""),
    ],
)
def test_a_refused_metrics_query_reverts_at_once_naming_the_key_to_fix(
    host: ProviderHost,
    cloud: Control,
    group: ClientFactory,
    refuse: tuple[int, str, str, bool] | None,
    metrics: dict[str, Any],
    detail: str,
    keys: str,
) -> None:
    olds = live_on_v6(host, cloud)
    cloud.set_metrics(V7, **HEALTHY)
    if refuse is not None:
        status, code, message, in_body = refuse
        cloud.refuse_metrics(status, code, message, in_body=in_body)

    details = failed_update(host, olds, live="v7", metrics=metrics)

    assert releases(cloud) == STEP[10] + REVERTED
    assert len(cloud.calls(api="metrics")) == 1  # the first refused query: no retry, no further check
    details = details
    assert "reverted at step 10%: the metrics service refused a query: CloudMonitor refused the query for " in details
    assert detail in details and keys in details and "Weights restored: v6 100%, v7 0%." in details


def test_a_refused_prometheus_query_reverts_naming_the_query(
    host: ProviderHost, cloud: Control, group: ClientFactory
) -> None:
    olds = live_on_v6(host, cloud)
    cloud.set_metrics(V7, **HEALTHY)
    metrics = {
        "source": "prometheus",
        "endpoint": "https://prometheus.example.com",
        "latency_query": 'histogram_quantile(0.95, rate(latency_bucket{{service="{service}"}}[5m]))',
    }
    details = failed_update(host, olds, live="v7", metrics=metrics)
    assert releases(cloud) == STEP[10] + REVERTED
    assert "Prometheus refused the query" in details
    assert "HTTP 400). Fix serving.metrics.endpoint or the TrafficShift input metrics.latency_query. Weights" in (
        details
    )


@pytest.mark.parametrize("kind", ["throttle", "server_error"])
def test_transient_metrics_failures_are_retried_within_the_check_interval(
    host: ProviderHost, cloud: Control, group: ClientFactory, kind: str
) -> None:
    olds = live_on_v6(host, cloud)
    cloud.set_metrics(V7, **HEALTHY)
    cloud.fault("DescribeMetricLast", kind, times=2, api="metrics")
    # A 3 s check interval gives the retries room on a loaded machine (the retry window is one interval).
    outs = host.update(TrafficShiftProvider(), "id", olds, shift(live="v7", check_interval_seconds=3.0), timeout=60)
    assert outs["weights"] == {"v6": 0, "v7": 100}
    assert [c["fault"] for c in cloud.calls(api="metrics") if c["fault"]] == [kind] * 2
    assert "read rt of fraud_scorer_v7: " in host.stderr and "retry 1 in" in host.stderr


def test_a_release_past_its_deadline_restores_the_weights(
    host: ProviderHost, cloud: Control, group: ClientFactory
) -> None:
    olds = live_on_v6(host, cloud)
    cloud.set_metrics(V7, **HEALTHY)
    details = failed_update(host, olds, live="v7", deadline_seconds=0.8)
    assert releases(cloud)[:2] == STEP[10] and releases(cloud)[-2:] == REVERTED
    assert weights_now(group) == {V6: (1000, "grouping"), V7: (0, "standalone")}
    assert "the release ran past deadline_seconds (1s); run pulumi up again to resume" in details


# -- resuming -----------------------------------------------------------------------------------------------------


def test_a_sliver_below_the_first_step_resumes_at_the_first_step(
    host: ProviderHost, cloud: Control, group: ClientFactory
) -> None:
    olds = live_on_v6(host, cloud)
    cloud.set_metrics(V7, **HEALTHY)
    client = group.eas()
    client.release_service(REGION, V6, eas.ReleaseServiceRequest(weight=996, traffic_state="grouping"))
    client.release_service(REGION, V7, eas.ReleaseServiceRequest(weight=4, traffic_state="grouping"))
    cloud.clear_calls()

    outs = host.update(TrafficShiftProvider(), "id", olds, shift(live="v7"), timeout=60)

    assert releases(cloud) == STEP[10] + STEP[50] + STEP[100]  # never a "0%" step
    steps = [(e["phase"], e["step"]) for e in outs["history"] if e["phase"] in ("step", "resume")]
    assert steps == [("resume", 10), ("step", 50), ("step", 100)]
    assert "v7 already takes 0.4%, below the first step; resuming at 10%" in host.stderr
