"""components/workspace.py: the PAI workspace under the mock engine."""

from __future__ import annotations

from components import MlWorkspace, MlWorkspaceArgs
from tests.support.components import children
from tools.mock_engine import RecordingMocks, run_under_mocks


def test_ml_workspace_children(mocks: RecordingMocks) -> None:
    run_under_mocks(lambda: MlWorkspace("workspace", MlWorkspaceArgs(workspace_name="mlops_dev", description="")))
    assert children(mocks, "pai-mlops:workspace:MlWorkspace", "workspace") == [
        ("alicloud:pai/workspaceWorkspace:WorkspaceWorkspace", "workspace-ws"),
        ("alicloud:resourcemanager/resourceGroup:ResourceGroup", "workspace-rg"),
    ]
    assert mocks.one("alicloud:resourcemanager/resourceGroup:ResourceGroup", "workspace-rg").inputs == {
        "displayName": "pai-mlops mlops_dev",
        "resourceGroupName": "mlops-dev-rg",
    }
    assert mocks.one("alicloud:pai/workspaceWorkspace:WorkspaceWorkspace", "workspace-ws").inputs == {
        "description": "pai-mlops workspace mlops_dev",
        "displayName": "mlops_dev",
        "envTypes": ["prod"],
        "resourceGroupId": "workspace-rg-id",
        "workspaceName": "mlops_dev",
    }
