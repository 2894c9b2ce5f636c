"""Pure builder for an EAS service's ``service_config`` JSON.

The result is a plain string computed from config values only (no Outputs, no token), so it is
known at preview and the policy pack can read instance counts, resource groups and instance types
from it. The access token is never part of it: EAS generates one and the serving layer reads it.
"""

from __future__ import annotations

import json
from typing import Any, Final

from pai_facts import model_uri
from stack_config import ModelServiceConfig

MODEL_MOUNT_PATH: Final = "/models"


def initial_instances(service: ModelServiceConfig) -> int:
    """Instances a version starts with. Never 0: scaling (to zero included) is the autoscaler's job."""
    return max(service.min_instances, 1)


def service_config(service: ModelServiceConfig, version: str, bucket: str) -> dict[str, Any]:
    """The EAS service config of one version of ``service`` as a dict."""
    metadata: dict[str, Any] = {
        "name": service.eas_service_name(version),
        # UNCONFIRMED key: the service group is set with metadata.group (see shared/reference/eas-api.md §3.1).
        "group": service.eas_group,
        "instance": initial_instances(service),
    }
    config: dict[str, Any] = {"metadata": metadata}
    if service.dedicated:
        metadata["resource"] = service.resource_group
        metadata["cpu"] = service.cpu
        metadata["memory"] = service.memory_mb
        if service.gpu:
            metadata["gpu"] = service.gpu
    cloud = _cloud(service)
    if service.burst is not None:
        # The elastic resource pool: scale-out that finds no room on the dedicated group starts the instance in the
        # public group as cloud.computing's type; scale-in removes public instances first
        # (https://www.alibabacloud.com/help/en/pai/elastic-resource-pool; docs/burst.md).
        metadata["resource_burstable"] = True
    if cloud:
        config["cloud"] = cloud
    uri = model_uri(bucket, service.name, version)
    if service.container is not None:
        config["containers"] = [
            {
                "image": service.container.image,
                "port": service.container.port,
                "command": service.container.command,
                "env": [{"name": "MODEL_DIR", "value": MODEL_MOUNT_PATH}],
            }
        ]
        config["storage"] = [{"mount_path": MODEL_MOUNT_PATH, "oss": {"path": uri, "readOnly": True}}]
    else:
        config["processor"] = service.processor
        config["model_path"] = uri  # built-in processors load the model from here, read-only
    return config


def _cloud(service: ModelServiceConfig) -> dict[str, Any]:
    """``cloud``: the public instance type (shared group, or a dedicated group's burst) and the service's VPC.

    ``cloud.computing.instance_type`` is the single-type form pai-python-sdk writes for public resources
    (pai/model/_model.py ``_build_service_config``); ``cloud.networking`` {vpc_id, vswitch_id, security_group_id}
    is where a public-group instance takes its VPC (the elastic resource pool page: a public group's VPC direct
    connection is set in the service, through cloud.networking, https://help.aliyun.com/document_detail/469776.html).
    Whether the elastic pool reads ``instance_type`` as well as ``instances[{type}]`` is UNCONFIRMED (docs/day-one.md).
    """
    cloud: dict[str, Any] = {}
    instance_type = service.burst.instance_type if service.burst is not None else service.instance_type
    if instance_type is not None:
        cloud["computing"] = {"instance_type": instance_type}
    if service.vpc is not None:
        cloud["networking"] = {
            "vpc_id": service.vpc.vpc_id,
            "vswitch_id": service.vpc.vswitch_id,
            "security_group_id": service.vpc.security_group_id,
        }
    return cloud


def service_config_json(service: ModelServiceConfig, version: str, bucket: str) -> str:
    """:func:`service_config` as canonical JSON (sorted keys), so equal configs never show a diff."""
    return json.dumps(service_config(service, version, bucket), sort_keys=True, separators=(",", ":"))
