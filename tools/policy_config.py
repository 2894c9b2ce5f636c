"""The policy pack's config file, read as the Pulumi CLI reads ``--policy-pack-config``, and reconciled with the
pack's own policies, default levels and config schemas as the CLI's ``ReconcilePolicyPackConfig`` does.

Differences from the CLI, all stricter: a config entry naming no policy of the pack, or a property a policy's schema
does not declare, is an error here (the CLI ignores both, so a typo silently keeps a default). ``tools/policy_gate.py``
sends the reconciled settings to the pack.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import jsonschema
from pulumi.runtime.proto import analyzer_pb2

# The enforcement levels a config may name, as the Analyzer protocol numbers them.
LEVELS: Final = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "remediate": analyzer_pb2.REMEDIATE,
    "disabled": analyzer_pb2.DISABLED,
}
LEVEL_NAMES: Final = {number: name for name, number in LEVELS.items()}


class PolicyConfigError(ValueError):
    """The policy config file is unreadable or does not fit the pack."""

    def __init__(self, path: Path, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = list(problems)
        super().__init__(f"policy config {path}:\n" + "\n".join(f"  - {p}" for p in self.problems))


@dataclass(frozen=True)
class PolicyInfo:
    name: str
    description: str
    level: str
    kind: str  # "resource" | "stack"
    schema: Mapping[str, Any]


@dataclass(frozen=True)
class PolicySetting:
    level: str | None
    properties: Mapping[str, Any] = field(default_factory=lambda: {})


def load_policy_config(path: Path) -> dict[str, PolicySetting]:
    """Parse a ``--policy-pack-config`` file as the CLI does: ``{"<policy>|all": level | {enforcementLevel, …}}``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PolicyConfigError(path, [f"cannot read it: {error.strerror}"]) from error
    if not text.strip():
        return {}
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise PolicyConfigError(path, [f"not valid JSON: {error.msg} (line {error.lineno})"]) from error
    if not isinstance(document, dict):
        raise PolicyConfigError(path, ["the top level must be an object of policy names"])
    settings: dict[str, PolicySetting] = {}
    problems: list[str] = []
    for name, value in document.items():
        properties: dict[str, Any] = {}
        if isinstance(value, str):
            level: Any = value
        elif isinstance(value, dict):
            properties = dict(value)
            level = properties.pop("enforcementLevel", None)
        else:
            problems.append(f"{name}: {value!r} is not a valid value; must be a string or object")
            continue
        if level is not None and level not in LEVELS:
            problems.append(f"{name}: {level!r} is not a valid enforcement level ({', '.join(LEVELS)})")
            continue
        settings[name] = PolicySetting(level, properties)
    if problems:
        raise PolicyConfigError(path, problems)
    return settings


def reconcile(
    policies: Sequence[PolicyInfo], config: Mapping[str, PolicySetting], path: Path
) -> dict[str, PolicySetting]:
    """Defaults from the pack, then ``all``, then each policy's entry; validated against the schemas."""
    known = {policy.name: policy for policy in policies}
    problems = [
        f"{name}: no policy of that name in the pack (policies: {', '.join(sorted(known))})"
        for name in config
        if name != "all" and name not in known
    ]
    everyone = config.get("all")
    result: dict[str, PolicySetting] = {}
    for policy in policies:
        declared: Mapping[str, Any] = policy.schema.get("properties", {})
        properties = {key: spec["default"] for key, spec in declared.items() if "default" in spec}
        level = everyone.level if everyone and everyone.level else policy.level
        given = config.get(policy.name)
        if given is not None:
            level = given.level or level
            properties.update(given.properties)
            problems += [
                f"{policy.name}: unknown setting {key!r} (settings: {', '.join(sorted(declared)) or 'none'})"
                for key in given.properties
                if key not in declared
            ]
        schema = {"type": "object", "properties": dict(declared), "required": list(policy.schema.get("required", []))}
        for error in sorted(jsonschema.Draft7Validator(schema).iter_errors(properties), key=str):
            where = ".".join(str(part) for part in error.absolute_path)
            problems.append(f"{policy.name}: {where + ': ' if where else ''}{error.message}")
        result[policy.name] = PolicySetting(level, properties)
    if problems:
        raise PolicyConfigError(path, problems)
    return result
