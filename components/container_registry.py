"""ContainerRegistry: the stack's private Container Registry namespace and one private repository per image.

Custom serving, training and pipeline images live here. CI builds them, tags them with the commit SHA and writes the
digest reference (``<host>/<namespace>/<repository>@sha256:…``) into the stack config (``tools/set_image.py``), so
a deployment names the exact bytes it runs and never ``latest``.

Personal Edition (no ``instanceId``): ``cr.Namespace`` + ``cr.Repo``. Enterprise Edition (``instanceId``):
``cs.RegistryEnterpriseNamespace`` + ``cs.RegistryEnterpriseRepo`` with tag immutability, so a pushed tag can never
be overwritten. Neither edition's namespace or repository takes resource tags in pulumi-alicloud 4.0.0 (the
Enterprise instance does; this component does not create instances, which are billed subscriptions).

Enterprise Edition also scans what is pushed (``registry.scanOnPush``, on unless false): one ``cr.ScanRule`` on the
stack's namespace, vulnerability scan (``VUL``), triggered automatically (``AUTO``) for every tag. Sources: the
CreateScanRule API (https://www.alibabacloud.com/help/en/acr/developer-reference/api-cr-2018-12-01-createscanrule;
ROS ALIYUN::CR::ScanRule lists ScanScope NAMESPACE/REPO/INSTANCE, ScanType VUL/SBOM, TriggerType AUTO/MANUAL),
terraform-provider-alicloud ``resource_alicloud_cr_scan_rule.go`` (ValidateFunc: scan_scope NAMESPACE, REPO,
INSTANCE; trigger_type MANUAL, AUTO; scan_type and instance_id ForceNew), pulumi-alicloud 4.0.0 ``cr/scan_rule.py``
(namespaces "must not be empty when the scan scope is NAMESPACE", repo_names "must be empty"). The Personal Edition
cannot scan ("Only images stored in Container Registry Enterprise Edition instances can be scanned",
https://www.alibabacloud.com/help/en/acr/user-guide/scan-container-images). UNCONFIRMED (docs/day-one.md): the rule
name's allowed characters, and which scan engine (Trivy or Security Center, that page) an AUTO rule uses.
This is the registry's second look; the gate that refuses a vulnerable image is CI's scan before the push.
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
            if registry.scans_on_push:
                cr.ScanRule(
                    f"{name}-scan",
                    instance_id=registry.instance_id,
                    rule_name=f"pai-mlops-{registry.namespace}",  # one per namespace: stacks may share an instance
                    scan_scope="NAMESPACE",
                    namespaces=[registry.namespace],  # known at preview, for the policy that requires the rule
                    repo_tag_filter_pattern=".*",  # every tag (CI pushes commit SHAs)
                    scan_type="VUL",
                    trigger_type="AUTO",
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[enterprise]),
                )
        self.repositories = {
            repository: f"{registry.host}/{registry.namespace}/{repository}" for repository in registry.repositories
        }
        self.register_outputs({"repositories": self.repositories})
