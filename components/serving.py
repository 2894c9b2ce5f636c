"""ModelService: every deployed version of one served model as its own EAS service in one group."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_alicloud import pai

from components.eas_config import service_config_json
from stack_config import ModelServiceConfig


@dataclass(frozen=True, kw_only=True)
class ModelServiceArgs:
    """``service`` is the validated config of one served model; ``bucket_name`` holds its artifacts."""

    service: ModelServiceConfig
    bucket_name: str
    workspace_id: pulumi.Input[str]


class ModelService(pulumi.ComponentResource):
    """One ``pai.Service`` per listed version, named ``<name>_<version>`` in service group ``<name>``.

    Each version reads its model read-only from ``oss://<bucket>/models/<name>/<version>/``. Traffic
    between versions and instance counts after creation are owned by the rollout and autoscaler
    resources, not by this component. Outputs: ``group``, ``live_service_name``, ``service_names``.
    """

    def __init__(self, name: str, args: ModelServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pai-mlops:serving:ModelService", name, None, opts)
        svc = args.service
        self.versions: dict[str, pai.Service] = {
            version: pai.Service(
                f"{name}-{version}",
                service_config=service_config_json(svc, version, args.bucket_name),
                workspace_id=args.workspace_id,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for version in svc.versions
        }
        self.group = svc.name
        self.live_service_name = svc.eas_service_name(svc.live)
        self.service_names = {version: svc.eas_service_name(version) for version in svc.versions}
        self.register_outputs(
            {"group": self.group, "live_service_name": self.live_service_name, "service_names": self.service_names}
        )
