"""docs/configuration.md is what tools/config_reference.py renders from the config fields, row for row."""

from __future__ import annotations

import re

import pytest

from tools import config_reference


def test_the_configuration_reference_is_current() -> None:
    stale = "docs/configuration.md is stale: run .venv/bin/python -m tools.config_reference"
    assert config_reference.OUT.read_text() == config_reference.render(), stale


def test_every_key_has_its_row_with_its_fix_and_defaults() -> None:
    rows = {row.split(" | ")[0].strip("| `"): row.split(" | ")[1:] for row in config_reference.rows()}
    assert rows["alicloud:region"][0:2] == ["str", "required"]
    # bakeSeconds: no default in prod, 60 in dev (key(dev_default=60)), at least 0.
    assert rows["serving.services[].rollout.bakeSeconds"][:4] == [
        "int",
        "required",
        "`60`",
        "≥ 0",
    ]
    assert rows["serving.services[].rollout.bakeSeconds"][4].startswith("Set the seconds each step is watched")
    assert rows["training.jobs[].workerCount"][1] == "`1`"
    assert len(rows) == len(config_reference.rows())  # one row per key path


def row_of(path: str) -> str:
    matching = [row for row in config_reference.rows() if row.startswith(f"| `{path}` |")]
    assert len(matching) == 1, f"{path}: {len(matching)} rows"
    return matching[0]


def test_an_aliased_field_is_listed_under_the_key_a_user_writes() -> None:
    # PromotionConfig.from_stack has alias="from": YAML says {v7: {from: staging}}, never fromStack.
    assert row_of("serving.services[].promoted.from") == (
        "| `serving.services[].promoted.from` | str | required |  | a stack name such as 'staging' or "
        "'acme/pai-mlops/staging' | Name the source stack, e.g. staging (or <org>/<project>/<stack>) |"
    )
    assert not [row for row in config_reference.rows() if "fromStack" in row.split(" | ")[0]]


def test_a_key_the_loader_fills_in_shows_its_computed_default_not_required() -> None:
    # key(computed_default="pai-mlops-<stack>"): parse_stack_config fills namePrefix from the stack name.
    assert row_of("namePrefix").split(" | ")[1:4] == ["str", "`pai-mlops-<stack>` (computed)", ""]


@pytest.mark.parametrize(
    ("path", "cells"),
    [
        (
            "serving.services[].versions",
            ["list of str", "required", "", "length ≥ 1 up to 16 lower-case letters, digits and underscores"],
        ),
        (
            "training.jobs[].run",
            ["str", "required", "", "length ≤ 16 up to 16 lower-case letters, digits and underscores"],
        ),
        (
            "registry.repositories",
            ["list of str", "`[]`", "", "each item matches `^[a-z0-9][a-z0-9._-]{0,62}[a-z0-9]$`"],
        ),
        ("serving.services[].rollout.steps", ["list of int", "`[10, 50, 100]`", "", "length ≥ 1"]),
        ("serving.services[].contracts", ["dict[str, str]", "`{}`", "", ""]),
        ("serving.services[].codeRepository", ["str (optional)", "`null`", "", "an https:// Git URL"]),
    ],
)
def test_constrained_types_render_as_their_plain_type_with_the_constraint_in_the_rule(
    path: str, cells: list[str]
) -> None:
    assert row_of(path).split(" | ")[1:5] == cells


def test_no_type_cell_leaks_the_repr_of_a_constraint() -> None:
    plain = re.compile(r"(section|list|(list of )?(str|int|float|bool)|dict\[str, (str|int)\]|Literal\[[^\]]+\])")
    optional = re.compile(rf"{plain.pattern}( \(optional\))?")
    odd = [row for row in config_reference.rows() if not optional.fullmatch(row.split(" | ")[1])]
    assert odd == []
