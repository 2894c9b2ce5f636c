"""Function Compute handler that starts one run of a retraining pipeline. Shipped to FC as ``index.py``.

A timer trigger (the pipeline's ``schedule``) or an OSS trigger (its ``dataMarker`` object being written) invokes
it. It names the run after the event's time (``r`` + ``YYYYMMDDhhmmss``, UTC), which becomes the pipeline's ``run``
parameter and so the new model version, then:

1. lists the pipeline's runs with that name (``ListPipelineRuns``) and stops if one exists, so FC's retries of an
   asynchronous invocation and a duplicated OSS event never start a second run;
2. starts the run (``CreatePipelineRun`` with ``NoConfirmRequired``), once: the call takes no idempotency token,
   so nothing is retried in-process; any failure fails the invocation, and FC's retry of the asynchronous
   invocation (timer and OSS triggers invoke asynchronously) goes through step 1 again.

With drift configured (``DRIFT_METHOD`` set), an OSS event first runs the drift check (images/drift-check,
bundled beside this file; numpy and scipy come from the function's layer): it compares the batch under the marker's
folder with the live version's reference profile, writes the report to OSS, and the run starts only when the data
has drifted, with the figures in its parameters (``trigger: drift``, ``drift_method``, ``drift_score``,
``drift_feature``, ``drift_report``). A timer event starts the run regardless (``trigger: schedule``): the schedule
is the fallback that retrains even when no batch drifts.

Settings come from the environment the component sets: ``PIPELINE_ID``, ``PIPELINE_NAME``, ``WORKSPACE_ID``,
``PAIFLOW_ENDPOINT`` (``paiflow.<region>.aliyuncs.com``) and optionally ``PAIFLOW_PROTOCOL`` (``https``); for drift,
``DRIFT_METHOD``, ``DRIFT_THRESHOLD``, ``DRIFT_PROFILE`` (the profile's key), ``DRIFT_REPORTS`` (the reports' prefix),
``BUCKET`` and ``OSS_ENDPOINT``. The
credentials are the function role's temporary ones, never configuration: on ``python3.12`` the context has no
``credentials`` field ("Removed. Use environment variables", https://help.aliyun.com/en/functioncompute/fc/context-1);
FC puts them in ``ALIBABA_CLOUD_ACCESS_KEY_ID`` / ``ALIBABA_CLOUD_ACCESS_KEY_SECRET`` / ``ALIBABA_CLOUD_SECURITY_TOKEN``
(https://www.alibabacloud.com/help/en/functioncompute/fc/environment-variables).

It needs only the standard library and ``alibabacloud_tea_openapi`` / ``alibabacloud_tea_util``, which FC's
``python3.12`` runtime ships as dependencies of its built-in ``alibabacloud_*`` SDKs (UNCONFIRMED: if an import
fails in the FC logs, add a layer with ``alibabacloud-tea-openapi``). The same code runs in this repository's tests
against the local emulator, with the real signing client.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any, Protocol

from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_openapi.client import Client

API_VERSION = "2021-02-02"
RUNS_PATH = "/api/v1/pipelineruns"
REQUIRED_ENVIRONMENT = ("PIPELINE_ID", "PIPELINE_NAME", "WORKSPACE_ID", "PAIFLOW_ENDPOINT")
# The function role's temporary credentials, as FC sets them when the function has a role.
CREDENTIAL_ENVIRONMENT = (
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABA_CLOUD_SECURITY_TOKEN",
)
DRIFT_ENVIRONMENT = ("DRIFT_THRESHOLD", "DRIFT_PROFILE", "DRIFT_REPORTS", "BUCKET", "OSS_ENDPOINT")


class Context(Protocol):
    """The part of FC's python3.12 invocation context the handler reads (it logs the request id)."""

    @property
    def request_id(self) -> str: ...


class EventError(ValueError):
    """The event is neither a timer nor an OSS event; FC logs it and the invocation fails without a run."""


