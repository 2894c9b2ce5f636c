"""Nothing in a stack file is silently accepted: empty required text, a key nothing reads, a cron field out of
range, a stack whose name says another environment. Each is refused with a message naming the key and the fix."""

from __future__ import annotations

import copy
import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest

from config_cron import EAS_CRON_SCALER, FC_TIMER, cron_problem
from config_problems import StackConfigError
from stack_config import ALICLOUD_KEYS, key_problems, parse_stack_config, raw_from_values
from tests.conftest import VALID_RAW
from tools.mock_engine import stack_config_values


def problems(raw: dict[str, Any], stack: str = "prod", keys: tuple[str, ...] = ()) -> list[str]:
    with pytest.raises(StackConfigError) as caught:
        parse_stack_config(raw, stack, full_keys=keys)
    return [str(p) for p in caught.value.problems]


def test_an_empty_owner_in_the_stack_file_is_refused_not_tagged_none(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: pai-mlops\nruntime: python\n")
    (tmp_path / "Pulumi.prod.yaml").write_text("config:\n  pai-mlops:owner:\n")
    values, _ = stack_config_values("prod", tmp_path)
    assert values == {"pai-mlops:owner": ""}
    raw = copy.deepcopy(VALID_RAW) | {"owner": values["pai-mlops:owner"]}
    assert problems(raw) == [
        "pai-mlops [owner]: must not be empty; got ''. Name the owning team or person; it becomes the 'owner' tag."
    ]


HIDDEN_TEXT = "got a value not shown here"


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (
            "pai-mlop:owner",
            f"pai-mlop [owner]: is in namespace 'pai-mlop', which nothing reads; {HIDDEN_TEXT}. "
            "Write it as 'pai-mlops:owner'.",
        ),
        (
            "alicloud:regoin",
            f"alicloud [regoin]: is not a key of the alicloud provider; {HIDDEN_TEXT}. Write it as 'alicloud:region'.",
        ),
        (
            "pai-mlops:region",
            f"pai-mlops [region]: is not read: the region is the provider's; {HIDDEN_TEXT}. Move it to "
            "alicloud:region (pulumi config set alicloud:region <region>).",
        ),
        (
            "aws:region",
            f"aws [region]: is in namespace 'aws', which nothing reads; {HIDDEN_TEXT}. Put it under this project's "
            "namespace ('pai-mlops:') or the provider's ('alicloud:').",
        ),
    ],
)
def test_a_key_nothing_reads_is_refused_without_echoing_its_value(key: str, message: str) -> None:
    assert [str(p) for p in key_problems([key, "pai-mlops:owner", "alicloud:region"], "pai-mlops")] == [message]
    assert problems(copy.deepcopy(VALID_RAW), keys=(key, "alicloud:secretKey")) == [message]


def test_the_alicloud_keys_are_the_providers_own() -> None:
    """ALICLOUD_KEYS is pinned to what pulumi-alicloud's config module reads, so an upgrade that adds one shows."""
    spec = importlib.util.find_spec("pulumi_alicloud")
    assert spec is not None and spec.origin is not None
    source = (Path(spec.origin).parent / "config" / "vars.py").read_text()
    read = set(re.findall(r"__config__\.get(?:_int|_bool|_float)?\('([A-Za-z]+)'\)", source))
    assert read == ALICLOUD_KEYS
    assert key_problems(sorted(f"alicloud:{k}" for k in read), "pai-mlops") == []


@pytest.mark.parametrize(
    ("schedule", "fields", "problem"),
    [
        ("0 0 3 * * 0", FC_TIMER, "the weekday field '0': '0' is outside 1-7 or MON-SUN"),
        ("0 61 3 * * *", FC_TIMER, "the minute field '61': '61' is outside 0-59"),
        ("0 0 24 * * *", FC_TIMER, "the hour field '24': '24' is outside 0-23"),
        ("0 0 3 32 * ?", FC_TIMER, "the day field '32': '32' is outside 1-31"),
        ("0 0 3 * 13 *", FC_TIMER, "the month field '13': '13' is outside 1-12 or JAN-DEC"),
        ("0 0 3 * * FRI-MON", FC_TIMER, "the weekday field 'FRI-MON': the range 'FRI-MON' runs backwards"),
        ("*/0 * * * * *", FC_TIMER, "the second field '*/0': the step '0' is not a whole number of at least 1"),
        ("0 0 8 * * 7", EAS_CRON_SCALER, "the weekday field '7': '7' is outside 0-6 or SUN-SAT"),
        ("0 0 8 * * ?", EAS_CRON_SCALER, "the weekday field '?': '?' is outside 0-6 or SUN-SAT"),
        ("0 0 8 * *", EAS_CRON_SCALER, "has 5 fields, not 6 (second minute hour day month weekday)"),
    ],
)
def test_a_cron_field_out_of_its_services_range_is_named(schedule: str, fields: Any, problem: str) -> None:
    assert cron_problem(schedule, fields) == problem


