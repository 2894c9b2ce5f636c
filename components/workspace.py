"""MlWorkspace: the stack's Alibaba Cloud resource group and the PAI workspace inside it."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_alicloud import pai, resourcemanager

from stack_config import StackConfig


def resource_group_name(workspace_name: str) -> str:
    """Resource-group name derived from the workspace name (letters, digits and hyphens)."""
    return f"{workspace_name.lower().replace('_', '-')}-rg"


@dataclass(frozen=True, kw_only=True)
class MlWorkspaceArgs:
    workspace_name: str
    description: str

    @classmethod
    def of_stack(cls, config: StackConfig) -> MlWorkspaceArgs:
        return cls(workspace_name=config.workspace.name, description=config.workspace.description)


class MlWorkspace(pulumi.ComponentResource):
    """A resource group for everything the stack owns, and a PAI workspace in it.

    The workspace is a simple-mode workspace (``env_types=['prod']``): each stack has its own
    workspace, so dev and prod are separated by stack rather than inside one workspace.
    Outputs: ``resource_group_id``, ``workspace_id``.
    """

    def __init__(self, name: str, args: MlWorkspaceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pai-mlops:workspace:MlWorkspace", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.resource_group = resourcemanager.ResourceGroup(
            f"{name}-rg",
            resource_group_name=resource_group_name(args.workspace_name),
            display_name=f"pai-mlops {args.workspace_name}",
            opts=child,
        )
        self.workspace = pai.WorkspaceWorkspace(
            f"{name}-ws",
            workspace_name=args.workspace_name,
            display_name=args.workspace_name,
            description=args.description or f"pai-mlops workspace {args.workspace_name}",
            env_types=["prod"],
            resource_group_id=self.resource_group.id,
            opts=child,
        )
        self.resource_group_id = self.resource_group.id
        self.workspace_id = self.workspace.id
        self.register_outputs({"resource_group_id": self.resource_group_id, "workspace_id": self.workspace_id})