def run_id(event: dict[str, Any]) -> tuple[str, str]:
    """``(run id, what triggered it)`` from a timer event (``triggerTime``) or an OSS event (``eventTime``)."""
    if isinstance(event.get("triggerTime"), str):
        when, cause = event["triggerTime"], f"schedule {event.get('triggerName', '?')}"
    else:
        records = event.get("events")
        first = records[0] if isinstance(records, list) and records and isinstance(records[0], dict) else None
        if first is None or not isinstance(first.get("eventTime"), str):
            raise EventError(f"not a timer or OSS event: {json.dumps(event)[:200]}")
        key = first.get("oss", {}).get("object", {}).get("key", "?")
        when, cause = first["eventTime"], f"{first.get('eventName', 'ObjectCreated')} {key}"
    try:
        moment = datetime.fromisoformat(when.replace("Z", "+00:00"))
    except ValueError as error:
        raise EventError(f"the event time {when!r} is not an ISO 8601 time") from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return "r" + moment.astimezone(UTC).strftime("%Y%m%d%H%M%S"), cause


def marker_key(event: dict[str, Any]) -> str | None:
    """The object an OSS event announces (None for a timer event)."""
    records = event.get("events")
    if not isinstance(records, list) or not records or not isinstance(records[0], dict):
        return None
    key = records[0].get("oss", {}).get("object", {}).get("key")
    return key if isinstance(key, str) else None


def drift_check(run: str, marker: str) -> dict[str, Any]:
    """The drift report of the batch the marker announces (written to ``<DRIFT_REPORTS><run>.json``)."""
    missing = [name for name in DRIFT_ENVIRONMENT if not os.environ.get(name)]
    if missing:
        raise RuntimeError(f"the function's environment lacks {', '.join(missing)}; redeploy the stack")
    # Imported only here: oss2, numpy and scipy come from the layer (images/drift-check/requirements.txt), and
    # drift_check is bundled beside index.py (components/retraining_trigger.py function_archive).
    import oss2

    from drift_check.run import check_batch

    key_id, secret, token = (os.environ[name] for name in CREDENTIAL_ENVIRONMENT)
    bucket = oss2.Bucket(oss2.StsAuth(key_id, secret, token), os.environ["OSS_ENDPOINT"], os.environ["BUCKET"])
    method = os.environ["DRIFT_METHOD"]
    if method not in ("psi", "ks"):
        raise RuntimeError(f"DRIFT_METHOD is {method!r}, not psi or ks; redeploy the stack")
    return check_batch(
        bucket,
        profile_key=os.environ["DRIFT_PROFILE"],
        data_prefix=marker.rsplit("/", 1)[0] + "/",
        report_key=f"{os.environ['DRIFT_REPORTS']}{run}.json",
        method=method,
        threshold=float(os.environ["DRIFT_THRESHOLD"]),
    )


def run_parameters(run: str, trigger: str, report: dict[str, Any] | None) -> list[dict[str, str]]:
    """The run's parameters: its id, what started it, and for a drift run the check's figures (as strings)."""
    values = {"run": run, "trigger": trigger}
    if report is not None:
        values.update(
            drift_method=str(report["method"]),
            drift_score=repr(float(report["score"])),
            drift_feature=str(report["feature"]),
            drift_report=f"oss://{os.environ['BUCKET']}/{report['report']}",
        )
    return [{"name": name, "value": value} for name, value in values.items()]


def _params(action: str, method: str) -> open_api_models.Params:
    return open_api_models.Params(
        action=action,
        version=API_VERSION,
        protocol=os.environ.get("PAIFLOW_PROTOCOL", "https").upper(),
        pathname=RUNS_PATH,
        method=method,
        auth_type="AK",
        style="ROA",
        req_body_type="json",
        body_type="json",
    )


def _one_attempt() -> Any:
    """Runtime options for a single attempt. tea-openapi 0.4 takes darabonba's options, 0.3 tea-util's."""
    try:
        from darabonba.runtime import RuntimeOptions
    except ImportError:  # tea-openapi 0.3, as older FC runtimes ship it
        from alibabacloud_tea_util.models import RuntimeOptions
    return RuntimeOptions(autoretry=False)


