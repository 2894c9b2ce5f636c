"""config_problems: an unknown key is reported with the keys known where it sits, also inside a map of sections."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import StrictInt, StrictStr, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass

from config_problems import key, owner_at, problems_from
from config_promotion import PromotionConfig
from stack_config import StackConfig
from stack_config.drift import RetrainedByConfig
from stack_config.fields import MODEL


@dataclass(frozen=True, kw_only=True, config=MODEL)
class Entry:
    from_stack: StrictStr = key("Name the source stack", alias="from")
    max_count: StrictInt = key("Give a count", default=1)


@dataclass(frozen=True, kw_only=True, config=MODEL)
class Holder:
    entries: dict[StrictStr, Entry] = key("Map a name to an entry", default_factory=dict[str, Entry])
    single: Entry | None = key("Give one entry", default=None)


def problem_texts(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(Holder).validate_python(raw)
    return [str(problem) for problem in problems_from(caught.value, Holder, ("holder",), "prod")]


def test_an_unknown_key_in_a_value_of_a_map_lists_the_keys_of_that_value() -> None:
    assert problem_texts({"entries": {"v7": {"from": "staging", "maxCont": 2}}}) == [
        "pai-mlops:holder.entries.v7 [maxCont]: is not a known key; got a value not shown here. "
        "Did you mean 'maxCount'? Known keys here: from, maxCount."
    ]


def test_an_unknown_key_in_a_section_and_at_the_top_list_their_own_keys() -> None:
    assert problem_texts({"single": {"from": "staging", "foo": 1}, "entriez": {}}) == [
        "pai-mlops:holder.single [foo]: is not a known key; got a value not shown here. "
        "Known keys here: from, maxCount.",
        "pai-mlops:holder [entriez]: is not a known key; got a value not shown here. "
        "Did you mean 'entries'? Known keys here: entries, single.",
    ]


def test_owner_at_follows_lists_sections_and_maps_of_the_stack_config() -> None:
    assert owner_at(StackConfig, ()) is StackConfig
    assert owner_at(StackConfig, ("serving", "services", 0, "promoted", "v7")) is PromotionConfig
    assert owner_at(StackConfig, ("serving", "services", 0, "retrainedBy", "v7")) is RetrainedByConfig
    assert owner_at(StackConfig, ("serving", "services", 0, "contracts")) is None
