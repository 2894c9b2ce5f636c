"""Two stacks of one environment in one account: account-wide names derive from the stack (``namePrefix``)."""

from __future__ import annotations

import json
import zlib

import pytest

from config_problems import StackConfigError
from config_scale import default_name_prefix
from tools.mock_engine import ROOT, RecordingMocks, run_program, stack_config_values

# The inputs that name something unique in the account (RAM, FC, SLS, CloudMonitor), by resource type.
ACCOUNT_NAMES = {
    "alicloud:ram/role:Role": "roleName",
    "alicloud:ram/policy:Policy": "policyName",
    "alicloud:fc/v3Function:V3Function": "functionName",
    "alicloud:fc/v3LayerVersion:V3LayerVersion": "layerName",  # the drift check's (trigger.drift.layer: build)
    "alicloud:log/project:Project": "projectName",
    "alicloud:cms/alarm:Alarm": "name",
}
# Named in config (a bucket is global, a workspace per region, a registry namespace per instance): a second stack's
# file gives its own; the resource group and the DSW instances are named after the workspace.
CONFIG_NAMES = {
    "alicloud:oss/bucket:Bucket": "bucket",
    "alicloud:pai/workspaceWorkspace:WorkspaceWorkspace": "workspaceName",
    "alicloud:cms/alarmContactGroup:AlarmContactGroup": "alarmContactGroupName",
    "alicloud:cs/registryEnterpriseNamespace:RegistryEnterpriseNamespace": "name",
    "alicloud:resourcemanager/resourceGroup:ResourceGroup": "resourceGroupName",
    "pulumi-python:dynamic/pai:DswInstance": "instance_name",
}
EAS = {"pulumi-python:dynamic/pai:EasService": "service_name"}
# Not names the cloud refuses twice, but the stack's own: EAS groups (per region), and the key a training run finds
# its DLC jobs by (a second stack must never adopt the first one's run).
STACK_KEYS = {"pulumi-python:dynamic/pai:TrafficShift": "group", "pulumi-python:dynamic/pai:TrainingJob": "scope"}
EVERY = ACCOUNT_NAMES | CONFIG_NAMES | EAS | STACK_KEYS
# The kinds each example stack has (alarms only in prod, notebooks and the drift check's layer only in dev).
KINDS = {
    "dev": set(EVERY) - {"alicloud:cms/alarm:Alarm", "alicloud:cms/alarmContactGroup:AlarmContactGroup"},
    "prod": set(EVERY) - {"pulumi-python:dynamic/pai:DswInstance", "alicloud:fc/v3LayerVersion:V3LayerVersion"},
}


def run(stack: str, base: str, **overrides: str) -> RecordingMocks:
    values, secret_keys = stack_config_values(base)
    return run_program(stack, config=({**values, **overrides}, secret_keys))


def names(mocks: RecordingMocks, kinds: dict[str, str]) -> set[str]:
    return {str(r.inputs[kinds[r.type]]) for r in mocks.registrations if r.type in kinds and kinds[r.type] in r.inputs}