def _client() -> Client:
    missing = [name for name in CREDENTIAL_ENVIRONMENT if not os.environ.get(name)]
    if missing:
        raise RuntimeError(
            f"the function's environment lacks {', '.join(missing)}: FC sets them only for a function with a role; "
            "check the function's role in the stack"
        )
    key_id, secret, token = (os.environ[name] for name in CREDENTIAL_ENVIRONMENT)
    return Client(
        open_api_models.Config(
            access_key_id=key_id,
            access_key_secret=secret,
            security_token=token,
            endpoint=os.environ["PAIFLOW_ENDPOINT"],
            protocol=os.environ.get("PAIFLOW_PROTOCOL", "https"),
            read_timeout=10_000,
            connect_timeout=5_000,
        )
    )


def handler(event: bytes | str, context: Context) -> str:
    """FC's entry point (``index.handler``). Returns a JSON line: the run, and whether this call started it."""
    missing = [name for name in REQUIRED_ENVIRONMENT if not os.environ.get(name)]
    if missing:
        raise RuntimeError(f"the function's environment lacks {', '.join(missing)}; redeploy the stack")
    try:
        parsed = json.loads(event or b"{}")
    except ValueError as error:
        raise EventError(f"the event is not JSON: {error}") from error
    if not isinstance(parsed, dict):
        raise EventError(f"not a timer or OSS event: {str(parsed)[:200]}")
    run, cause = run_id(parsed)
    name = f"{os.environ['PIPELINE_NAME']}-{run}"
    pipeline, workspace = os.environ["PIPELINE_ID"], os.environ["WORKSPACE_ID"]
    client = _client()
    listed = client.call_api(
        _params("ListPipelineRuns", "GET"),
        open_api_models.OpenApiRequest(
            query={"Name": name, "PipelineIds": pipeline, "WorkspaceId": workspace, "PageSize": "10"}
        ),
        _one_attempt(),
    )
    existing = [item for item in listed.get("body", {}).get("PipelineRuns") or [] if item.get("Name") == name]
    marker = marker_key(parsed)
    trigger = "schedule" if marker is None else "data"
    report: dict[str, Any] | None = None
    result: dict[str, Any]
    if existing:  # FC's retry, or a repeated event: the run (and its drift report) exist already
        result = {"run": run, "name": name, "pipelineRunId": existing[0].get("PipelineRunId"), "started": False}
    elif marker is not None and os.environ.get("DRIFT_METHOD") and not (report := drift_check(run, marker))["drift"]:
        # No drift (or a batch the check refused, its reason in the report): no run; the schedule still retrains.
        result = {"run": run, "name": name, "pipelineRunId": None, "started": False}
    else:
        created = client.call_api(
            _params("CreatePipelineRun", "POST"),
            open_api_models.OpenApiRequest(
                body={
                    "PipelineId": pipeline,
                    "WorkspaceId": workspace,
                    "Name": name,
                    "NoConfirmRequired": True,
                    # UNCONFIRMED: the shape PAI Flow expects for a run's parameter values.
                    "Arguments": json.dumps(
                        {"arguments": {"parameters": run_parameters(run, "drift" if report else trigger, report)}}
                    ),
                }
            ),
            # Never retried in-process: CreatePipelineRun takes no idempotency token. A failed call fails the
            # invocation; FC invokes again, and the listing above finds the run if the lost call did create it.
            _one_attempt(),
        )
        result = {"run": run, "name": name, "pipelineRunId": created["body"]["PipelineRunId"], "started": True}
    if report is not None:
        figures = ("drift", "method", "threshold", "score", "feature", "report", "error")
        result["drift"] = {field: report[field] for field in figures if field in report}
    line = json.dumps({**result, "trigger": cause, "requestId": context.request_id}, sort_keys=True)
    print(line)  # FC sends stdout to the function's log
    return line


__all__ = ["EventError", "drift_check", "handler", "marker_key", "run_id", "run_parameters"]
