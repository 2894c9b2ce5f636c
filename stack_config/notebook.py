"""Notebooks: ``notebook`` (DSW instances) and the rules across their keys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import StrictInt, StrictStr
from pydantic.dataclasses import dataclass

from config_problems import MISSING, Problem, key, path_text
from pai_facts import NOTEBOOK_NAME_MAX, SHARED_RESOURCE_GROUP
from stack_config.fields import MODEL
from stack_config.training import PodResourcesConfig, RepositoryConfig, dsw_gpu_type_problems


@dataclass(frozen=True, kw_only=True, config=MODEL)
class NotebookInstanceConfig:
    """One data scientist's DSW notebook."""

    name: StrictStr = key(
        "Use lower-case letters, digits and underscores, starting with a letter (e.g. 'alice')",
        rule="lower-case letters, digits and underscores starting with a letter",
        pattern=r"^[a-z][a-z0-9_]*$",
    )
    resource_group: StrictStr = key(
        "Write 'shared' for pay-as-you-go resources or give the dedicated resource group id",
        dev_default=SHARED_RESOURCE_GROUP,
        min_length=1,
    )
    instance_type: StrictStr | None = key(
        "Give an ECS type: a CPU type for tabular work (e.g. 'ecs.g6.xlarge'), a GPU type for deep learning "
        "(e.g. 'ecs.gn6i-c4g1.xlarge')",
        default=None,
        rule="an ECS instance type such as 'ecs.g6.xlarge'",
        pattern=r"^ecs\.[a-z0-9]+(-[a-z0-9]+)*\.[a-z0-9]+$",
    )
    resources: PodResourcesConfig | None = key("Give {cpu, memoryGb, gpu, gpuType} on a dedicated group", default=None)
    image_url: StrictStr | None = key("Give a custom image with a tag, or use imageId", default=None)
    image_id: StrictStr | None = key("Give a built-in DSW image id, or use imageUrl", default=None)
    idle_shutdown_minutes: StrictInt = key(
        "Set the idle minutes after which the notebook stops (policy: 240 at most), e.g. 60", dev_default=60, ge=1
    )
    env: dict[StrictStr, StrictStr] = key("Map variable names to values; keep secrets out", default_factory=dict)


@dataclass(frozen=True, kw_only=True, config=MODEL)
class NotebookConfig:
    """DSW notebooks with the bucket's data/ mounted and the team's repository attached."""

    code: RepositoryConfig | None = key("Give {repository, branch} to clone into every notebook", default=None)
    data_mount_path: StrictStr = key(
        "Give where data/ is mounted, e.g. /mnt/data", default="/mnt/data", pattern=r"^/mnt(/[A-Za-z0-9_.-]+)+$"
    )
    instances: tuple[NotebookInstanceConfig, ...] = key("List the notebooks, one per person", default=())


def notebook_problems(raw: Mapping[str, Any]) -> list[Problem]:
    notebook, workspace = raw.get("notebook"), raw.get("workspace")
    instances = notebook.get("instances") if isinstance(notebook, dict) else None
    prefix = workspace.get("name") if isinstance(workspace, dict) else None
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(instances if isinstance(instances, list) else []):
        if not isinstance(item, dict):
            continue
        where = path_text(("notebook", "instances", index))
        name = item.get("name")
        if isinstance(name, str) and name in seen:
            problems.append(
                Problem(
                    where,
                    "name",
                    f"is already used by instances[{seen[name]}]",
                    name,
                    "Give every notebook its own name",
                )
            )
        elif isinstance(name, str):
            seen[name] = index
            if isinstance(prefix, str) and len(f"{prefix}_{name}") > NOTEBOOK_NAME_MAX:
                problems.append(
                    Problem(
                        where,
                        "name",
                        f"makes the DSW instance name {prefix}_{name} longer than {NOTEBOOK_NAME_MAX} characters",
                        name,
                        "Shorten the notebook name",
                    )
                )
        if bool(item.get("imageUrl")) == bool(item.get("imageId")):
            problems.append(
                Problem(
                    where,
                    "imageUrl",
                    "or imageId is required, not both",
                    item.get("imageUrl"),
                    "Give a custom image (imageUrl) or a built-in DSW image (imageId)",
                )
            )
        group = item.get("resourceGroup")
        if group == SHARED_RESOURCE_GROUP and not item.get("instanceType"):
            problems.append(
                Problem(
                    where,
                    "instanceType",
                    "is required on shared resources",
                    MISSING,
                    "Give an ECS type, e.g. 'ecs.g6.xlarge' (CPU) or 'ecs.gn6i-c4g1.xlarge' (GPU)",
                )
            )
        if isinstance(group, str) and group != SHARED_RESOURCE_GROUP and not item.get("resources"):
            problems.append(
                Problem(
                    where,
                    "resources",
                    "is required on a dedicated resource group",
                    MISSING,
                    "Give resources {cpu, memoryGb[, gpu, gpuType]}",
                )
            )
        problems += dsw_gpu_type_problems(item.get("resources"), where)
    return problems
