"""The policy config file as the CLI reads it, reconciled with the pack's policies (tools/policy_config.py).

The policies here are fixtures shaped as the pack declares them (``GetAnalyzerInfo``); the stacks' own config files
against the running pack are in tests/policies/test_pack.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tools.policy_config import PolicyConfigError, PolicyInfo, PolicySetting, load_policy_config, reconcile

POLICIES = [
    PolicyInfo(
        "eas-scale-in-cooldown",
        "scale-in waits",
        "advisory",
        "resource",
        {"properties": {"minSeconds": {"type": "number", "default": 300.0}}},
    ),
    PolicyInfo(
        "dlc-spot-requires-checkpoint",
        "spot jobs checkpoint",
        "mandatory",
        "resource",
        {"properties": {"maxIntervalMinutes": {"type": "number", "default": 20.0}}},
    ),
    PolicyInfo("required-tags", "tags", "mandatory", "resource", {}),
]


def write(tmp_path: Path, content: Any) -> Path:
    path = tmp_path / "policy.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_config_entries_are_levels_or_objects(tmp_path: Path) -> None:
    path = write(
        tmp_path, {"all": "advisory", "eas-scale-in-cooldown": {"enforcementLevel": "mandatory", "minSeconds": 600}}
    )
    assert load_policy_config(path) == {
        "all": PolicySetting("advisory", {}),
        "eas-scale-in-cooldown": PolicySetting("mandatory", {"minSeconds": 600}),
    }
    assert load_policy_config(write(tmp_path, "  \n")) == {}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (
            {"required-tags": "strict"},
            "required-tags: 'strict' is not a valid enforcement level (advisory, mandatory, remediate, disabled)",
        ),
        ({"required-tags": 3}, "required-tags: 3 is not a valid value; must be a string or object"),
        ("[1]", "the top level must be an object of policy names"),
        ("{oops", "not valid JSON: Expecting property name enclosed in double quotes (line 1)"),
    ],
)
def test_malformed_config_files_are_refused(tmp_path: Path, content: Any, problem: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(PolicyConfigError) as caught:
        load_policy_config(path)
    assert caught.value.problems == [problem]
    assert str(caught.value) == f"policy config {path}:\n  - {problem}"


def test_an_unreadable_config_file_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(PolicyConfigError) as caught:
        load_policy_config(tmp_path / "missing.json")
    assert (caught.value.path, caught.value.problems) == (
        tmp_path / "missing.json",
        ["cannot read it: No such file or directory"],
    )


def test_reconcile_fills_defaults_then_all_then_each_policy() -> None:
    config = {
        "all": PolicySetting("disabled"),
        "eas-scale-in-cooldown": PolicySetting("mandatory", {"minSeconds": 600}),
    }
    assert reconcile(POLICIES, config, Path("policy.json")) == {
        "eas-scale-in-cooldown": PolicySetting("mandatory", {"minSeconds": 600}),
        "dlc-spot-requires-checkpoint": PolicySetting("disabled", {"maxIntervalMinutes": 20}),
        "required-tags": PolicySetting("disabled", {}),
    }
    assert {name: s.level for name, s in reconcile(POLICIES, {}, Path("policy.json")).items()} == {
        "eas-scale-in-cooldown": "advisory",
        "dlc-spot-requires-checkpoint": "mandatory",
        "required-tags": "mandatory",
    }


def test_reconcile_refuses_unknown_policies_settings_and_invalid_values() -> None:
    config = {
        "eas-scale-in-coldown": PolicySetting("advisory"),
        "eas-scale-in-cooldown": PolicySetting(None, {"minSeconds": "300", "maxSeconds": 1}),
    }
    with pytest.raises(PolicyConfigError) as caught:
        reconcile(POLICIES, config, Path("policy.json"))
    assert caught.value.problems == [
        "eas-scale-in-coldown: no policy of that name in the pack (policies: dlc-spot-requires-checkpoint, "
        "eas-scale-in-cooldown, required-tags)",
        "eas-scale-in-cooldown: unknown setting 'maxSeconds' (settings: minSeconds)",
        "eas-scale-in-cooldown: minSeconds: '300' is not of type 'number'",
    ]
