"""Provider hosts for long waits: explicit ``pulumi-python`` providers, so long operations do not queue.

Every dynamic resource without a ``provider`` option is served by the stack's one default ``pulumi-python``
provider, which is one ``python -m pulumi.dynamic`` process with a pool of 4 gRPC threads: a fifth operation
(a check or diff included) waits until one of four long ones ends. The engine starts one plugin process per
provider *resource* (docs/provider-hosts.md has the sources), so resources that wait for the cloud (a traffic
shift's bakes, an EAS service becoming Running, a training run) are spread over ``lanes`` explicit providers by
a stable hash of their name: each lane is its own process with its own 4 threads, and the default host keeps
only short operations. Lanes are created on first use (a lane without resources starts no process).

An explicit provider receives only its own inputs, not the stack config the default dynamic provider gets
(pulumi ``pkg/resource/deploy/target.go`` ``GetPackageConfig``), so each lane is given the ``alicloud:*`` keys
the providers read (``providers/clients.py``), the secret ones as secrets. ``lanes = 0`` keeps every resource on
the default host (the layout before lanes).
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

import pulumi

PACKAGE: Final = "pulumi-python"
# The keys providers.clients reads from configure(); (key, secret).
_FORWARDED: Final = (("region", False), ("accessKey", False), ("secretKey", True), ("securityToken", True))


class _Lanes:
    """The lanes of one program run (the root stack resource tells runs apart under the mock engine)."""

    def __init__(self) -> None:
        self.count = 0
        self.root: object = None
        self.providers: dict[int, pulumi.ProviderResource] = {}


_STATE: Final = _Lanes()


def set_lanes(count: int) -> None:
    """How many explicit provider hosts long-running resources are spread over (0: the default host only)."""
    _STATE.count = count
    _STATE.providers = {}
    _STATE.root = pulumi.runtime.get_root_resource()


def lane_of(name: str, count: int) -> int:
    """The lane of a resource: a hash of its name that does not change when other resources come and go.

    BLAKE2b, not CRC-32: a CRC is linear, so names that differ in one character at the same place can share their
    low bits. Measured with CRC-32 % 16: ``train0-job`` … ``train3-job`` all on lane 1, and 8 of
    ``job0-job`` … ``job9-job`` on one lane, more than its 4 threads serve at once.
    """
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count


def _inputs() -> dict[str, Any]:
    config = pulumi.Config("alicloud")
    inputs: dict[str, Any] = {}
    for key, secret in _FORWARDED:
        value = config.get_secret(key) if secret else config.get(key)
        if value is not None:
            inputs[f"alicloud:{key}"] = value
    return inputs


def host_for(name: str) -> pulumi.ProviderResource | None:
    """The explicit provider that serves the long-running resource ``name``, None for the default host."""
    if _STATE.count <= 0:
        return None
    if _STATE.root is not pulumi.runtime.get_root_resource():
        _STATE.providers, _STATE.root = {}, pulumi.runtime.get_root_resource()
    lane = lane_of(name, _STATE.count)
    if lane not in _STATE.providers:
        _STATE.providers[lane] = pulumi.ProviderResource(PACKAGE, f"provider-host-{lane}", _inputs())
    return _STATE.providers[lane]
