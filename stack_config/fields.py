"""What every section of the stack config shares: the model settings, number and id types, image pins."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final

from pydantic import ConfigDict, Field, Strict, StrictInt, StrictStr
from pydantic.alias_generators import to_camel
from pydantic.dataclasses import dataclass

from config_problems import Problem, key
from pai_facts import RESERVED_CONTAINER_PORTS

# Config keys are camelCase in YAML; Python code (tests, components) may construct by field name.
MODEL: Final = ConfigDict(extra="forbid", alias_generator=to_camel, validate_by_name=True, validate_by_alias=True)


Number = Annotated[float, Strict()]


VersionId = Annotated[StrictStr, Field(pattern=r"^[a-z0-9][a-z0-9_]*$", max_length=16)]


@dataclass(frozen=True, kw_only=True, config=MODEL)
class ContainerConfig:
    """A custom serving image."""

    image: StrictStr = key("Give the full image reference with a tag or digest", min_length=1)
    port: StrictInt = key("Use the port your server listens on, 1-65535 but not 8080 or 9090", ge=1, le=65535)
    command: StrictStr = key("Give the command that starts the server, e.g. 'python serve.py'", min_length=1)


def typed(raw: Mapping[str, Any], name: str, kind: type) -> Any:
    """``raw[name]`` if it is present and of ``kind`` (bools are not ints), else None."""
    value = raw.get(name)
    if kind is int and isinstance(value, bool):
        return None
    return value if isinstance(value, kind) else None


def _pinned(image: str) -> bool:
    if "@sha256:" in image:
        return True
    last = image.rsplit("/", 1)[-1]
    return ":" in last and last.rsplit(":", 1)[1] not in ("", "latest")


PIN_IMAGE: Final = "Pin the image to a version tag or '@sha256:' digest"


RAM_NAME_MAX: Final = 64


def image_problems(image: Any, where: str, fix: str = f"{PIN_IMAGE}; never 'latest' or no tag") -> list[Problem]:
    """An image given by a movable reference (no tag, ``latest``): what runs could change under the same config."""
    if isinstance(image, str) and image and not _pinned(image):
        return [Problem(where, "image", "must name an immutable tag or digest", image, fix)]
    return []


def container_problems(container: Mapping[str, Any], where: str) -> list[Problem]:
    problems = image_problems(typed(container, "image", str), where)
    port = typed(container, "port", int)
    if port in RESERVED_CONTAINER_PORTS:
        problems.append(
            Problem(where, "port", "is reserved by the EAS engine", port, "Listen on another port, e.g. 8000")
        )
    return problems
