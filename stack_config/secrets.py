"""Secrets and credentials in config: which keys must be set with ``--secret``, credentials in URLs, values never
echoed in a message, and the secrets the program reads as Outputs."""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Final

import pulumi

from config_problems import HIDDEN, MISSING, PROJECT, Problem, holds_credential, split_loc

# Secret keys are read where they are used (as Outputs, never in plain text); here they are only known names.
SECRET_KEYS: Final = ("gitAccessToken", "servingToken", "registryAuth", "grafanaAuth")


# Keys whose value is a credential: set with `pulumi config set --secret`, so Pulumi.<stack>.yaml holds them encrypted
# and the engine lists them as secret keys (PULUMI_CONFIG_SECRET_KEYS; the mock engine's secret-key list).
MUST_BE_SECRET: Final = (
    f"{PROJECT}:gitAccessToken",
    f"{PROJECT}:servingToken",
    f"{PROJECT}:registryAuth",
    f"{PROJECT}:grafanaAuth",
    "alicloud:secretKey",
    "alicloud:securityToken",
)


CREDENTIAL_URL_FIX: Final = (
    "Remove the user:token@ part of the URL; a Git token goes in pai-mlops:gitAccessToken "
    "(pulumi config set --secret gitAccessToken), and rotate the token, since it was committed in clear"
)


def credential_url_problems(raw: Mapping[str, Any]) -> list[Problem]:
    """Every config string that is a URL with a user name or password in it (``https://x:ghp_…@github.com/…``).

    Such a token would be copied into plain-text inputs (code source, notebook start commands, pipeline manifest,
    model version labels), so it is refused before anything is registered; the value is never echoed.
    """
    problems: list[Problem] = []

    def walk(value: Any, path: tuple[str | int, ...]) -> None:
        if isinstance(value, Mapping):
            for name, item in value.items():  # pyright: ignore[reportUnknownVariableType]
                walk(item, (*path, str(name)))  # pyright: ignore[reportUnknownArgumentType]
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
                walk(item, (*path, index))
        elif isinstance(value, str) and holds_credential(value):
            where, key_text = split_loc(path)
            problems.append(
                Problem(where, key_text, "holds a user name or token inside the URL", HIDDEN, CREDENTIAL_URL_FIX)
            )

    walk(dict(raw), ())
    return problems


def suggest_secret_key(problem: Problem) -> Problem:
    """An unknown top-level key that looks like a mistyped secret key gets that key as its suggestion."""
    close = difflib.get_close_matches(problem.key, SECRET_KEYS, n=1)
    if (
        problem.where != PROJECT
        or problem.problem != "is not a known key"
        or not close
        or "Did you mean" in problem.fix
    ):
        return problem
    fix = f"Did you mean '{close[0]}' (a secret: pulumi config set --secret {close[0]})? {problem.fix}"
    return Problem(problem.where, problem.key, problem.problem, problem.value, fix)


def plaintext_secret_problems(keys: Iterable[str], secret_keys: Collection[str]) -> list[Problem]:
    """A credential key set without ``--secret``: it sits readable in Pulumi.<stack>.yaml (and in git)."""
    problems: list[Problem] = []
    for full_key in sorted(set(keys) & set(MUST_BE_SECRET) - set(secret_keys)):
        namespace, _, name = full_key.partition(":")
        problems.append(
            Problem(
                namespace,
                name,
                "is set in plain text, not as a secret",
                HIDDEN,
                f"Run `pulumi config rm {name}` and set it again with `pulumi config set --secret {name}`; rotate "
                f"the value, since it was stored in clear",
            )
        )
    return problems


def hide_secret_values(problems: Sequence[Problem], secret_names: Collection[str]) -> list[Problem]:
    """``problems`` with the value hidden wherever the problem is about a key set as a secret."""

    def top(problem: Problem) -> str:
        rest = problem.where.removeprefix(f"{PROJECT}:")
        return problem.key if rest == PROJECT else re.split(r"[.\[]", rest, maxsplit=1)[0]

    return [
        Problem(p.where, p.key, p.problem, HIDDEN, p.fix) if top(p) in secret_names and p.value is not MISSING else p
        for p in problems
    ]


def config_secret_keys(keys: Iterable[str]) -> set[str]:
    """The config keys the engine marks secret: ``PULUMI_CONFIG_SECRET_KEYS`` under ``pulumi up`` (a JSON list the
    language host sets beside ``PULUMI_CONFIG``; pulumi/runtime/config.py ``get_config_secret_keys_env``), the
    runtime's secret-key list under the mock engine (``pulumi.runtime.set_all_config``)."""
    listed = set(pulumi.runtime.get_config_secret_keys_env())
    return listed | {full_key for full_key in keys if pulumi.runtime.is_config_secret(full_key)}


@dataclasses.dataclass(frozen=True, kw_only=True)
class StackSecrets:
    """The optional secret keys the program uses, read as Outputs so they stay encrypted in state and masked in
    previews (``None`` when the key is not set)."""

    serving_token: pulumi.Output[str] | None  # rotates every EAS service's access token
    registry_auth: pulumi.Output[str] | None  # dockerAuth for private serving images
    git_access_token: pulumi.Output[str] | None  # clones private code repositories
    grafana_auth: pulumi.Output[str] | None = None  # the Grafana provider's token or user:password (dashboards)


def load_secrets() -> StackSecrets:
    """The stack's secret keys (``pulumi config set --secret``), next to :func:`~stack_config.load_stack_config`."""
    config = pulumi.Config()
    return StackSecrets(
        serving_token=config.get_secret("servingToken"),
        registry_auth=config.get_secret("registryAuth"),
        git_access_token=config.get_secret("gitAccessToken"),
        grafana_auth=config.get_secret("grafanaAuth"),
    )
