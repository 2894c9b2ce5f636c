"""Turning bad stack configuration into one readable error.

Every problem is reported as ``<where> [<key>]: <problem>; got <value!r>. <fix>.`` so a user can
find the line in ``Pulumi.<stack>.yaml`` and knows what to write instead. Problems are collected,
never raised one at a time: a stack with five mistakes fails once, listing all five.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from pydantic import Field, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

PROJECT: Final = "pai-mlops"


class _Missing:
    def __repr__(self) -> str:
        return "nothing"


MISSING: Final = _Missing()
"""The value of a key that is not set at all (printed as ``got nothing``)."""


class _Hidden:
    def __repr__(self) -> str:
        return "a value not shown here"


HIDDEN: Final = _Hidden()
"""Stands in for a value a problem must not echo: a secret's, an unknown key's (it may be a mistyped secret), or
one holding a credential (printed as ``got a value not shown here``). Errors reach preview logs and PR comments."""

# userinfo in a URL: scheme://user[:password]@host (RFC 3986 §3.2.1).
URL_CREDENTIAL: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s?#@]+@")


def holds_credential(value: Any) -> bool:
    """Whether ``value`` (or anything inside it) is a URL with a user name or password in it."""
    if isinstance(value, str):
        return URL_CREDENTIAL.search(value) is not None
    if isinstance(value, dict):
        return any(holds_credential(k) or holds_credential(v) for k, v in value.items())  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list | tuple):
        return any(holds_credential(item) for item in value)  # pyright: ignore[reportUnknownVariableType]
    return False


def key(
    fix: str,
    *,
    dev_default: Any = MISSING,
    rule: str | None = None,
    namespace: str | None = None,
    computed_default: str | None = None,
    **constraints: Any,
) -> Any:
    """A config field with the text shown when it is wrong.

    ``fix`` says what to write instead. ``dev_default`` is applied only when ``environment`` is
    ``dev``; in prod such a key must be set explicitly. ``rule`` replaces the raw regular
    expression in pattern errors with words. ``namespace`` names the config namespace of a top-level
    key read from outside ``pai-mlops`` (e.g. ``alicloud`` for the region). ``computed_default``
    describes the value the loader fills in when the key is missing (e.g. ``pai-mlops-<stack>``), for a
    key the dataclass itself requires. Remaining keyword arguments go to pydantic's ``Field``.
    """
    extra: dict[str, Any] = {"fix": fix}
    if namespace is not None:
        extra["namespace"] = namespace
    if computed_default is not None:
        extra["computed_default"] = computed_default
    if dev_default is not MISSING:
        extra["dev_default"] = dev_default
    if rule is not None:
        extra["rule"] = rule
    return Field(json_schema_extra=extra, **constraints)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the stack configuration."""

    where: str
    key: str
    problem: str
    value: Any
    fix: str

    def __str__(self) -> str:
        fix = self.fix if self.fix.endswith(".") else f"{self.fix}."
        return f"{self.where} [{self.key}]: {self.problem}; got {self.value!r}. {fix}"


class StackConfigError(Exception):
    """Raised once, before any resource is registered, with every problem found."""

    def __init__(self, stack: str, problems: Sequence[Problem]) -> None:
        self.stack = stack
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"Stack '{stack}' has invalid configuration (Pulumi.{stack}.yaml), {count} {noun}:\n{lines}")


