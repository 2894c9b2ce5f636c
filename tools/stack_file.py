"""Read ``Pulumi.<stack>.yaml`` strictly: every mistake is one message naming the file, the line and the fix.

PyYAML on its own accepts what the Pulumi CLI would read differently or not at all, and fails with a traceback on
the rest: a duplicate key silently keeps the last value (a second ``config:`` drops the first block), an unquoted
``2026-01-01`` becomes a ``date`` and ``.inf``/``.nan`` become floats that no config key means, bytes that are
not UTF-8 raise ``UnicodeDecodeError``, and a file that is a list or ``config:`` that is a list fail later with
``AttributeError``. Here each of these is a :class:`StackFileError` that the plan reports with exit 2.

A stack file is a mapping with an optional ``config:`` mapping (and other top-level keys the CLI knows, such as
``secretsprovider`` and ``encryptionsalt``): https://www.pulumi.com/docs/iac/concepts/projects/stack-settings-file/
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Final

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode


class StackFileError(Exception):
    """The stack file cannot be read as a stack file; the message names the file, the line and the fix."""


_MERGE: Final = "tag:yaml.org,2002:merge"
# YAML 1.1 (PyYAML) reads these as booleans; the Pulumi CLI's YAML (go-yaml v3, YAML 1.2 rules) reads them as text.
_BOOLEAN_WORDS: Final = frozenset({"true", "false"})
# YAML 1.1 integers the CLI would read differently: base-60 (12:30 = 750) and leading-zero octal (0755 = 493).
_SURPRISING_INT: Final = re.compile(r"^[-+]?(0[0-7_]+|[0-9][0-9_]*(:[0-5]?[0-9])+)$")
_MAX_DIGITS: Final = 30  # no config number is longer; Python refuses to parse one of over 4300 digits


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses what the Pulumi CLI would read differently, naming the line of each: duplicate keys,
    dates, non-finite floats, YAML 1.1 booleans and numbers, and tags that are not config values."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[tuple[type, Any], int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:  # '<<: *anchor': merged keys may be overridden, by YAML's rules
                continue
            key = self.construct_object(key_node, deep=True)  # pyright: ignore[reportUnknownMemberType]
            line = key_node.start_mark.line + 1
            if not isinstance(key, str | int | float | bool) and key is not None:
                raise _Refused(line, f"a key must be plain text, got {_kind(key)}. Write 'name: value'")
            if (type(key), key) in seen:
                raise _Refused(
                    line,
                    f"the key {key!r} appears twice (first on line {seen[(type(key), key)]}); YAML keeps only the "
                    "last one, so the first is silently lost. Merge the two into one",
                )
            seen[(type(key), key)] = line
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node: ScalarNode) -> Any:
        raise _Refused(
            node.start_mark.line + 1,
            f"{node.value!r} is read as a date, not as text. Quote it: '{node.value}'",
        )

    def construct_yaml_bool(self, node: ScalarNode) -> bool:
        if node.value.lower() not in _BOOLEAN_WORDS:
            raise _Refused(
                node.start_mark.line + 1,
                f"{node.value!r} is read as a boolean here but as text by the Pulumi CLI. Write true or false, or "
                f"quote it ('{node.value}') if you mean the text",
            )
        return super().construct_yaml_bool(node)

    def construct_yaml_int(self, node: ScalarNode) -> int:
        line = node.start_mark.line + 1
        if _SURPRISING_INT.match(node.value):
            raise _Refused(
                line,
                f"{node.value!r} is read as a YAML 1.1 number (base 8 or base 60), unlike the Pulumi CLI. Quote it "
                f"('{node.value}') if you mean the text, or write the number without leading zeros or colons",
            )
        if len(node.value) > _MAX_DIGITS:
            raise _Refused(line, f"a number of {len(node.value)} characters is not a config value. Quote it")
        return super().construct_yaml_int(node)

    def construct_yaml_float(self, node: ScalarNode) -> float:
        line = node.start_mark.line + 1
        if ":" in node.value or len(node.value) > _MAX_DIGITS:
            raise _Refused(line, f"{node.value!r} is not a plain number. Quote it, or write a plain number")
        value = super().construct_yaml_float(node)
        if not math.isfinite(value):
            raise _Refused(
                line,
                f"{node.value!r} is read as a non-finite number, which no config key takes. Write a finite number, "
                f"or quote it ('{node.value}') if you mean the text",
            )
        return value

    def construct_not_config(self, node: Node) -> Any:
        raise _Refused(
            node.start_mark.line + 1,
            f"the YAML tag {node.tag.rsplit(':', 1)[-1]!r} makes a value no config key takes. Write plain text, a "
            "number, a list or a mapping",
        )


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictLoader.construct_yaml_timestamp)
_StrictLoader.add_constructor("tag:yaml.org,2002:bool", _StrictLoader.construct_yaml_bool)
_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _StrictLoader.construct_yaml_float)
for _tag in ("binary", "set", "omap", "pairs"):
    _StrictLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _StrictLoader.construct_not_config)


class _Refused(Exception):
    def __init__(self, line: int, problem: str) -> None:
        super().__init__(problem)
        self.line = line
        self.problem = problem


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, str):
        return "a single text value"  # never echoed: it could be anything, a secret included
    return "a value of another kind"


def _tree(text: str) -> Node | None:
    """The document's node tree, for the line of a key: composed only on the error paths that name one (the text
    has already loaded, so this cannot fail)."""
    return yaml.compose(text, Loader=yaml.SafeLoader)


def _line_of(node: Node | None, key: str) -> int:
    """The line of ``key`` in the top-level mapping ``node`` (1 when it is not there)."""
    if isinstance(node, MappingNode):
        for key_node, _ in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == key:
                return key_node.start_mark.line + 1
    return 1


def _key_line(node: Node | None, key: object) -> int:
    """The line of the key under ``config:`` whose value is ``key`` (1 when it cannot be found)."""
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == "config" and isinstance(value_node, MappingNode):
                for inner, _ in value_node.value:
                    if yaml.safe_load(inner.value if isinstance(inner, ScalarNode) else "~") == key:
                        return inner.start_mark.line + 1
    return 1


def yaml_problem(error: yaml.YAMLError) -> tuple[int, str]:
    """PyYAML's problem and its 1-based line, with where the construct began, without its echo of the document."""
    if not isinstance(error, yaml.MarkedYAMLError):
        return 1, str(error)
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark is not None else 1
    context = ""
    if error.context:
        begun = error.context_mark
        at = f" that begins on line {begun.line + 1}, column {begun.column + 1}" if begun is not None else ""
        context = f"{error.context}{at}: "
    return line, f"{context}{error.problem}"


