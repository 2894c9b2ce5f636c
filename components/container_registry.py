"""ContainerRegistry: the stack's private Container Registry namespace and one private repository per image.

Custom serving, training and pipeline images live here. CI builds them, tags them with the commit SHA and writes the
digest reference (``<host>/<namespace>/<repository>@sha256:…``) into the stack config (``tools/set_image.py``), so
a deployment names the exact bytes it runs and never ``latest``.

Personal Edition (no ``instanceId``): ``cr.Namespace`` + ``cr.Repo``. Enterprise Edition (``instanceId``):
``cs.RegistryEnterpriseNamespace`` + ``cs.RegistryEnterpriseRepo`` with tag immutability, so a pushed tag can never
be overwritten. Neither edition's namespace or repository takes resource tags in pulumi-alicloud 4.0.0 (the
Enterprise instance does; this component does not create instances, which are billed subscriptions).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_alicloud import cr, cs

from stack_config import RegistryConfig


@dataclass(frozen=True, kw_only=True)
class ContainerRegistryArgs:
    registry: RegistryConfig
    environment: str


class ContainerRegistry(pulumi.ComponentResource):
    """Output: ``repositories`` (name → the image reference prefix ``<host>/<namespace>/<name>``)."""

    def __init__(self, name: str, args: ContainerRegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pai-mlops:images:ContainerRegistry", name, None, opts)
        registry = args.registry
        child = pulumi.ResourceOptions(parent=self)
        summary = f"pai-mlops {args.environment}: {{}} image, tagged by commit SHA"
        if registry.instance_id is None:
            namespace = cr.Namespace(
                f"{name}-namespace",
                name=registry.namespace,
                auto_create=False,  # a push to an undeclared repository fails instead of creating a public one
                default_visibility="PRIVATE",
                opts=child,
            )
            for repository in registry.repositories:
                cr.Repo(
                    f"{name}-{repository}",
                    namespace=namespace.name,
                    name=repository,
                    repo_type="PRIVATE",
                    summary=summary.format(repository),
                    opts=child,
                )
        else:
            enterprise = cs.RegistryEnterpriseNamespace(
                f"{name}-namespace",
                instance_id=registry.instance_id,
                name=registry.namespace,
                auto_create=False,
                default_visibility="PRIVATE",
                opts=child,
            )
            for repository in registry.repositories:
                cs.RegistryEnterpriseRepo(
                    f"{name}-{repository}",
                    instance_id=registry.instance_id,
                    namespace=enterprise.name,
                    name=repository,
                    repo_type="PRIVATE",
                    summary=summary.format(repository),
                    tag_immutability=True,
                    opts=child,
                )
        self.repositories = {
            repository: f"{registry.host}/{registry.namespace}/{repository}" for repository in registry.repositories
        }
        self.register_outputs({"repositories": self.repositories})
