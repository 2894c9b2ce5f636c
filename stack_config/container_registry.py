"""The container registry (``registry``, Container Registry namespaces and repositories) and where runtime images
may be pulled from."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Final

from pydantic import Field, StrictBool, StrictStr
from pydantic.dataclasses import dataclass

from config_problems import Problem, key, path_text
from stack_config.fields import MODEL

# Container Registry hosts (https://www.alibabacloud.com/help/en/acr/): Personal Edition registry.<region>.aliyuncs.com
# with the VPC endpoint registry-vpc.<region>.aliyuncs.com; an Enterprise Edition instance <name>-registry.<region>.
# cr.aliyuncs.com with the VPC domain <name>-registry-vpc.<region>.cr.aliyuncs.com. EAS pulls over the VPC address
# ("use the VPC address of the image", https://alibabacloud.com/help/en/pai/user-guide/deploy-a-model-service-by-
# using-a-custom-image), and so do Designer custom components (registry-vpc.<region>.aliyuncs.com, fidelity-audit P5).
_PERSONAL_HOST: Final = re.compile(r"^registry(-vpc)?\.([a-z0-9-]+)\.aliyuncs\.com$")


_ENTERPRISE_HOST: Final = re.compile(r"^([a-z0-9][a-z0-9-]*)-registry(-vpc)?\.([a-z0-9-]+)\.cr\.aliyuncs\.com$")


def vpc_registry_host(host: str) -> str:
    """The VPC host of a registry host (itself for a host of neither known form)."""
    if match := _PERSONAL_HOST.match(host):
        return f"registry-vpc.{match.group(2)}.aliyuncs.com"
    if match := _ENTERPRISE_HOST.match(host):
        return f"{match.group(1)}-registry-vpc.{match.group(3)}.cr.aliyuncs.com"
    return host


@dataclass(frozen=True, kw_only=True, config=MODEL)
class RegistryConfig:
    """The stack's private Container Registry namespace and repositories for custom images."""

    host: StrictStr = key(
        "Give the registry host, e.g. 'registry.cn-hangzhou.aliyuncs.com' (Personal Edition) or "
        "'<instance>-registry.cn-hangzhou.cr.aliyuncs.com' (Enterprise Edition)",
        rule="a host name such as 'registry.cn-hangzhou.aliyuncs.com'",
        pattern=r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$",
    )
    namespace: StrictStr = key(
        "Give the namespace, e.g. 'acme-ml'",
        rule="2 to 30 lower-case letters, digits, '-' or '_', starting and ending with a letter or digit",
        pattern=r"^[a-z0-9][a-z0-9_-]{0,28}[a-z0-9]$",
    )
    instance_id: StrictStr | None = key(
        "Give the Enterprise Edition instance id ('cri-…'), or leave it out for the Personal Edition",
        default=None,
        rule="an instance id such as 'cri-abc123'",
        pattern=r"^cri-[a-z0-9]+$",
    )
    repositories: tuple[Annotated[StrictStr, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}[a-z0-9]$")], ...] = key(
        "List the image repositories, e.g. ['fraud-serve', 'fraud-train']", default=()
    )
    scan_on_push: StrictBool | None = key(
        "Leave it out to have the Enterprise Edition instance scan every image pushed to the namespace for "
        "vulnerabilities (a scan rule, AUTO trigger), or set false to switch the registry's own scan off (the "
        "policy cr-enterprise-scan-on-push refuses that in staging and prod); the Personal Edition cannot scan. CI "
        "scans every image before pushing either way (images.yml)",
        default=None,
    )

    @property
    def scans_on_push(self) -> bool:
        """Whether the registry scans what is pushed: Enterprise Edition only, unless ``scanOnPush: false``."""
        return self.instance_id is not None and self.scan_on_push is not False

    @property
    def vpc_host(self) -> str:
        """The host EAS and DLC pull from inside Alibaba Cloud: :func:`vpc_registry_host` of ``host``."""
        return vpc_registry_host(self.host)


