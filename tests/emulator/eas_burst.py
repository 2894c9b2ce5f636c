"""EAS's elastic resource pool as a service config states it: ``metadata.resource_burstable``.

The documentation (https://www.alibabacloud.com/help/en/pai/elastic-resource-pool, zh
https://help.aliyun.com/document_detail/469776.html): the pool is for a service on a dedicated resource group
("Prerequisites: you have created a dedicated resource group"); the public instances it adds take the instance type
given in ``cloud.computing``; and a dedicated group's VPC direct connection is configured on the group, so a service
whose burst instances must reach the VPC adds ``cloud.networking``. The docs name no error code for a config that
breaks these rules, and do not say that EAS refuses one. The emulator takes the less forgiving reading and refuses it
at CreateService / UpdateService (after a merge) with 400 ``InvalidParameter`` (code and status UNCONFIRMED, as is
the refusal itself: a real EAS might accept such a config and schedule nothing public).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.emulator.core import ApiError, invalid

NETWORKING_KEYS = ("vpc_id", "vswitch_id", "security_group_id")


def _public_type(computing: Any) -> bool:
    """``cloud.computing`` names a public instance type: ``instance_type``, or ``instances[{type}]`` (both forms are
    in the service parameter docs, shared/reference/eas-api.md §3)."""
    if not isinstance(computing, Mapping):
        return False
    if isinstance(computing.get("instance_type"), str) and computing["instance_type"]:
        return True
    instances = computing.get("instances")
    return isinstance(instances, list) and any(
        isinstance(item, Mapping) and isinstance(item.get("type"), str) and item["type"] for item in instances
    )


def burst_error(config: Mapping[str, Any]) -> ApiError | None:
    """Why a service config's elastic-pool settings are refused, or None when they hold (or burst is off)."""
    metadata = config.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    if "resource_burstable" not in metadata:
        return None
    flag = metadata["resource_burstable"]
    if not isinstance(flag, bool):
        return invalid(f"metadata.resource_burstable must be a boolean; got {flag!r}")
    if not flag:
        return None
    resource = metadata.get("resource")
    if not isinstance(resource, str) or not resource.startswith("eas-r-"):
        return invalid(
            "metadata.resource_burstable needs the service on a dedicated resource group (metadata.resource "
            f"eas-r-...); got {resource!r}"
        )
    cloud = config.get("cloud")
    cloud = cloud if isinstance(cloud, Mapping) else {}
    if not _public_type(cloud.get("computing")):
        return invalid("metadata.resource_burstable needs the public instance type in cloud.computing.instance_type")
    networking = cloud.get("networking")
    networking = networking if isinstance(networking, Mapping) else {}
    missing = [name for name in NETWORKING_KEYS if not (isinstance(networking.get(name), str) and networking[name])]
    if missing:
        return invalid(
            "metadata.resource_burstable needs the VPC of the public instances in cloud.networking; missing "
            + ", ".join(missing)
        )
    return None
