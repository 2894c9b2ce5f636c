"""Helpers for the properties dynamic providers receive: what crosses gRPC is not quite what the program wrote."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Annotated, Any, Final, TypeGuard

from pydantic import ConfigDict, Strict, StrictInt, StrictStr
from pydantic.dataclasses import dataclass as input_model

from config_problems import key


def plain(value: Any) -> Any:
    """Inputs as the program wrote them: numbers cross gRPC as floats, so whole floats become ints again."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]  # pyright: ignore[reportUnknownVariableType]
    return value


def props_of(args: Any) -> dict[str, Any]:
    """A dynamic resource's input props from its ``…Args`` dataclass: one entry per field, named as the field.

    The Args are the one declaration of the inputs (their names and defaults follow the provider's input model;
    tests/providers/test_inputs.py holds them together), so no resource writes its props out by hand. Nested
    dataclasses become dicts of their fields, sequences lists, mappings dicts; every other value (an Output
    included) is passed as it is. Not :func:`dataclasses.asdict`: it deep-copies values, and Outputs must not be
    copied.
    """
    return {field.name: _prop(getattr(args, field.name)) for field in dataclasses.fields(args)}


def _prop(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return props_of(value)
    if isinstance(value, Mapping):
        return {k: _prop(v) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list | tuple):
        return [_prop(v) for v in value]  # pyright: ignore[reportUnknownVariableType]
    return value


def is_int(value: Any) -> TypeGuard[int]:
    """A whole number as the program wrote it (after :func:`plain`); booleans are not numbers."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _sized(resources: Mapping[str, Any], memory: str) -> dict[str, str]:
    config = {"CPU": str(resources["cpu"]), "Memory": memory}
    if resources.get("gpu"):
        config["GPU"] = str(resources["gpu"])
        if resources.get("gpu_type"):
            config["GPUType"] = str(resources["gpu_type"])
    return config


def requested_resources(resources: Mapping[str, Any]) -> dict[str, str]:
    """``{cpu, memory_gb, gpu, gpu_type}`` as DLC's ``ResourceConfig`` takes them: all strings, memory with the
    ``Gi`` unit (the struct doc's example ``10Gi``), the GPU type in DLC's form (:data:`DLC_GPU_TYPE_EXAMPLE`)."""
    return _sized(resources, f"{resources['memory_gb']}Gi")


def dsw_requested_resource(resources: Mapping[str, Any]) -> dict[str, str]:
    """The same sizes as DSW's ``RequestedResource`` takes them: strings, memory a number of GB ("Unit: GB", no
    suffix), the GPU type one of :data:`DSW_GPU_TYPES`."""
    return _sized(resources, str(resources["memory_gb"]))


# A RAM role that a PAI service assumes on the user's behalf. DSW's CredentialConfig struct: "RoleType: service
# (assumed by a service), user (assumed by a regular user)"
# (https://www.alibabacloud.com/help/en/pai/developer-reference/api-pai-dsw-2022-01-01-struct-credentialconfig);
# the DLC SDK's RoleChain example gives a role in the end user's account roleType "service" with assumeRoleFor the
# end user's uid (alibabacloud_pai_dlc20201203/models/_create_job_request.py, DataSources RoleChain). The stack's
# roles trust the service principal pai.aliyuncs.com only (components/identity.py), so "user" cannot assume them.
SERVICE_ROLE_TYPE: Final = "service"
_ROLE_ARN = re.compile(r"^acs:ram::(?P<account>[0-9]+):role/[A-Za-z0-9._-]+$")


def service_role(role_arn: str) -> dict[str, str]:
    """One ``Roles[]`` entry: the role, assumed by the service for the account that owns it (from its ARN)."""
    match = _ROLE_ARN.match(role_arn)
    role: dict[str, str] = {"RoleArn": role_arn, "RoleType": SERVICE_ROLE_TYPE}
    if match is not None:
        role["AssumeRoleFor"] = match["account"]
    return role


@input_model(config=ConfigDict(extra="forbid"), kw_only=True)
class ResourcesInput:
    """``resources`` of a notebook or a training pod on a dedicated group: the typed half of their ``check``."""

    cpu: StrictInt = key("Give the vCPUs, e.g. 8", ge=1)
    memory_gb: Annotated[float, Strict()] = key("Give the memory in GiB, e.g. 32", gt=0)
    gpu: StrictInt = key("Give the GPUs, or 0", default=0, ge=0)
    gpu_type: StrictStr | None = key("Name the GPU type, or leave it out", default=None)
