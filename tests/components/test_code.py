"""components/code.py: the code repositories under the mock engine."""

from __future__ import annotations

import pulumi

from components import CodeRepositories, CodeRepositoriesArgs
from components.code import repository_slug
from stack_config import RepositoryConfig
from tools.mock_engine import RecordingMocks, run_under_mocks


def test_code_repositories_register_each_repository_once_with_a_secret_token(mocks: RecordingMocks) -> None:
    repo = RepositoryConfig(repository="https://github.com/acme/fraud-models.git", branch="main", user_name="ci")
    args = CodeRepositoriesArgs(
        repositories={repo.repository: repo},
        workspace_id="ws-1",
        access_token=pulumi.Output.secret("ghp-s3cr3t"),
    )
    run_under_mocks(lambda: CodeRepositories("code", args))
    assert repository_slug(repo.repository) == "fraud-models-" + repository_slug(repo.repository)[-6:]
    code = mocks.one("alicloud:pai/workspaceCodeSource:WorkspaceCodeSource", f"code-{repository_slug(repo.repository)}")
    assert code.additional_secret_outputs == ("codeRepoAccessToken",)
    assert code.properties["codeRepoAccessToken"] == {
        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
        "value": "ghp-s3cr3t",
    }
    assert {k: v for k, v in code.inputs.items() if k != "codeRepoAccessToken"} == {
        "accessibility": "PRIVATE",
        "codeBranch": "main",
        "codeRepo": "https://github.com/acme/fraud-models.git",
        "codeRepoUserName": "ci",
        "description": "Git repository https://github.com/acme/fraud-models.git",
        "displayName": repository_slug(repo.repository),
        "mountPath": "/root/code",
        "workspaceId": "ws-1",
    }
