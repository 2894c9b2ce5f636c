"""Helpers for the properties dynamic providers receive: what crosses gRPC is not quite what the program wrote."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, TypeGuard

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


def is_int(value: Any) -> TypeGuard[int]:
    """A whole number as the program wrote it (after :func:`plain`); booleans are not numbers."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def requested_resources(resources: Mapping[str, Any]) -> dict[str, str]:
    """``{cpu, memory_gb, gpu, gpu_type}`` as DLC's ``ResourceConfig`` and DSW's ``RequestedResource`` take them
    (all strings, memory in Gi)."""
    config = {"CPU": str(resources["cpu"]), "Memory": f"{resources['memory_gb']}Gi"}
    if resources.get("gpu"):
        config["GPU"] = str(resources["gpu"])
        if resources.get("gpu_type"):
            config["GPUType"] = str(resources["gpu_type"])
    return config


@input_model(config=ConfigDict(extra="forbid"), kw_only=True)
class ResourcesInput:
    """``resources`` of a notebook or a training pod on a dedicated group: the typed half of their ``check``."""

    cpu: StrictInt = key("Give the vCPUs, e.g. 8", ge=1)
    memory_gb: Annotated[float, Strict()] = key("Give the memory in GiB, e.g. 32", gt=0)
    gpu: StrictInt = key("Give the GPUs, or 0", default=0, ge=0)
    gpu_type: StrictStr | None = key("Name the GPU type, or leave it out", default=None)
