"""ModelService: every deployed version of one served model as its own EAS service in one group."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

import pulumi
from pulumi_alicloud import pai

from components.eas_config import service_config_json
from components.provider_hosts import host_for
from providers.eas_service import EasService, EasServiceArgs
from stack_config import ModelServiceConfig

# Every input pai.Service 4.0.0 takes: a retained legacy service is never changed by the program again.
LEGACY_INPUTS: Final = ["serviceConfig", "develop", "status", "tags", "workspaceId"]


@dataclass(frozen=True, kw_only=True)
class ModelServiceArgs:
    """``service`` is the validated config of one served model; ``bucket_name`` holds its artifacts."""

    service: ModelServiceConfig
    bucket_name: str
    workspace_id: pulumi.Input[str]
    role_arn: pulumi.Input[str] | None = None  # the -eas RAM role: EAS reads models and pulls images with it
    retain_legacy: bool = False  # the one `up` that moves a stack off pai.Service (docs/architecture.md "Upgrading")
    docker_auth: pulumi.Input[str] | None = None  # a secret: registry credentials for a custom image (dockerAuth)
    # version → what must finish before its service starts (the promotion that copies its artifact)
    artifacts: Mapping[str, pulumi.Resource] = field(default_factory=lambda: {})


class ModelService(pulumi.ComponentResource):
    """One ``EasService`` per listed version, named ``<name>_<version>`` in service group ``<name>``.

    Each version reads its model read-only from ``oss://<bucket>/models/<name>/<version>/`` under the ``-eas`` role
    and must be Running within the service's ``readyTimeoutMinutes``. Traffic between versions and instance counts
    after creation are owned by the rollout and autoscaler resources, not by this component (config updates never
    send ``metadata.instance``). Outputs: ``group``, ``live_service_name``, ``service_names``.

    ``retain_legacy`` keeps declaring the ``pai.Service`` of an older stack, untouched (every input ignored) and
    ``retain_on_delete``, so that after one ``up`` with it set the old resource can leave the program without
    pulumi-alicloud deleting the cloud service the new ``EasService`` adopted by name.
    """

    def __init__(self, name: str, args: ModelServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pai-mlops:serving:ModelService", name, None, opts)
        svc = args.service
        self.versions: dict[str, EasService] = {}
        for version in svc.versions:
            config = service_config_json(svc, version, args.bucket_name)
            self.versions[version] = EasService(
                f"{name}-{version}",
                EasServiceArgs(
                    service_name=svc.eas_service_name(version),
                    service_config=config,
                    workspace_id=args.workspace_id,
                    role_arn=args.role_arn,
                    ready_timeout_seconds=svc.ready_timeout_minutes * 60,
                    docker_auth=args.docker_auth if svc.container is not None else None,
                ),
                # Waiting for Running takes minutes: not on the default host. A promoted version starts after its copy.
                opts=pulumi.ResourceOptions(
                    parent=self,
                    provider=host_for(f"{name}-{version}"),
                    depends_on=[args.artifacts[version]] if version in args.artifacts else None,
                ),
            )
            if args.retain_legacy:
                pai.Service(
                    f"{name}-{version}",
                    service_config=config,
                    workspace_id=args.workspace_id,
                    opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True, ignore_changes=LEGACY_INPUTS),
                )
        self.group = svc.eas_group
        self.live_service_name = svc.eas_service_name(svc.live)
        self.service_names = {version: svc.eas_service_name(version) for version in svc.versions}
        self.register_outputs(
            {"group": self.group, "live_service_name": self.live_service_name, "service_names": self.service_names}
        )
