"""Serving versions: the rules across ``versions``, ``live``, ``registryVersions`` and ``contracts`` of a service."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from config_problems import Problem
from pai_facts import EAS_NAME_MAX, REGISTRY_VERSION, contract_major, eas_service_name, registry_version
from stack_config.drift import retrained_by_problems
from stack_config.fields import typed


def version_problems(svc: Mapping[str, Any], where: str) -> list[Problem]:
    versions = typed(svc, "versions", list)
    if versions is None:
        return []
    problems = []
    duplicates = sorted({v for v in versions if isinstance(v, str) and versions.count(v) > 1})
    if duplicates:
        problems.append(
            Problem(
                where, "versions", f"lists {', '.join(duplicates)} more than once", versions, "List each version once"
            )
        )
    live = typed(svc, "live", str)
    if versions and live is not None and live not in versions:
        problems.append(
            Problem(
                where, "live", "must be one of versions", live, f"Set live to one of {versions} or add it to versions"
            )
        )
    problems += _contract_problems(svc, versions, where)
    problems += _registry_version_problems(svc, versions, where)
    problems += retrained_by_problems(svc, where)
    name = typed(svc, "name", str)
    for version in versions:
        if not (name and isinstance(version, str)):
            continue
        eas_name = eas_service_name(f"{svc.get('easPrefix', '')}{name}", version)
        if len(eas_name) > EAS_NAME_MAX:
            problems.append(
                Problem(
                    where,
                    "name",
                    f"with version '{version}' is longer than {EAS_NAME_MAX} characters",
                    eas_name,
                    "Shorten the service name or the version",
                )
            )
    return problems


def _registry_version_problems(svc: Mapping[str, Any], versions: list[Any], where: str) -> list[Problem]:
    """Every deployed version maps to one valid, distinct model registry version."""
    explicit = typed(svc, "registryVersions", dict) or {}
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    ids = dict.fromkeys(v for v in versions if isinstance(v, str) and re.fullmatch(r"[a-z0-9][a-z0-9_]*", v))
    for version in ids:  # a bad or repeated id is reported by its own rule
        value = explicit.get(version) if version in explicit else registry_version(version, {})
        if not isinstance(value, str) or not REGISTRY_VERSION.match(value):
            problems.append(
                Problem(
                    where,
                    f"registryVersions.{version}",
                    "must be a model registry version major.minor.patch (the registry refuses anything else)"
                    + ("" if version in explicit else f"; '{version}' is not v<N>, so it needs one"),
                    value if version in explicit else version,
                    f"Map it, e.g. registryVersions: {{{version}: 1.0.0}}",
                )
            )
        elif value in seen:
            problems.append(
                Problem(
                    where,
                    f"registryVersions.{version}",
                    f"maps to {value}, which {seen[value]} already uses",
                    value,
                    "Give every version its own registry version",
                )
            )
        else:
            seen[value] = version
    return problems


def _contract_problems(svc: Mapping[str, Any], versions: list[Any], where: str) -> list[Problem]:
    """Every version declares its contract, or none does; one group serves one major contract unless allowed."""
    contracts = typed(svc, "contracts", dict)
    if not contracts:
        return []
    missing = [v for v in versions if isinstance(v, str) and v not in contracts]
    if missing:
        return [
            Problem(
                where,
                "contracts",
                f"has no contract for {', '.join(missing)}",
                contracts,
                "Declare the API contract of every version, e.g. {v6: v1.4, v7: v1.5}",
            )
        ]
    majors = {version: contract_major(str(contract)) for version, contract in contracts.items() if version in versions}
    unreadable = sorted(version for version, major in majors.items() if major is None)
    if unreadable:
        return [
            Problem(
                where,
                "contracts",
                f"gives {', '.join(unreadable)} a contract without a major version",
                contracts,
                "Write contract versions as v<major>[.<minor>], e.g. v2 or v2.1",
            )
        ]
    rollout = typed(svc, "rollout", dict) or {}
    if len(set(majors.values())) > 1 and rollout.get("allowBreakingChange") is not True:
        spread = ", ".join(f"{version} {contracts[version]}" for version in sorted(majors))
        return [
            Problem(
                where,
                "contracts",
                f"mixes major API versions in one service group ({spread}), so a release or rollback would send "
                f"clients a schema they do not expect",
                contracts,
                "Serve the new major version as a new service (its own group), or set rollout.allowBreakingChange "
                "if every client handles both",
            )
        ]
    return []