def _images(value: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str, str]]:
    """Every image reference in the raw config: (where, image) for each ``image`` / ``imageUrl`` string."""
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for name, item in value.items():
            if name in ("image", "imageUrl") and isinstance(item, str):
                found.append((path_text(path), item))
            else:
                found += _images(item, (*path, str(name)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _images(item, (*path, index))
    return found


def registry_problems(raw: Mapping[str, Any]) -> list[Problem]:
    """An image in the stack's own registry namespace must be in one of its declared repositories; only an
    Enterprise Edition instance can scan ("Only images stored in Container Registry Enterprise Edition instances can
    be scanned", https://www.alibabacloud.com/help/en/acr/user-guide/scan-container-images)."""
    registry = raw.get("registry")
    if not isinstance(registry, dict) or not isinstance(registry.get("host"), str):
        return []
    scan: list[Problem] = []
    if registry.get("scanOnPush") is True and not registry.get("instanceId"):
        scan.append(
            Problem(
                path_text(("registry",)),
                "scanOnPush",
                "asks the registry to scan, but only an Enterprise Edition instance scans images",
                True,
                "Set pai-mlops:registry.instanceId to the Enterprise Edition instance, or leave scanOnPush out "
                "(CI scans every image before pushing either way)",
            )
        )
    host, namespace = registry["host"], registry.get("namespace")
    prefixes = [f"{h}/{namespace}/" for h in dict.fromkeys((vpc_registry_host(host), host))]
    declared = [r for r in registry.get("repositories") or [] if isinstance(r, str)]
    problems: list[Problem] = []
    for where, image in _images({k: v for k, v in raw.items() if k != "registry"}):
        prefix = next((p for p in prefixes if image.startswith(p)), None)
        if prefix is None:
            continue
        repository = re.split(r"[:@]", image.removeprefix(prefix), maxsplit=1)[0]
        if repository not in declared:
            problems.append(
                Problem(
                    where,
                    "image",
                    f"is in the stack's registry namespace but repository '{repository}' is not declared",
                    image,
                    f"Add '{repository}' to pai-mlops:registry.repositories "
                    f"(declared: {', '.join(declared) or 'none'})",
                )
            )
    return scan + problems


# Where the runtime pulls images: EAS services, DLC jobs, PAI Flow steps (not DSW: notebooks use PAI's images).
_RUNTIME_IMAGE_SECTIONS: Final = ("serving", "training", "pipeline")


REGISTRY_AUTH_KEY: Final = "registryAuth"


def runtime_image_problems(raw: Mapping[str, Any], secrets_set: frozenset[str]) -> list[Problem]:
    """Runtime images in the stack's registry: pulled over its VPC host, and with credentials they can use.

    Private repositories need credentials: EAS takes ``dockerAuth`` (base64 ``user:password``, EAS service config
    parameters doc, shared/reference/eas-api.md §3) or pulls an Enterprise Edition image with its custom role
    (https://www.alibabacloud.com/help/en/pai/user-guide/configure-the-eas-ram-role); DLC takes
    ``JobSpecs[].ImageConfig{DockerRegistry, Username, Password}`` (alibabacloud_pai_dlc20201203 1.11.6
    ``ImageConfig``), which this project does not send. So a Personal Edition registry serves EAS only, with
    ``pai-mlops:registryAuth`` set as a secret; DLC and pipeline images need the Enterprise Edition.
    """
    registry = raw.get("registry")
    if not isinstance(registry, dict) or not isinstance(registry.get("host"), str):
        return []
    host = registry["host"]
    vpc = vpc_registry_host(host)
    personal = not registry.get("instanceId")
    problems: list[Problem] = []
    for section in _RUNTIME_IMAGE_SECTIONS:
        for where, image in _images(raw.get(section), (section,)):
            if vpc != host and image.startswith(f"{host}/"):
                problems.append(
                    Problem(
                        where,
                        "image",
                        "pulls over the registry's public endpoint; EAS and DLC pull over its VPC address",
                        image,
                        f"Write it as {vpc}/{image.removeprefix(host + '/')}",
                    )
                )
            if not personal or not image.startswith((f"{host}/", f"{vpc}/")):
                continue
            if section != "serving":
                problems.append(
                    Problem(
                        where,
                        "image",
                        "is a private Personal Edition image, which DLC and PAI Flow cannot pull here (no ImageConfig "
                        "credentials are sent)",
                        image,
                        "Use an Enterprise Edition instance (pai-mlops:registry.instanceId), as Pulumi.prod.yaml does",
                    )
                )
            elif REGISTRY_AUTH_KEY not in secrets_set:
                problems.append(
                    Problem(
                        where,
                        "image",
                        "is a private Personal Edition image and EAS gets no credentials for it",
                        image,
                        f"Set `pulumi config set --secret {REGISTRY_AUTH_KEY} <base64 of user:password>` (sent as "
                        "dockerAuth), or use an Enterprise Edition instance (pai-mlops:registry.instanceId)",
                    )
                )
    return problems
