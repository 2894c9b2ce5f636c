"""CodeRepositories: each Git repository the stack develops or trains from, registered once as a code source."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_alicloud import pai

from pai_facts import CODE_MOUNT
from stack_config import RepositoryConfig


@dataclass(frozen=True, kw_only=True)
class CodeRepositoriesArgs:
    """``repositories`` maps a clone URL to its settings; ``access_token`` (a secret) serves every one of them."""

    repositories: Mapping[str, RepositoryConfig]
    workspace_id: pulumi.Input[str]
    access_token: pulumi.Input[str] | None = None


def repository_slug(url: str) -> str:
    """A short, stable resource-name part for a repository: its last path segment and a hash of the URL."""
    last = re.sub(r"[^a-z0-9]+", "-", url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git").lower()).strip("-")
    return f"{last or 'repo'}-{hashlib.sha256(url.encode()).hexdigest()[:6]}"


class CodeRepositories(pulumi.ComponentResource):
    """One ``pai.WorkspaceCodeSource`` per repository, so notebooks and DLC runs attach the same registered code.

    The access token reaches a code source only as a secret (``additional_secret_outputs`` keeps it encrypted in
    state, as the ``secrets-not-plaintext`` policy checks). Output: ``source_ids`` (clone URL → code source id).
    """

    def __init__(self, name: str, args: CodeRepositoriesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pai-mlops:code:CodeRepositories", name, None, opts)
        self.sources: dict[str, pai.WorkspaceCodeSource] = {}
        for url, repo in sorted(args.repositories.items()):
            slug = repository_slug(url)
            self.sources[url] = pai.WorkspaceCodeSource(
                f"{name}-{slug}",
                display_name=slug,
                description=f"Git repository {url}",
                code_repo=url,
                code_branch=repo.branch,
                code_repo_user_name=repo.user_name,
                code_repo_access_token=args.access_token,
                mount_path=CODE_MOUNT,
                accessibility="PRIVATE",
                workspace_id=args.workspace_id,
                opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["codeRepoAccessToken"]),
            )
        self.source_ids: dict[str, pulumi.Output[str]] = {url: source.id for url, source in self.sources.items()}
        self.register_outputs({"source_ids": self.source_ids})

    def source_id_of(self, code: RepositoryConfig | None) -> pulumi.Output[str] | None:
        """The code source of ``code``'s repository, or None for a job without code."""
        return self.source_ids[code.repository] if code is not None else None
