"""PAIFlow 2021-02-02: pipeline runs, as the retraining trigger's function starts and finds them.

Shapes follow the SDK (``alibabacloud_paiflow20210202``): ``CreatePipelineRun`` (POST ``/api/v1/pipelineruns``,
JSON body ``PipelineId`` or ``PipelineManifest``, ``Name``, ``WorkspaceId``, ``NoConfirmRequired``, ``Arguments``)
answers ``PipelineRunId``; ``ListPipelineRuns`` (GET, query ``Name``, ``PipelineIds``, ``WorkspaceId``, ``Status``,
paging) answers ``PipelineRuns`` and ``TotalCount``. Pipelines are registered through the control API
(``PUT /_emulator/paiflow/pipelines/<id>``), standing in for ``pai.FlowPipeline``. Unconfirmed and chosen here:
an unknown pipeline answers 404 ``PipelineNotFound``; a run starts ``Running`` when ``NoConfirmRequired`` is true,
else ``Initialized``; ``Name`` filters by exact match.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from tests.emulator.core import ApiError, handler_name, invalid, iso, paginate, short_id

if TYPE_CHECKING:
    from tests.emulator.app import Context


@dataclass
class PipelineRun:
    run_id: str
    pipeline_id: str
    workspace_id: str
    name: str
    status: str
    arguments: str | None
    created: float

    def view(self) -> dict[str, Any]:
        return {
            "PipelineRunId": self.run_id,
            "PipelineId": self.pipeline_id,
            "WorkspaceId": self.workspace_id,
            "Name": self.name,
            "Status": self.status,
            "Arguments": self.arguments,
            "GmtCreateTime": iso(self.created),
        }


class PaiFlowApi:
    name = "paiflow"
    version = "2021-02-02"
    routes: ClassVar[list[tuple[str, str, str]]] = [
        ("POST", "/api/v1/pipelineruns", "CreatePipelineRun"),
        ("GET", "/api/v1/pipelineruns", "ListPipelineRuns"),
        ("GET", "/api/v1/pipelineruns/<run_id>", "GetPipelineRun"),
    ]

    def __init__(self) -> None:
        self.pipelines: set[str] = set()
        self.runs: dict[str, PipelineRun] = {}

    def reset(self) -> None:
        self.__init__()

    def handle(self, action: str, context: Context) -> dict[str, Any]:
        return getattr(self, handler_name(action))(context)

    def _create_pipeline_run(self, context: Context) -> dict[str, Any]:
        body = context.json()
        pipeline, workspace = body.get("PipelineId"), body.get("WorkspaceId")
        if not pipeline and not body.get("PipelineManifest"):
            raise invalid("PipelineId or PipelineManifest is required", "InvalidParameter.PipelineId")
        if pipeline and pipeline not in self.pipelines:
            raise ApiError(404, "PipelineNotFound", f"pipeline {pipeline} does not exist")
        if not isinstance(workspace, str) or not workspace:
            raise invalid("WorkspaceId is required", "InvalidParameter.WorkspaceId")
        run = PipelineRun(
            run_id=short_id("flow-"),
            pipeline_id=str(pipeline or ""),
            workspace_id=workspace,
            name=str(body.get("Name") or short_id("run-")),
            status="Running" if body.get("NoConfirmRequired") is True else "Initialized",
            arguments=body.get("Arguments"),
            created=context.now,
        )
        self.runs[run.run_id] = run
        return {"PipelineRunId": run.run_id}

    def _list_pipeline_runs(self, context: Context) -> dict[str, Any]:
        query = context.query
        pipelines = set(filter(None, (query.get("PipelineIds") or "").split(",")))
        matches = [
            run
            for run in sorted(self.runs.values(), key=lambda item: item.created, reverse=True)
            if (not query.get("Name") or run.name == query["Name"])
            and (not pipelines or run.pipeline_id in pipelines)
            and (not query.get("WorkspaceId") or run.workspace_id == query["WorkspaceId"])
            and (not query.get("Status") or run.status == query["Status"])
        ]
        page, number, size = paginate(matches, query, 10)
        return {
            "PipelineRuns": [run.view() for run in page],
            "TotalCount": len(matches),
            "PageNumber": number,
            "PageSize": size,
        }

    def _get_pipeline_run(self, context: Context) -> dict[str, Any]:
        run = self.runs.get(context.args["run_id"])
        if run is None:
            raise ApiError(404, "PipelineRunNotFound", f"pipeline run {context.args['run_id']} does not exist")
        return run.view()