@pytest.mark.parametrize(
    ("schedule", "fields"),
    [
        ("0 0 3 * * 1", FC_TIMER),
        ("0 0 3 * * MON", FC_TIMER),
        ("0 */15 9-17 ? * MON-FRI", FC_TIMER),
        ("0 0 3 1,15 JAN,jul *", FC_TIMER),
        ("0 0 8 * * 1-5", EAS_CRON_SCALER),
        ("* * * * * 0,6", EAS_CRON_SCALER),
    ],
)
def test_documented_cron_forms_pass(schedule: str, fields: Any) -> None:
    assert cron_problem(schedule, fields) is None


def test_cron_problems_are_reported_where_they_are_in_the_stack() -> None:
    raw = copy.deepcopy(VALID_RAW)
    raw["serving"]["services"][0]["cron"] = [{"name": "weekend", "schedule": "0 0 8 * * 7", "targetSize": 3}]
    assert problems(raw) == [
        "pai-mlops:serving.services[0].cron[0] [schedule]: the weekday field '7': '7' is outside 0-6 or SUN-SAT; "
        "got '0 0 8 * * 7'. Use second 0-59, minute 0-59, hour 0-23, day 1-31, month 1-12 or JAN-DEC, weekday 0-6 "
        "or SUN-SAT; e.g. '0 0 8 * * 1-5' (08:00 Mon-Fri)."
    ]


@pytest.mark.parametrize("stack", ["dev", "dev-alice", "team_a-development"])
def test_a_stack_named_for_another_environment_is_refused(stack: str) -> None:
    assert problems(copy.deepcopy(VALID_RAW), stack=stack) == [
        f"pai-mlops [environment]: does not match the stack name '{stack}', which says dev: a stack file copied "
        "from another stack keeps that stack's environment, defaults and policy levels; got 'prod'. Set "
        "environment to dev, or rename the stack; if this is deliberate, set pai-mlops:allowAnyStackName: true."
    ]


@pytest.mark.parametrize("stack", ["prod", "prod-eu", "alice", "team-a"])
def test_a_stack_whose_name_says_its_environment_or_none_passes(stack: str) -> None:
    assert parse_stack_config(copy.deepcopy(VALID_RAW), stack).environment == "prod"


def test_a_deliberate_mismatch_is_allowed_explicitly_from_the_stack_file() -> None:
    """The engine hands every scalar over as text: `allowAnyStackName: true` arrives as "true"."""
    values = {"pai-mlops:allowAnyStackName": "true", "alicloud:region": "cn-hangzhou"}
    raw = copy.deepcopy(VALID_RAW) | raw_from_values(values, "pai-mlops")
    assert parse_stack_config(raw, "dev").allow_any_stack_name is True
    refused = copy.deepcopy(VALID_RAW) | raw_from_values({"pai-mlops:allowAnyStackName": "yes"}, "pai-mlops")
    assert problems(refused, stack="prod") == [
        "pai-mlops [allowAnyStackName]: must be true or false; got 'yes'. Write true only if this stack's name "
        "deliberately does not say its environment (see 'environment')."
    ]


def test_a_prod_file_copied_to_a_staging_stack_is_told_to_say_staging() -> None:
    assert problems(copy.deepcopy(VALID_RAW), stack="staging") == [
        "pai-mlops [environment]: does not match the stack name 'staging', which says staging: a stack file copied "
        "from another stack keeps that stack's environment, defaults and policy levels; got 'prod'. Set environment "
        "to staging, or rename the stack; if this is deliberate, set pai-mlops:allowAnyStackName: true."
    ]


@pytest.mark.parametrize("owner", ["   ", " ml-platform", "ml-platform\t"])
def test_an_owner_of_blanks_or_with_a_space_at_either_end_is_refused(owner: str) -> None:
    assert problems(copy.deepcopy(VALID_RAW) | {"owner": owner}) == [
        f"pai-mlops [owner]: must be text with no space at either end; got {owner!r}. Name the owning team or "
        "person; it becomes the 'owner' tag."
    ]


@pytest.mark.parametrize(
    ("schedule", "problem"),
    [
        ("0 0 ٨ * * 1", "the hour field '٨': '٨' is outside 0-23"),
        ("0 0 3 * * ²", "the weekday field '²': '²' is outside 1-7 or MON-SUN"),
        ("0 0 1/٣ * * 1", "the hour field '1/٣': the step '٣' is not a whole number of at least 1"),
    ],
)
def test_digits_other_than_ascii_are_refused_in_cron_fields(schedule: str, problem: str) -> None:
    assert cron_problem(schedule, FC_TIMER) == problem
