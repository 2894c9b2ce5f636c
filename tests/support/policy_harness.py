"""Call a policy's rule the way the pack's servicer does, on fixture resources.

Properties go through a protobuf Struct first (numbers become floats, as on the wire), then the pack's secret
marking (as ``policies/__main__.py`` installs it), pulumi-policy's own deserializer and unknown-checking proxy.
``UNKNOWN`` marks a value unknown at preview; a rule that reads it raises ``UnknownValueError`` exactly as in the pack.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, NoReturn

from google.protobuf import json_format, struct_pb2
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY, deserialize_properties
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from policies.rules.common import mark_secrets

UNKNOWN: Final = UNKNOWN_STRING_VALUE
STANDARD_TAGS: Final = {"environment": "prod", "owner": "ml-platform", "cost-center": "cc-1"}


class NotApplicable(Exception):
    def __init__(self, reason: str | None) -> None:
        super().__init__(reason)
        self.reason = reason


class _Args(ResourceValidationArgs):
    def not_applicable(self, reason: str | None = None) -> NoReturn:
        raise NotApplicable(reason)


def wire(props: Mapping[str, Any]) -> dict[str, Any]:
    struct = struct_pb2.Struct()
    json_format.ParseDict(json.loads(json.dumps(props)), struct)
    return json_format.MessageToDict(struct)


def secret(value: Any) -> dict[str, Any]:
    """``value`` as the engine sends a secret on the wire."""
    return {SPECIAL_SIG_KEY: SPECIAL_SECRET_SIG, "value": value}


def urn_of(resource_type: str, name: str, stack: str = "prod") -> str:
    return f"urn:pulumi:{stack}::pai-mlops::{resource_type}::{name}"


def options(secret_outputs: Sequence[str] = ()) -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), list(secret_outputs))


def check(
    policy: ResourceValidationPolicy,
    resource_type: str,
    props: Mapping[str, Any],
    *,
    name: str = "res",
    stack: str = "prod",
    config: Mapping[str, Any] | None = None,
    secret_outputs: Sequence[str] = (),
) -> list[str]:
    """The messages ``policy`` reports for one resource; raises NotApplicable when it opts out."""
    args = _Args(
        resource_type,
        unknown_checking_proxy(deserialize_properties(mark_secrets(wire(props)))),
        urn_of(resource_type, name, stack),
        name,
        options(secret_outputs),
        None,
        config,
    )
    messages: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        assert urn is None, "resource policies report against the resource itself"
        messages.append(message)

    policy.validate(args, report)
    return messages


@dataclass
class Fixture:
    """One resource of a stack fixture; ``depends_on`` maps a property to the fixtures it came from."""

    type: str
    name: str
    props: Mapping[str, Any]
    stack: str = "prod"
    depends_on: Mapping[str, Sequence[Fixture]] = field(default_factory=lambda: {})

    @property
    def urn(self) -> str:
        return urn_of(self.type, self.name, self.stack)


def check_stack(
    policy: StackValidationPolicy, fixtures: Sequence[Fixture], config: Mapping[str, Any] | None = None
) -> list[tuple[str, str]]:
    """``(resource name, message)`` for every violation ``policy`` reports on the stack."""
    resources = {
        f.urn: PolicyResource(
            f.type,
            unknown_checking_proxy(deserialize_properties(mark_secrets(wire(f.props)))),
            f.urn,
            f.name,
            options(),
            None,
            None,
            [],
            {},
        )
        for f in fixtures
    }
    for f in fixtures:
        resources[f.urn].property_dependencies = {
            prop: [resources[dep.urn] for dep in deps] for prop, deps in f.depends_on.items()
        }
    found: list[tuple[str, str]] = []

    def report(message: str, urn: str | None = None) -> None:
        assert urn in resources, f"stack violation must name a resource, got {urn!r}"
        found.append((resources[urn].name, message))

    policy.validate(StackValidationArgs(list(resources.values()), config), report)
    return found


def ram_policy(*statements: dict[str, Any], name: str = "p1") -> dict[str, Any]:
    """The inputs of a ``ram.Policy`` named ``name`` whose document holds ``statements``."""
    return {"policyName": name, "policyDocument": json.dumps({"Version": "1", "Statement": list(statements)})}


def allow(action: Any, resource: Any = "acs:oss:*:*:acme-data/data/*", **extra: Any) -> dict[str, Any]:
    """An ``Allow`` statement of a RAM policy document."""
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}
