"""PAIFlow 2021-02-02: pipeline runs, as the retraining trigger's function starts and finds them.

Shapes follow the SDK (``alibabacloud_paiflow20210202``): ``CreatePipelineRun`` (POST ``/api/v1/pipelineruns``,
JSON body ``PipelineId`` or ``PipelineManifest``, ``Name``, ``WorkspaceId``, ``NoConfirmRequired``, ``Arguments``)
answers ``PipelineRunId``; ``ListPipelineRuns`` (GET, query ``Name``, ``PipelineIds``, ``WorkspaceId``, ``Status``,
paging) answers ``PipelineRuns`` and ``TotalCount``. Pipelines are registered with their manifest through the
control API (``PUT /_emulator/paiflow/pipelines/<id>`` ``{"manifest": "<yaml>"}``), standing in for
``pai.FlowPipeline``. Unconfirmed and chosen here: an unknown pipeline answers 404 ``PipelineNotFound``; a run
starts ``Running`` when ``NoConfirmRequired`` is true, else ``Initialized``; ``Name`` filters by exact match.

A run of a manifest that would not run is refused (400 ``InvalidPipelineManifest``), in the less forgiving reading
of the documented shape (https://www.alibabacloud.com/help/en/pai/developer-reference/pipeline-manifest and the
manifests ``aliyun/pai-python-sdk`` builds, see :func:`manifest_problems`). A conditional step's ``when`` is refused
too: pai-python-sdk's ``ConditionStep`` writes it, but the SDK's own
``tests/integration/tests_pipeline/test_conidition_pipeline.py`` is skipped as "Backend is not stable", so nothing
confirms it runs. A String input's argument must be a string.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import yaml

from tests.emulator.core import ApiError, handler_name, invalid, iso, paginate, short_id

if TYPE_CHECKING:
    from tests.emulator.app import Context


# A whole-value reference: to an input of the pipeline (or, in a component, of the component) or to an upstream
# step's output (pai-python-sdk ``PipelineVariable.fullname``). Nothing else may hold "{{".
_INPUT_REF = re.compile(r"\{\{inputs\.parameters\.([A-Za-z0-9_]+)\}\}")
_OUTPUT_REF = re.compile(r"\{\{pipelines\.([A-Za-z0-9_-]+)\.outputs\.parameters\.([A-Za-z0-9_]+)\}\}")
PARAMETER_TYPES = ("String", "Int", "Double", "Bool", "Map", "Array")  # pai-python-sdk ParameterType
# Official components the emulator knows exist: none is documented with an identifier, so none.
OFFICIAL_COMPONENTS: frozenset[tuple[str, str, str]] = frozenset()


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]  # pyright: ignore[reportUnknownVariableType]
    return []


def _declared(spec: Any) -> dict[str, dict[str, Any]]:
    parameters = ((spec or {}).get("inputs") or {}).get("parameters") or []
    return {str(p.get("name")): p for p in parameters if isinstance(p, dict)}


def _component_problems(guid: str, component: dict[str, Any]) -> list[str]:
    spec = component.get("spec") or {}
    container = spec.get("container") or {}
    inputs = _declared(spec)
    where = f"component {guid}"
    found = [
        f"{where}: input {n} has type {p.get('type')!r}"
        for n, p in inputs.items()
        if p.get("type") not in PARAMETER_TYPES
    ]
    if not isinstance(container.get("image"), str) or not container["image"]:
        found.append(f"{where}: spec.container.image is required")
    command = container.get("command")
    if not isinstance(command, list) or not command or not all(isinstance(part, str) for part in command):
        found.append(f"{where}: spec.container.command must be a list of strings; got {command!r}")
    for key in ("resourceGroup", "ResourceId", "resourceId"):
        if key in container or key in spec:
            found.append(f"{where}: custom containers run on the public resource group only; remove {key}")
    for text in _strings({"command": command, "args": container.get("args"), "envs": container.get("envs")}):
        match = _INPUT_REF.fullmatch(text)
        if match is not None and match[1] not in inputs:
            found.append(f"{where}: {text} names no input of the component")
        elif match is None and "{{" in text:
            found.append(f"{where}: {text!r} interpolates inside a string; pass a whole-value reference")
    return found


def manifest_problems(text: str, arguments: str | None) -> list[str]:
    """Why a registered manifest (and a run's ``Arguments``) would not run; empty when it would."""
    try:
        documents = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as error:
        return [f"the manifest is not YAML: {error}"]
    if not documents or not all(isinstance(doc, dict) for doc in documents):
        return ["the manifest must be YAML documents (components first, the pipeline last)"]
    *components, pipeline = documents
    found: list[str] = []
    by_guid: dict[str, dict[str, Any]] = {}
    for component in components:
        guid = str((component.get("metadata") or {}).get("guid") or "")
        if component.get("apiVersion") != "core/v1" or not guid:
            found.append(
                f"a component document needs apiVersion core/v1 and metadata.guid; got {component.get('metadata')!r}"
            )
            continue
        by_guid[guid] = component
        found += _component_problems(guid, component)
    metadata = pipeline.get("metadata") or {}
    if pipeline.get("apiVersion") != "core/v1" or not all(
        metadata.get(k) for k in ("provider", "identifier", "version")
    ):
        found.append("the pipeline needs apiVersion core/v1 and metadata provider, identifier, version")
    pipeline_inputs = _declared(pipeline.get("spec"))
    steps = (pipeline.get("spec") or {}).get("pipelines") or []
    names = [str((step.get("metadata") or {}).get("name")) for step in steps if isinstance(step, dict)]
    if not steps:
        found.append("the pipeline has no steps (spec.pipelines)")
    for step in steps:
        step_meta = step.get("metadata") or {}
        name = step_meta.get("name")
        where = f"step {name}"
        if step_meta.get("guid"):
            component = by_guid.get(str(step_meta["guid"]))
            if component is None:
                found.append(f"{where}: no component document has guid {step_meta['guid']}")
                continue
            inputs = _declared(component.get("spec"))
        else:
            ref = tuple(str(step_meta.get(k)) for k in ("provider", "identifier", "version"))
            if ref not in OFFICIAL_COMPONENTS:
                found.append(f"{where}: component {ref[0]}/{ref[1]}@{ref[2]} does not exist")
            continue
        spec = step.get("spec") or {}
        if "when" in spec:
            found.append(
                f"{where}: spec.when (a conditional step) is not confirmed to run: pai-python-sdk writes it "
                "(ConditionStep) but skips its own condition test as 'Backend is not stable'; gate in the trigger"
            )
        after = spec.get("dependencies") or []
        found += [f"{where}: depends on unknown step {d}" for d in after if d not in names or d == name]
        given: set[str] = set()
        for argument in (spec.get("arguments") or {}).get("parameters") or []:
            arg = str(argument.get("name"))
            given.add(arg)
            if arg not in inputs:
                found.append(f"{where}: the component has no input {arg}")
            if ("from" in argument) == ("value" in argument):
                found.append(f"{where}: argument {arg} needs exactly one of value and from")
            elif "from" in argument:
                source = str(argument["from"])
                to_input, to_output = _INPUT_REF.fullmatch(source), _OUTPUT_REF.fullmatch(source)
                if to_input is not None and to_input[1] not in pipeline_inputs:
                    found.append(f"{where}: {source} names no input of the pipeline")
                elif to_output is not None and to_output[1] not in after:
                    found.append(f"{where}: {source} reads a step it does not depend on")
                elif to_input is None and to_output is None:
                    found.append(f"{where}: argument {arg} from {source!r} is not a whole-value reference")
            elif any("{{" in text for text in _strings(argument["value"])):
                found.append(f"{where}: argument {arg} interpolates inside a value; pass a whole-value reference")
        missing = [n for n, p in inputs.items() if n not in given and p.get("value") is None]
        found += [f"{where}: input {n} of its component is not given" for n in missing]
    found += _argument_problems(arguments, pipeline_inputs)
    return found


def _argument_problems(arguments: str | None, inputs: dict[str, dict[str, Any]]) -> list[str]:
    try:
        parsed = yaml.safe_load(arguments) if arguments else {}
    except yaml.YAMLError as error:
        return [f"Arguments is not JSON or YAML: {error}"]
    parameters = ((parsed or {}).get("arguments") or {}).get("parameters") or [] if isinstance(parsed, dict) else None
    if not isinstance(parameters, list):
        return [f"Arguments must be {{arguments: {{parameters: [{{name, value}}]}}}}; got {json.dumps(parsed)[:120]}"]
    given = {str(p.get("name")) for p in parameters if isinstance(p, dict)}
    found = [f"Arguments: the pipeline has no input {n}" for n in sorted(given - set(inputs))]
    found += [
        f"Arguments: {p.get('name')} must be a string for a String input; got {p.get('value')!r}"
        for p in parameters
        if isinstance(p, dict)
        and (inputs.get(str(p.get("name"))) or {}).get("type") == "String"
        and not isinstance(p.get("value"), str)
    ]
    found += [
        f"Arguments: input {n} is required" for n, p in inputs.items() if n not in given and p.get("value") is None
    ]
    return found


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
        self.pipelines: dict[str, str] = {}  # id → manifest
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
        manifest = self.pipelines[pipeline] if pipeline else str(body["PipelineManifest"])
        problems = manifest_problems(manifest, body.get("Arguments"))
        if problems:
            raise invalid("the pipeline would not run: " + "; ".join(problems), "InvalidPipelineManifest")
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
