"""docs/configuration.md is what tools/config_reference.py renders from the config fields, row for row."""

from __future__ import annotations

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