def path_text(path: Sequence[str | int]) -> str:
    """``('serving', 'services', 0)`` → ``pai-mlops:serving.services[0]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return f"{PROJECT}:{text}" if text else PROJECT


def split_loc(loc: Sequence[str | int]) -> tuple[str, str]:
    """Split an error location into (where, key): the key is the last name plus any indices after it."""
    names = [i for i, part in enumerate(loc) if isinstance(part, str)]
    if not names:
        return path_text(loc), "(value)"
    last = names[-1]
    key_text = str(loc[last]) + "".join(f"[{i}]" for i in loc[last + 1 :])
    return path_text(loc[:last]), key_text


def _dataclass_in(annotation: Any) -> type | None:
    """The config dataclass inside ``X``, ``X | None``, ``tuple[X, ...]`` or ``list[X]``, if any."""
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        return annotation
    if typing.get_origin(annotation) in (tuple, list, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _dataclass_in(arg)
            if found is not None:
                return found
    return None


def fields_by_alias(cls: type) -> dict[str, FieldInfo]:
    """The pydantic fields of a config dataclass, keyed by their camelCase config key."""
    infos: dict[str, FieldInfo] = getattr(cls, "__pydantic_fields__", {})
    return {(info.alias or name): info for name, info in infos.items()}


def field_at(root: type, loc: Sequence[str | int]) -> FieldInfo | None:
    """The field a pydantic error location points at, walking nested config dataclasses."""
    return _walk(root, loc)[0]


def owner_at(root: type, loc: Sequence[str | int]) -> type | None:
    """The config dataclass whose keys sit at ``loc``: a nested section, an item of a list, a value of a map."""
    return _walk(root, loc)[1] if loc else root


def _walk(root: type, loc: Sequence[str | int]) -> tuple[FieldInfo | None, type | None]:
    """The field at ``loc`` and the config dataclass its value holds (the values', for a map of them)."""
    cls: type | None = root
    info: FieldInfo | None = None
    keyed = False  # the part after a map of config dataclasses is a key of the map, not a field
    for part in loc:
        if isinstance(part, int) or keyed:
            keyed = False
            continue
        if cls is None:
            return None, None
        info = fields_by_alias(cls).get(part)
        if info is None:
            return None, None
        cls = _dataclass_in(info.annotation)
        if cls is None and typing.get_origin(info.annotation) is dict:
            cls = _dataclass_in(typing.get_args(info.annotation)[-1])
            keyed = cls is not None
    return info, cls


def _extra(info: FieldInfo | None) -> dict[str, Any]:
    extra = info.json_schema_extra if info is not None else None
    return extra if isinstance(extra, dict) else {}


_TYPE_PROBLEMS: Final = {
    "int_type": "must be a whole number",
    "float_type": "must be a number",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "tuple_type": "must be a list",
    "list_type": "must be a list",
    "dataclass_type": "must be an object (a YAML mapping)",
    "dict_type": "must be an object (a YAML mapping)",
}


def _problem_text(error: ErrorDetails, info: FieldInfo | None) -> str:
    kind = error["type"]
    ctx = error.get("ctx", {})
    extra = _extra(info)
    if kind == "missing":
        return "is required"
    if kind in _TYPE_PROBLEMS:
        return _TYPE_PROBLEMS[kind]
    if kind == "string_pattern_mismatch":
        return f"must be {extra['rule']}" if "rule" in extra else f"must match {ctx['pattern']}"
    comparisons = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("greater than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if kind in comparisons:
        words, bound = comparisons[kind]
        limit = ctx[bound]
        return f"must be {words} {int(limit) if float(limit).is_integer() else limit}"
    if kind in ("string_too_short", "too_short") and ctx["min_length"] == 1:
        return "must not be empty"
    if kind in ("string_too_short", "too_short"):
        unit = "characters" if kind == "string_too_short" else "items"
        return f"must have at least {ctx['min_length']} {unit}"
    if kind in ("string_too_long", "too_long"):
        unit = "characters" if kind == "string_too_long" else "items"
        return f"must have at most {ctx['max_length']} {unit}"
    if kind == "literal_error":
        return f"must be one of {ctx['expected']}"
    return error["msg"][0].lower() + error["msg"][1:]


def problems_from(error: ValidationError, root: type, base: Sequence[str | int], environment: str) -> list[Problem]:
    """Translate a pydantic ValidationError for ``root`` (found at ``base`` in the config) into Problems."""
    problems: list[Problem] = []
    for detail in error.errors():
        loc: tuple[str | int, ...] = tuple(detail["loc"])
        where, key_text = split_loc((*base, *loc))
        if detail["type"] == "unexpected_keyword_argument":
            owner = owner_at(root, loc[:-1])
            known = sorted(fields_by_alias(owner)) if owner is not None else []
            close = difflib.get_close_matches(key_text.split("[")[0], known, n=1)
            hint = f"Did you mean '{close[0]}'? " if close else ""
            problems.append(
                Problem(
                    where,
                    key_text,
                    "is not a known key",
                    HIDDEN,
                    f"{hint}Known keys here: {', '.join(known)}",
                )
            )
            continue
        info = field_at(root, loc)
        extra = _extra(info)
        where = extra.get("namespace", where)
        value = MISSING if detail["type"] == "missing" else detail["input"]
        value = HIDDEN if holds_credential(value) else value
        problem = _problem_text(detail, info)
        fix = extra.get("fix", "See the configuration reference in docs/configuration.md")
        if detail["type"] == "missing" and "dev_default" in extra and environment == "prod":
            problem = "is required in prod (dev falls back to a default; prod never inherits dev defaults)"
            fix = f"{fix}. Set it explicitly in Pulumi.prod.yaml (dev uses {extra['dev_default']!r})"
        problems.append(Problem(where, key_text, problem, value, fix))
    return problems


def with_dev_defaults(cls: type, raw: Any) -> Any:
    """``raw`` with every missing ``dev_default`` key of ``cls`` (and nested config objects) filled in."""
    if not isinstance(raw, dict):
        return raw
    filled: dict[str, Any] = dict(raw)
    for alias, info in fields_by_alias(cls).items():
        extra = _extra(info)
        if alias not in filled and "dev_default" in extra:
            filled[alias] = extra["dev_default"]
        nested = _dataclass_in(info.annotation)
        if nested is None or alias not in filled:
            continue
        value = filled[alias]
        if isinstance(value, list):
            filled[alias] = [with_dev_defaults(nested, item) for item in value]
        else:
            filled[alias] = with_dev_defaults(nested, value)
    return filled
