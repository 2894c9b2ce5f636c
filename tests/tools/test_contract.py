"""The offline contract check (tools/contract.py): required inputs from the schema, unknown values deferred, secrets
never printed, and a violation fails the plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pulumi.runtime.rpc import UNKNOWN
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY

from tests.support.program_copy import project_copy
from tests.tools.test_contract_rules import complete
from tools import contract, plan


def test_required_inputs_come_from_the_schema() -> None:
    assert contract.required_inputs("alicloud:fc/v3Function:V3Function") == ("handler", "runtime")
    assert contract.required_inputs("alicloud:pai/workspaceModelVersion:WorkspaceModelVersion") == ("modelId", "uri")
    found = contract.violations([contract.Resource("alicloud:cr/repo:Repo", "images-x", {"namespace": "acme"})])
    assert [str(v) for v in found] == [
        f"alicloud:cr/repo:Repo 'images-x' [{name}]: is required; got None "
        "(source: pulumi-alicloud 4.0.0 RepoArgs (no default))"
        for name in ("repoType", "summary")
    ]


def test_unknown_values_are_deferred_and_secrets_never_printed() -> None:
    unknown = complete("alicloud:pai/workspaceModelVersion:WorkspaceModelVersion", versionName=UNKNOWN)
    assert contract.violations([unknown]) == []
    secret = {SPECIAL_SIG_KEY: SPECIAL_SECRET_SIG, "value": "Hot"}
    found = contract.violations([complete("alicloud:oss/bucket:Bucket", storageClass=secret)])
    assert [v.value for v in found] == ["[secret]"]


def test_a_violation_fails_the_plan_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tail = (
        "\nimport pulumi_alicloud\n"
        "pulumi_alicloud.pai.WorkspaceModelVersion('stray', model_id='m', version_name='v9', uri='oss://b/x/')\n"
    )
    root = project_copy(tmp_path, program_tail=tail)
    assert plan.main(["--stack", "dev", "--root", str(root)]) == 2
    err = capsys.readouterr().err
    assert "error: 2 input(s) the alicloud provider or API would refuse:" in err
    assert "alicloud:pai/workspaceModelVersion:WorkspaceModelVersion 'stray' [versionName]: must be a semantic" in err
    assert "alicloud:pai/workspaceModelVersion:WorkspaceModelVersion 'stray' [uri]: must be oss://" in err
    document = json.loads((root / "build" / "plan-dev.json").read_text())
    assert document["exitCode"] == 2 and len(document["contract"]) == 2