def read_stack_file(path: Path) -> dict[str, Any]:
    """The stack file's ``config:`` mapping (empty when there is none), or :class:`StackFileError`."""
    name = path.name
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise StackFileError(
            f"{name} line {line}: byte 0x{data[error.start]:02x} is not UTF-8. Save the file as UTF-8 (in most "
            "editors: 'Save with encoding' → UTF-8), or replace the character"
        ) from None
    try:
        document = yaml.load(text, Loader=_StrictLoader)
    except RecursionError:
        raise StackFileError(f"{name}: values are nested too deeply to be config. Flatten them") from None
    except yaml.reader.ReaderError as error:
        line = text[: error.position].count("\n") + 1
        code = error.character if isinstance(error.character, int) else ord(error.character)
        raise StackFileError(
            f"{name} line {line}: the control character U+{code:04X} cannot appear in YAML. Delete it (it is "
            "invisible in most editors: retype the line)"
        ) from None
    except _Refused as refused:
        raise StackFileError(f"{name} line {refused.line}: {refused.problem}") from None
    except ConstructorError as error:
        line, problem = yaml_problem(error)
        raise StackFileError(f"{name} line {line}: {problem}. Write plain keys and values") from None
    except yaml.YAMLError as error:
        line, problem = yaml_problem(error)
        fix = "Indent with spaces, never tabs" if "'\\t'" in problem else "Check the indentation and quoting"
        raise StackFileError(f"{name} line {line}: not valid YAML: {problem}. {fix}") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise StackFileError(
            f"{name} line 1: the file must be a mapping with a 'config:' key, got {_kind(document)}. "
            "Write:\nconfig:\n  pai-mlops:environment: dev"
        )
    config: Any = document.get("config")
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise StackFileError(
            f"{name} line {_line_of(_tree(text), 'config')}: 'config' must be a mapping of keys to values, got "
            f"{_kind(config)}. Write each setting as 'key: value' under 'config:', without a leading '-'"
        )
    for key in config:
        if not isinstance(key, str):
            line = _key_line(_tree(text), key)
            raise StackFileError(
                f"{name} line {line}: a config key is {_kind(key)}, not text. Write '<namespace>:<key>: <value>', "
                "e.g. 'pai-mlops:owner: ml-platform'"
            )
    return config
