"""An offline stand-in for the alicloud provider's own validation, run by the offline plan on every resource.

``pulumi preview`` runs the provider's checks (required inputs, terraform ValidateFunc enums, ranges and patterns);
the mock engine runs none, so a plan could be clean and ``pulumi up`` still fail at once. :func:`violations` checks
every ``alicloud:*`` resource the program registered against:

- its **required inputs**: the parameters without a default of the resource's ``<Resource>Args`` in pulumi-alicloud
  4.0.0 (generated from the provider schema, so they are the provider's own required list);
- the **enums, ranges and patterns** the provider validates, and the **API constraints** behind them (semantic
  versions, URI forms, the FC cpu/memory ratio, name rules), each rule with its source beside it
  (``tools/contract_rules.py``).

A value unknown at preview (an Output of another resource) is present but cannot be checked: it is skipped, as the
provider's own check would defer it. A violation names the resource, the input and the rule, and fails the plan
(``tools/plan.py`` exits 2).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi.runtime.rpc import UNKNOWN
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY

from tools.contract_rules import FC_CPU_SOURCE, RULES, Rule, fc_cpu_problem


@dataclass(frozen=True)
class Violation:
    resource: str  # the resource's name
    type: str
    input: str
    rule: str
    value: Any
    source: str

    def __str__(self) -> str:
        return f"{self.type} '{self.resource}' [{self.input}]: {self.rule}; got {self.value!r} (source: {self.source})"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def required_inputs(type_token: str) -> tuple[str, ...]:
    """The wire names of the inputs ``<Resource>Args`` of pulumi-alicloud 4.0.0 requires (no default)."""
    _, module_path, resource = type_token.split(":")
    module = importlib.import_module(f"pulumi_alicloud.{module_path.split('/')[0]}")
    args = getattr(module, f"{resource}Args")
    parameters = inspect.signature(args.__init__).parameters.values()
    return tuple(_camel(p.name) for p in parameters if p.name != "__self__" and p.default is inspect.Parameter.empty)


def _unknown(value: Any) -> bool:
    return value == UNKNOWN


def _plain(value: Any) -> Any:
    """A wire value without its secret wrapper (a secret's value is checked, never printed)."""
    if isinstance(value, Mapping) and value.get(SPECIAL_SIG_KEY) == SPECIAL_SECRET_SIG:
        return value.get("value")
    return value


@dataclass(frozen=True)
class Resource:
    """What the contract reads of a registration: type, name and its inputs in wire form."""

    type: str
    name: str
    properties: Mapping[str, Any]


def violations(resources: Sequence[Resource]) -> list[Violation]:
    """Every contract violation among ``resources`` (only ``alicloud:*`` types are checked)."""
    found: list[Violation] = []
    rules: dict[str, list[Rule]] = {}
    for rule in RULES:
        rules.setdefault(rule.type, []).append(rule)
    for resource in resources:
        if not resource.type.startswith("alicloud:"):
            continue
        props = {key: _plain(value) for key, value in resource.properties.items()}
        for name in required_inputs(resource.type):
            if props.get(name) is None:
                found.append(
                    Violation(
                        resource.name,
                        resource.type,
                        name,
                        "is required",
                        None,
                        f"pulumi-alicloud 4.0.0 {resource.type.split(':')[2]}Args (no default)",
                    )
                )
        for rule in rules.get(resource.type, []):
            value = props.get(rule.input)
            if value is None or _unknown(value) or _contains_unknown(value):
                continue
            if not rule.check(value):
                secret = resource.properties.get(rule.input) != value
                shown = "[secret]" if secret else value
                found.append(
                    Violation(resource.name, resource.type, rule.input, f"must be {rule.rule}", shown, rule.source)
                )
        if resource.type == "alicloud:fc/v3Function:V3Function":
            problem = fc_cpu_problem(props)
            if problem is not None:
                found.append(
                    Violation(
                        resource.name,
                        resource.type,
                        "cpu",
                        problem,
                        props.get("cpu"),
                        FC_CPU_SOURCE,
                    )
                )
    return found


def _contains_unknown(value: Any) -> bool:
    if isinstance(value, str):
        return UNKNOWN in value
    if isinstance(value, Mapping):
        return any(_contains_unknown(v) for v in value.values())  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list):
        return any(_contains_unknown(v) for v in value)  # pyright: ignore[reportUnknownVariableType]
    return False
