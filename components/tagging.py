"""The stack's standard tags, applied to every taggable resource by one stack transform.

Components never pass ``environment`` / ``owner`` / ``cost-center`` themselves: ``__main__``
registers :func:`tag_transform` once and the engine runs it on every resource the program
registers, children of components included.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import pulumi

# Resource types the program registers that accept a ``tags`` map (pulumi-alicloud 4.0.0 and our dynamic
# resources). tests/components/test_tagging.py checks this set against the SDK's signatures and the dynamic
# resources' args.
TAGGABLE_TYPES: Final = frozenset(
    {
        "pulumi-python:dynamic/pai:TrainingJob",
        "pulumi-python:dynamic/pai:DswInstance",
        "pulumi-python:dynamic/pai:EasService",
        "alicloud:cms/alarm:Alarm",
        "alicloud:fc/v3Function:V3Function",
        "alicloud:kms/key:Key",
        "alicloud:log/project:Project",
        "alicloud:oss/bucket:Bucket",
        "alicloud:pai/service:Service",
        "alicloud:ram/policy:Policy",
        "alicloud:ram/role:Role",
        "alicloud:resourcemanager/resourceGroup:ResourceGroup",
    }
)


def merged_tags(existing: Any, standard: Mapping[str, str]) -> Any:
    """``existing`` tags (a map, an Output of one, or None) with the standard tags laid over them.

    The standard tags win: a resource cannot opt out of being attributable.
    """
    if existing is None or isinstance(existing, Mapping):
        return {**(existing or {}), **standard}

    def lay_over(tags: Mapping[str, str] | None) -> dict[str, str]:
        return {**(tags or {}), **standard}

    return pulumi.Output.from_input(existing).apply(lay_over)


def tag_transform(standard: Mapping[str, str]) -> pulumi.ResourceTransform:
    """A stack transform that adds ``standard`` to every resource type in TAGGABLE_TYPES."""
    frozen = dict(standard)

    def transform(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if args.type_ not in TAGGABLE_TYPES:
            return None
        props = dict(args.props)
        props["tags"] = merged_tags(props.get("tags"), frozen)
        return pulumi.ResourceTransformResult(props=props, opts=args.opts)

    return transform