def by_kind(mocks: RecordingMocks, kinds: dict[str, str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for r in mocks.registrations:
        if r.type in kinds and kinds[r.type] in r.inputs:
            found.setdefault(r.type, set()).add(str(r.inputs[kinds[r.type]]))
    return found


def second_stack_files(base: str) -> dict[str, str]:
    """What a second team's stack file changes: the names it gives in config (bucket, workspace, registry
    namespace, contact group)."""
    values, _ = stack_config_values(base)
    storage, workspace = json.loads(values["pai-mlops:storage"]), json.loads(values["pai-mlops:workspace"])
    storage["bucketName"] += "-team-b"
    workspace["name"] += "_b"
    changed = {"pai-mlops:storage": json.dumps(storage), "pai-mlops:workspace": json.dumps(workspace)}
    if "pai-mlops:registry" in values:
        registry = json.loads(values["pai-mlops:registry"])
        registry["namespace"] += "-b"
        changed["pai-mlops:registry"] = json.dumps(registry)
    if "pai-mlops:alarms" in values:
        alarms = json.loads(values["pai-mlops:alarms"])
        alarms["contactGroup"] += "-b"
        changed["pai-mlops:alarms"] = json.dumps(alarms)
    return changed


@pytest.mark.parametrize(("stack", "prefix"), [("dev", "pai-mlops-dev"), ("prod", "pai-mlops-prod")])
def test_a_stack_named_after_its_environment_keeps_todays_names(stack: str, prefix: str) -> None:
    assert default_name_prefix(stack) == prefix
    roles = names(run(stack, stack), {"alicloud:ram/role:Role": "roleName"})
    assert {f"{prefix}-dlc", f"{prefix}-dsw", f"{prefix}-eas"} <= roles
    assert all(role.startswith(f"{prefix}-") for role in roles)


@pytest.mark.parametrize(("base", "second"), [("dev", "dev-team-b"), ("prod", "prod-eu")])
def test_two_stacks_of_one_environment_share_no_account_wide_name(base: str, second: str) -> None:
    first_run, second_run = run(base, base), run(second, base, **second_stack_files(base))
    first, other = by_kind(first_run, EVERY), by_kind(second_run, EVERY)
    assert set(first) == set(other) == KINDS[base]
    for kind in first:
        assert len(other[kind]) == len(first[kind]), kind
        assert first[kind] & other[kind] == set(), kind
    assert set().union(*first.values()) & set().union(*other.values()) == set()
    assert all(name.startswith(f"pai-mlops-{second}-") for name in names(second_run, ACCOUNT_NAMES))
    assert other["pulumi-python:dynamic/pai:TrainingJob"] == {f"pai-mlops/{second}/train-fraud_scorer-job"}


def test_eas_names_are_scoped_by_the_stack_except_where_the_prefix_is_todays() -> None:
    first_run, second_run = run("dev", "dev"), run("dev-team-b", "dev", **second_stack_files("dev"))
    assert names(first_run, EAS) == {"fraud_scorer_v6", "fraud_scorer_v7", "image_tagger_v3"}
    assert names(second_run, EAS) == {
        "dev_team_b_fraud_scorer_v6",
        "dev_team_b_fraud_scorer_v7",
        "dev_team_b_image_tagger_v3",
    }
    groups = {"pulumi-python:dynamic/pai:TrafficShift": "group", "pulumi-python:dynamic/pai:ServiceEndpoint": "group"}
    assert names(first_run, groups) == {"fraud_scorer", "image_tagger"}
    assert names(second_run, groups) == {"dev_team_b_fraud_scorer", "dev_team_b_image_tagger"}
    # The group in each version's service config is the scoped one too.
    configs = [json.loads(r.inputs["service_config"]) for r in second_run.registrations if r.type in EAS]
    assert {c["metadata"]["group"] for c in configs} == {"dev_team_b_fraud_scorer", "dev_team_b_image_tagger"}


def test_an_explicit_prefix_keeps_a_renamed_stacks_names() -> None:
    # A stack named e.g. prod-eu before namePrefix existed had pai-mlops-prod-* names; this keeps them.
    mocks = run("prod-eu", "prod", **{"pai-mlops:namePrefix": "pai-mlops-prod"})
    kinds = ACCOUNT_NAMES | EAS
    assert names(mocks, kinds) == names(run("prod", "prod"), kinds)


@pytest.mark.parametrize(
    ("stack", "prefix", "message"),
    [
        (
            "dev",
            "Team_B",
            "pai-mlops [namePrefix]: must be lower-case letters, digits and hyphens, starting with a letter, at most "
            "24; got 'Team_B'.",
        ),
        (
            "dev",
            "pai-mlops-dev-a-very-long-team",
            "pai-mlops [namePrefix]: must have at most 24 characters; got 'pai-mlops-dev-a-very-long-team'.",
        ),
    ],
)
def test_a_prefix_outside_the_names_rules_is_refused(stack: str, prefix: str | None, message: str) -> None:
    overrides = {"pai-mlops:namePrefix": prefix} if prefix else {}
    with pytest.raises(StackConfigError) as caught:
        run(stack, "dev", **overrides)
    assert [str(p).startswith(message) for p in caught.value.problems] == [True], caught.value.problems


@pytest.mark.parametrize(
    ("stack", "prefix"),
    [
        ("Dev.Team_B", "pai-mlops-dev-team-b"),
        ("dev", "pai-mlops-dev"),
        ("--", "pai-mlops"),
        ("team_a-development", f"pai-mlops-team-a-de-{zlib.crc32(b'team-a-development'):08x}"[:24]),
        ("team_a-developers", f"pai-mlops-team-a-de-{zlib.crc32(b'team-a-developers'):08x}"[:24]),
    ],
)
def test_the_default_prefix_turns_a_stack_name_into_the_names_alphabet(stack: str, prefix: str) -> None:
    assert default_name_prefix(stack) == prefix
    assert len(prefix) <= 24


def test_two_long_stack_names_with_one_start_get_different_prefixes() -> None:
    assert default_name_prefix("team_a-development") != default_name_prefix("team_a-developers")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_policy_configs_named_exemptions_still_name_this_stacks_resources(stack: str) -> None:
    settings = json.loads((ROOT / "policies" / "config" / f"{stack}.json").read_text())
    exempt = set(settings["ram-no-wildcard-resources"]["exemptActions"])
    trusted = {name for name in settings["ram-trusted-service-principals"]["principals"] if "*" not in name}
    planned = names(run(stack, stack), ACCOUNT_NAMES)
    assert exempt == {f"pai-mlops-{stack}-fraud-retraining-start"}
    assert exempt | trusted <= planned
