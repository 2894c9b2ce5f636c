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
    else:
        config["cloud"] = {"computing": {"instance_type": service.instance_type}}
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


def service_config_json(service: ModelServiceConfig, version: str, bucket: str) -> str:
    """:func:`service_config` as canonical JSON (sorted keys), so equal configs never show a diff."""
    return json.dumps(service_config(service, version, bucket), sort_keys=True, separators=(",", ":"))
