"""The keys a stack file may hold: namespaces, the alicloud provider's keys, stack names, and the flat map read back
into sections."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from config_problems import HIDDEN, PROJECT, Problem
from stack_config.secrets import SECRET_KEYS

# The alicloud provider's own config keys (pulumi-alicloud 4.0.0, pulumi_alicloud/config/vars.py; a test pins
# this list to the installed module). Any other alicloud:<key> is a typo the provider would ignore.
ALICLOUD_KEYS: Final = frozenset(
    {
        "accessKey", "accountId", "accountType", "assumeRole", "assumeRoleWithOidc", "clientConnectTimeout",
        "clientReadTimeout", "configurationSource", "credentialsUri", "ecsRoleName", "endpoints", "fc", "features",
        "logEndpoint", "maxRetryTimeout", "mnsEndpoint", "otsInstanceName", "profile", "protocol", "region",
        "secretKey", "secureTransport", "securityToken", "securityTransport", "sharedCredentialsFile",
        "signVersion", "skipRegionValidation", "sourceIp",
    }
)  # fmt: skip


# Namespaces a stack file of this project may use: the project's own, the provider's, the engine's.
_NAMESPACES: Final = (PROJECT, "alicloud", "pulumi")


def key_problems(full_keys: Iterable[str], project: str) -> list[Problem]:
    """Keys nothing reads: a mistyped namespace, an unknown ``alicloud:`` key, or ``<project>:region``.

    Values are never shown: a misplaced key may hold a secret.
    """
    problems: list[Problem] = []
    namespaces = (project, *_NAMESPACES[1:])
    for full_key in sorted(set(full_keys)):
        namespace, _, name = full_key.partition(":")
        if namespace not in namespaces:
            guess = difflib.get_close_matches(namespace, namespaces, n=1)
            hint = (
                f"Write it as '{guess[0]}:{name}'"
                if guess
                else f"Put it under this project's namespace ('{project}:') or the provider's ('alicloud:')"
            )
            problems.append(
                Problem(namespace, name, f"is in namespace '{namespace}', which nothing reads", HIDDEN, hint)
            )
        elif namespace == "alicloud" and name not in ALICLOUD_KEYS:
            guess = difflib.get_close_matches(name, sorted(ALICLOUD_KEYS), n=1)
            hint = f"Write it as 'alicloud:{guess[0]}'" if guess else "See the alicloud provider's configuration keys"
            problems.append(Problem(namespace, name, "is not a key of the alicloud provider", HIDDEN, hint))
        elif namespace == project and name == "region":
            problems.append(
                Problem(
                    namespace,
                    name,
                    "is not read: the region is the provider's",
                    HIDDEN,
                    "Move it to alicloud:region (pulumi config set alicloud:region <region>)",
                )
            )
    return problems


_BOOLEAN_KEYS: Final = ("allowAnyStackName",)
_INTEGER_KEYS: Final = ("providerHosts",)


_OBJECT_KEYS: Final = (
    "storage",
    "workspace",
    "serving",
    "training",
    "notebook",
    "pipeline",
    "registry",
    "alarms",
    "dashboards",
)


REGION_KEY: Final = "alicloud:region"


def raw_from_values(values: Mapping[str, str], project: str) -> dict[str, Any]:
    """The raw config :func:`parse_stack_config` takes, from the flat map the engine hands a program.

    ``values`` has namespaced keys (``pai-mlops:serving``, ``alicloud:region``) and structured values as JSON
    strings, as ``pulumi up`` passes them and as ``tools.mock_engine.stack_config_values`` reads a stack file.
    Keys of this project that the config does not know are kept, so validation names them and suggests the
    nearest; secret keys are left out.
    """
    raw: dict[str, Any] = {}
    for full_key, value in values.items():
        namespace, _, name = full_key.partition(":")
        if full_key == REGION_KEY:
            raw["region"] = value
        elif namespace != project or name in SECRET_KEYS or name == "region":
            continue  # another namespace, a secret, or pai-mlops:region (the region is alicloud's)
        elif name in _BOOLEAN_KEYS and value in ("true", "false"):
            raw[name] = value == "true"  # the engine hands every scalar over as text
        elif name in _INTEGER_KEYS and re.fullmatch(r"[0-9]{1,4}", value):
            raw[name] = int(value)
        elif name in _OBJECT_KEYS:
            try:
                raw[name] = json.loads(value)
            except json.JSONDecodeError:
                raw[name] = value  # a plain string where a mapping belongs: validation reports it
        else:
            raw[name] = value
    return raw
