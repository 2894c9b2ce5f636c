"""Notebooks: the stack's data/ prefix as a PAI dataset, and one DSW notebook per person with it mounted."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass

import pulumi
from pulumi_alicloud import pai

from components.storage import DATA_PREFIX
from providers.notebook import Dataset, DswInstance, DswInstanceArgs, NotebookResources
from stack_config import SHARED_RESOURCE_GROUP, NotebookConfig, NotebookInstanceConfig, RepositoryConfig, StackConfig

# The DSW instance's persistent workspace disk (UNCONFIRMED path; the PAI images' default working directory).
WORKSPACE_DIR = "/mnt/workspace"


@dataclass(frozen=True, kw_only=True)
class NotebooksArgs:
    notebook: NotebookConfig
    bucket_name: str
    region: str
    workspace_id: pulumi.Input[str]
    workspace_name: str
    role_arn: pulumi.Input[str]

    @classmethod
    def of_stack(
        cls, config: StackConfig, *, workspace_id: pulumi.Input[str], role_arn: pulumi.Input[str]
    ) -> NotebooksArgs:
        """The stack's ``notebook`` section in its workspace and region."""
        return cls(
            notebook=config.notebook,
            bucket_name=config.storage.bucket_name,
            region=config.region,
            workspace_id=workspace_id,
            workspace_name=config.workspace.name,
            role_arn=role_arn,
        )


def clone_command(code: RepositoryConfig) -> str:
    """The start-up script that brings the repository into the notebook's workspace disk, or updates it.

    It never holds a token: a public repository clones as is; a private one uses the Git credentials set up in
    DSW (the DSW API has no code-source field, see shared/reference/dlc-dsw-oss-api.md §3.1).
    """
    folder = f"{WORKSPACE_DIR}/{code.repository.rstrip('/').rsplit('/', 1)[-1].removesuffix('.git')}"
    repo, branch, target = shlex.quote(code.repository), shlex.quote(code.branch), shlex.quote(folder)
    return (
        f"if [ -d {target}/.git ]; then git -C {target} pull --ff-only || true; "
        f"else git clone --branch {branch} {repo} {target} || true; fi"
    )


class Notebooks(pulumi.ComponentResource):
    """A ``pai.WorkspaceDataset`` over ``oss://<bucket>/data/`` and a ``DswInstance`` per configured person.

    Each notebook mounts the dataset read-only at ``data_mount_path`` (read in place, never copied to its disk), runs
    as the stack's DSW role (read-only on ``data/``), stops after its idle minutes, and clones the team's repository
    on start. Its name is ``<workspace>_<person>``. Outputs: ``dataset_id``, ``urls`` (person → JupyterLab URL).
    """

    def __init__(self, name: str, args: NotebooksArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pai-mlops:notebook:Notebooks", name, None, opts)
        config = args.notebook
        self.dataset = pai.WorkspaceDataset(
            f"{name}-data",
            dataset_name=f"{args.workspace_name}_data",
            description=f"The data/ prefix of bucket {args.bucket_name}",
            data_source_type="OSS",
            property="DIRECTORY",
            uri=f"oss://{args.bucket_name}.oss-{args.region}-internal.aliyuncs.com/{DATA_PREFIX}",
            options=json.dumps({"mountPath": config.data_mount_path}),
            accessibility="PRIVATE",
            workspace_id=args.workspace_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        start = clone_command(config.code) if config.code else ""
        self.instances = {
            person.name: DswInstance(
                f"{name}-{person.name}",
                self._instance_args(person, args, start),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for person in config.instances
        }
        self.dataset_id = self.dataset.id
        self.urls = {person: instance.jupyterlab_url for person, instance in self.instances.items()}
        self.register_outputs({"dataset_id": self.dataset_id, "urls": self.urls})

    def _instance_args(self, person: NotebookInstanceConfig, args: NotebooksArgs, start: str) -> DswInstanceArgs:
        dedicated = person.resource_group != SHARED_RESOURCE_GROUP
        resources = person.resources
        return DswInstanceArgs(
            instance_name=f"{args.workspace_name}_{person.name}",
            workspace_id=args.workspace_id,
            instance_type=None if dedicated else person.instance_type,
            resource_group=person.resource_group if dedicated else None,
            resources=NotebookResources(
                cpu=resources.cpu, memory_gb=resources.memory_gb, gpu=resources.gpu, gpu_type=resources.gpu_type
            )
            if dedicated and resources is not None
            else None,
            image_url=person.image_url,
            image_id=person.image_id,
            datasets=[Dataset(dataset_id=self.dataset.id, mount_path=args.notebook.data_mount_path)],
            role_arn=args.role_arn,
            idle_shutdown_minutes=person.idle_shutdown_minutes,
            env={"PAI_MLOPS_DATA_DIR": args.notebook.data_mount_path, **person.env},
            labels={"person": person.name},
            start_command=start,
        )
