"""The pure half of the DswInstance provider: its typed inputs, their defaults and rules, which changes replace or
restart an instance, and the DSW request bodies. Nothing here talks to a cloud; providers/notebook.py has the
contract (and keeps every name importable from there)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Final

from pydantic import ConfigDict, Field, Strict, StrictInt, StrictStr
from pydantic.dataclasses import dataclass as input_model

from config_problems import key
from providers.base import model_defaults
from providers.props import ResourcesInput, dsw_requested_resource, plain, service_role

_NAME = re.compile(r"^[A-Za-z0-9_]{1,27}$")


_INPUTS: Final = ConfigDict(extra="forbid")


Seconds = Annotated[float, Strict(), Field(gt=0)]


Labels = dict[StrictStr, StrictStr]


# Statuses in which DSW takes an update (tests/emulator/dsw.py SETTLED): anything else is waited out first.
SETTLED: Final = frozenset({"Running", "Stopped", "Failed"})


@input_model(config=_INPUTS, kw_only=True)
class DatasetInput:
    dataset_id: StrictStr = key("Give the workspace dataset id", min_length=1)
    mount_path: StrictStr = key("Give an absolute path, e.g. /mnt/data", pattern=r"^/", rule="an absolute path")


@input_model(config=_INPUTS, kw_only=True)
class VpcInput:
    vpc_id: StrictStr = key("Give the VPC id", min_length=1)
    vswitch_id: StrictStr = key("Give the vSwitch id", min_length=1)
    security_group_id: StrictStr = key("Give the security group id", min_length=1)


@input_model(config=_INPUTS, kw_only=True)
class DswInstanceInputs:
    """The inputs of a ``DswInstance``; ``check`` and the defaults follow it."""

    instance_name: StrictStr = key("Name the notebook with 1-27 letters, digits or underscores", min_length=1)
    workspace_id: StrictStr | None = key("Give the PAI workspace id", default=None)
    instance_type: StrictStr | None = key("Give an ECS instance type, e.g. 'ecs.g6.xlarge'", default=None)
    resource_group: StrictStr | None = key("Give the dedicated resource group id, or leave it out", default=None)
    resources: ResourcesInput | None = key("Give {cpu, memory_gb[, gpu, gpu_type]}", default=None)
    image_url: StrictStr | None = key("Give a custom image reference", default=None)
    image_id: StrictStr | None = key("Give a built-in image id", default=None)
    datasets: tuple[DatasetInput, ...] = key("List {dataset_id, mount_path} objects", default=())
    role_arn: StrictStr | None = key("Give the DSW RAM role ARN, or leave it out", default=None)
    vpc: VpcInput | None = key("Give {vpc_id, vswitch_id, security_group_id}, or leave it out", default=None)
    idle_shutdown_minutes: StrictInt = key("Give whole minutes, 0 (never) or more", default=60, ge=0)
    env: Labels = key("Map variable names to strings", default_factory=dict)
    labels: Labels = key("Map label keys to strings", default_factory=dict)
    tags: Labels = key("Map tag keys to strings", default_factory=dict)
    start_command: StrictStr = key("Give the command run on every start, or ''", default="")
    wait_timeout_seconds: Seconds = key("Give a positive number of seconds, e.g. 1800", default=1800)
    poll_seconds: Seconds = key("Give a positive number of seconds, e.g. 10", default=10)


DEFAULTS: Final[Mapping[str, Any]] = model_defaults(DswInstanceInputs)


REPLACE: Final = ("instance_name", "workspace_id", "vpc", "resource_group", "tags")


MACHINE: Final = ("instance_type", "image_url", "image_id", "resources")


IN_PLACE: Final = ("datasets", "env", "role_arn", "start_command", "labels", "idle_shutdown_minutes")


BEHAVIOUR: Final = ("wait_timeout_seconds", "poll_seconds")


RUNNING: Final = "Running"


def with_defaults(props: Mapping[str, Any]) -> dict[str, Any]:
    return plain({**DEFAULTS, **{k: v for k, v in props.items() if v is not None or k not in DEFAULTS}})


def problems(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(input, reason) for the rules across inputs (after the typed model passed them)."""
    found: list[tuple[str, str]] = []
    name = props["instance_name"]
    if not _NAME.match(name):
        found.append(("instance_name", f"must be 1-27 letters, digits or underscores; got {name!r}"))
    if props.get("resource_group"):
        if props.get("instance_type"):
            found.append(("instance_type", "applies to shared resources only; size the notebook with resources"))
        if not props.get("resources"):
            found.append(("resources", "a dedicated resource group needs resources {cpu, memory_gb[, gpu]}"))
    elif not str(props.get("instance_type") or "").startswith("ecs."):
        found.append(
            ("instance_type", f"shared resources need an ECS instance type; got {props.get('instance_type')!r}")
        )
    if bool(props.get("image_url")) == bool(props.get("image_id")):
        found.append(("image_url", "give exactly one of image_url (a custom image) and image_id (a built-in one)"))
    return found


def instance_body(props: Mapping[str, Any]) -> dict[str, Any]:
    """The CreateInstance body (wire names)."""
    body: dict[str, Any] = {"InstanceName": props["instance_name"], **machine_body(props), **settings_body(props)}
    if props.get("workspace_id"):
        body["WorkspaceId"] = props["workspace_id"]
    if props.get("resource_group"):
        body["ResourceId"] = props["resource_group"]
    vpc = props.get("vpc")
    if vpc:
        body["UserVpc"] = {
            "VpcId": vpc["vpc_id"],
            "VSwitchId": vpc["vswitch_id"],
            "SecurityGroupId": vpc["security_group_id"],
        }
    body["Labels"] = [{"Key": k, "Value": str(v)} for k, v in sorted((props.get("labels") or {}).items())]
    body["Tag"] = [{"Key": k, "Value": str(v)} for k, v in sorted((props.get("tags") or {}).items())]
    return body


def machine_body(props: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if props.get("resource_group"):
        body["RequestedResource"] = dsw_requested_resource(props["resources"])
    else:
        body["EcsSpec"] = props["instance_type"]
    if props.get("image_url"):
        body["ImageUrl"] = props["image_url"]
    else:
        body["ImageId"] = props["image_id"]
    return body


def settings_body(props: Mapping[str, Any]) -> dict[str, Any]:
    """What UpdateInstance can change at any status. The SDK always sends ``Datasets``, so they are always given."""
    body: dict[str, Any] = {
        "Datasets": [
            {"DatasetId": d["dataset_id"], "MountPath": d["mount_path"], "MountAccess": "RO"}
            for d in props.get("datasets") or []
        ],
        "EnvironmentVariables": {str(k): str(v) for k, v in (props.get("env") or {}).items()},
    }
    if props.get("role_arn"):
        body["CredentialConfig"] = {
            "Enable": True,
            "Configs": [{"Key": "default", "Type": "Role", "Roles": [service_role(props["role_arn"])]}],
        }
    if props.get("start_command"):
        body["UserCommand"] = {"OnStart": {"Content": props["start_command"]}}
    return body
