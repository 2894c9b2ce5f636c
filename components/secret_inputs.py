"""The stack transform that keeps credential inputs secret: a literal is refused, anything else is made a secret.

Why in the program and not in the policy pack: pulumi-policy's servicer unwraps secret inputs before a rule sees
them (pulumi_policy/policy.py 1.21.0, ``Analyze``: ``deserialize_properties(...)`` without ``proxy_secrets``), so a
rule cannot tell a literal from a secret. Here, before the engine sees the resource, a plain ``str`` in a credential
input can only be a literal written into the program (secret config arrives as an ``Output``): it would sit in clear
in the preview diff and in the state's inputs, which ``additional_secret_outputs`` does not cover (pulumi/pulumi#9581,
#7910). An ``Output`` is wrapped in ``pulumi.Output.secret`` so it is encrypted whatever its origin.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

import pulumi

# Input names that hold a credential, in the wire (camelCase) or Python (snake_case) spelling.
SECRET_INPUT: Final = re.compile(r"(token|secret|password|passwd|access_?key|private_?key|credential)", re.IGNORECASE)
# Names that merely mention one: the name, id, type or ARN of a secret, key or token, not its value.
NOT_A_VALUE: Final = re.compile(r"(_?(id|ids|arn|name|type|types|version|stages|interval|file|days|enabled))$", re.I)


class PlaintextSecretError(ValueError):
    """A credential input was given a literal; raised while the resource registers, before anything is created."""


def credential_inputs(props: Mapping[str, Any]) -> list[str]:
    """The set input names of ``props`` that hold a credential value."""
    return sorted(
        name
        for name, value in props.items()
        if value is not None and SECRET_INPUT.search(name) and not NOT_A_VALUE.search(name)
    )


def secret_inputs_transform() -> pulumi.ResourceTransform:
    """A stack transform: literal credential inputs fail the program; Output ones become secrets."""

    def transform(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        names = credential_inputs(args.props)
        if not names:
            return None
        literal = [name for name in names if isinstance(args.props[name], str | bytes)]
        if literal:
            raise PlaintextSecretError(
                f"{args.type_} '{args.name}' [{', '.join(literal)}]: is a literal in the program, so it would be "
                f"stored in plain text in the stack state and shown in previews; got a value not shown here. Read it "
                f"from secret config (pulumi config set --secret <key>; pulumi.Config().require_secret('<key>')) "
                f"and pass that Output."
            )
        props = dict(args.props)
        for name in names:
            props[name] = pulumi.Output.secret(props[name])
        return pulumi.ResourceTransformResult(props=props, opts=args.opts)

    return transform
