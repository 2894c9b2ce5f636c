"""DLC 2020-12-03: training jobs with the real API's validation, status timeline, filters and preemption.

Shapes follow shared/reference/dlc-dsw-oss-api.md §1-2. A job runs ``Creating`` → ``Queuing`` → ``Running`` →
``Succeeded`` on the virtual clock; scripted outcomes (``/_emulator/dlc/outcomes``) make upcoming jobs fail or be
preempted after running a while, and a running job can be preempted or failed on demand.
"""

from __future__ import annotations

import copy
import json
import re
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from tests.emulator.core import (
    ApiError,
    Lifecycle,
    check_service_roles,
    invalid,
    iso,
    paginate,
    parse_iso,
    short_id,
)

if TYPE_CHECKING:
    from tests.emulator.app import Context

JOB_TYPES = (
    "TFJob",
    "PyTorchJob",
    "MPIJob",
    "XGBoostJob",
    "OneFlowJob",
    "ElasticBatchJob",
    "SlurmJob",
    "RayJob",
    "DataJuicerJob",
)
TERMINAL = ("Succeeded", "Failed", "Stopped")
_DISPLAY_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,256}")
# ResourceConfig (https://www.alibabacloud.com/help/en/pai/developer-reference/api-pai-dlc-2020-12-03-struct-
# resourceconfig): Memory example "10Gi", GPUType example "Tesla-V100-16G". Only those forms are accepted.
_GI = re.compile(r"[1-9][0-9]*Gi")
_GPU_TYPE = re.compile(r"[A-Za-z0-9]+(-[A-Za-z0-9]+)+")
WEEK = 7 * 24 * 3600.0

# DLC documents no ReasonCodes. A preempted job carries the same generic code as a failed one (the less forgiving
# reading): only the documented pod SubStatus "Evicted" tells the two apart.
PREEMPTION = ("JobFailed", "The spot instance was reclaimed and the pod was evicted.")


@dataclass
class Outcome:
    """How a job ends: ``succeeded``, ``preempted`` or ``failed``, after running ``after_running_seconds``."""

    kind: str
    after_running_seconds: float | None
    reason_code: str = ""
    reason_message: str = ""

    @classmethod
    def parse(cls, spec: Any) -> Outcome:
        if not isinstance(spec, dict):
            raise invalid(f"an outcome is an object; got {spec!r}")
        kind = spec.get("outcome")
        if kind not in ("succeeded", "preempted", "failed"):
            raise invalid(f"outcome must be succeeded, preempted or failed; got {kind!r}")
        after = spec.get("after_running_seconds")
        if after is not None and (not isinstance(after, int | float) or after < 0):
            raise invalid(f"after_running_seconds must be a non-negative number; got {after!r}")
        default = PREEMPTION if kind == "preempted" else ("JobFailed", "The user command exited with code 1.")
        return cls(
            kind,
            after,
            str(spec.get("reason_code") or default[0]),
            str(spec.get("reason_message") or default[1]),
        )


@dataclass
class Job:
    job_id: str
    body: dict[str, Any]
    created: float
    lifecycle: Lifecycle
    evicted: bool = False

    @property
    def tags(self) -> dict[str, str]:
        return (self.body.get("Settings") or {}).get("Tags") or {}

    def set_tags(self, tags: dict[str, str]) -> None:
        settings = self.body.setdefault("Settings", {}) or {}
        settings["Tags"] = tags
        self.body["Settings"] = settings


class DlcApi:
    name = "dlc"
    version = "2020-12-03"
    routes: ClassVar[list[tuple[str, str, str]]] = [
        ("POST", "/api/v1/jobs", "CreateJob"),
        ("GET", "/api/v1/jobs", "ListJobs"),
        ("GET", "/api/v1/jobs/<job_id>", "GetJob"),
        ("POST", "/api/v1/jobs/<job_id>/stop", "StopJob"),
        ("DELETE", "/api/v1/jobs/<job_id>", "DeleteJob"),
        ("PUT", "/api/v1/jobs/<job_id>", "UpdateJob"),
        ("POST", "/api/v1/tags", "TagResources"),
        ("DELETE", "/api/v1/tags", "UntagResources"),
    ]
    DEFAULT_TIMING: ClassVar[dict[str, float]] = {"creating": 10.0, "queuing": 30.0, "running": 600.0, "stopping": 10.0}

    def __init__(self) -> None:
        self.timing = dict(self.DEFAULT_TIMING)
        self.jobs: dict[str, Job] = {}
        self.outcomes: deque[Outcome] = deque()

    def reset(self) -> None:
        self.__init__()

    def handle(self, action: str, context: Context) -> dict[str, Any]:
        return {
            "CreateJob": self._create,
            "ListJobs": self._list,
            "GetJob": self._get,
            "StopJob": self._stop,
            "DeleteJob": self._delete,
            "UpdateJob": self._update,
            "TagResources": self._tag,
            "UntagResources": self._untag,
        }[action](context)

    def job(self, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None:
            raise ApiError(404, "JobNotFound", f"Job {job_id} does not exist.")
        return job

    def end_now(self, job_id: str, now: float, outcome: Outcome) -> Job:
        """Preempt or fail a job that has not finished."""
        job = self.job(job_id)
        status = job.lifecycle.status(now)
        if status in TERMINAL:
            raise invalid(f"job {job_id} already finished ({status})", "InvalidJobStatus")
        job.evicted = outcome.kind == "preempted"
        job.lifecycle.replan(now, [("Failed", 0)], (outcome.reason_code, outcome.reason_message))
        return job

    def soft_delete(self, job_id: str, now: float) -> Job:
        """Delete a finished job but keep its record, answering ``Status: Deleted`` (the other reading of DeleteJob:
        whether DLC removes a deleted job or keeps a soft-deleted record, ListJobs' ``IsDeleted``, is UNCONFIRMED)."""
        job = self.job(job_id)
        status = job.lifecycle.status(now)
        if status not in TERMINAL:
            raise invalid(f"Job {job_id} is {status}; stop it before deleting it.", "InvalidJobStatus")
        job.lifecycle.replan(now, [("Deleted", 0)])
        return job

    # -- validation ------------------------------------------------------------------------------------------

    @staticmethod
    def _validate(body: dict[str, Any]) -> None:
        for key in ("DisplayName", "JobType", "JobSpecs", "UserCommand"):
            if not body.get(key):
                raise invalid(f"{key} is mandatory for this action.", "MissingParameter")
        if not _DISPLAY_NAME.fullmatch(str(body["DisplayName"])):
            raise invalid(f"DisplayName may hold letters, digits, '_', '.', '-' (≤256); got {body['DisplayName']!r}")
        if body["JobType"] not in JOB_TYPES:
            raise invalid(f"JobType must be one of {', '.join(JOB_TYPES)}; got {body['JobType']!r}")
        dedicated = bool(body.get("ResourceId"))
        for index, spec in enumerate(body["JobSpecs"]):
            where = f"JobSpecs[{index}]"
            if not spec.get("Type") or not spec.get("Image"):
                raise invalid(f"{where}.Type and {where}.Image are mandatory", "MissingParameter")
            if not isinstance(spec.get("PodCount"), int) or spec["PodCount"] < 1:
                raise invalid(f"{where}.PodCount must be a positive integer; got {spec.get('PodCount')!r}")
            if dedicated and not spec.get("ResourceConfig"):
                raise invalid(f"{where}.ResourceConfig is mandatory when ResourceId (a quota) is set")
            config = spec.get("ResourceConfig") or {}
            if config and not _GI.fullmatch(str(config.get("Memory", ""))):
                raise invalid(
                    f"{where}.ResourceConfig.Memory takes a Gi quantity such as '10Gi'; got {config.get('Memory')!r}"
                )
            if config.get("GPUType") is not None and not _GPU_TYPE.fullmatch(str(config["GPUType"])):
                raise invalid(
                    f"{where}.ResourceConfig.GPUType names a GPU type such as 'Tesla-V100-16G'; "
                    f"got {config['GPUType']!r}"
                )
            if not dedicated and not spec.get("EcsSpec"):
                raise invalid(f"{where}.EcsSpec is mandatory on public resources (no ResourceId)")
            if spec.get("UseSpotInstance"):
                spot = spec.get("SpotSpec") or {}
                if spot.get("SpotStrategy") != "SpotWithPriceLimit" or (
                    spot.get("SpotDiscountLimit") is None and spot.get("SpotPriceLimit") is None
                ):
                    raise invalid(
                        f"{where}.SpotSpec needs SpotStrategy SpotWithPriceLimit and "
                        "SpotDiscountLimit or SpotPriceLimit"
                    )
        check_service_roles((body.get("CredentialConfig") or {}).get("CredentialConfigItems"), "CredentialConfigItems")
        for index, source in enumerate(body.get("DataSources") or []):
            if not source.get("DataSourceId") and not str(source.get("Uri", "")).startswith(("oss://", "nas://")):
                raise invalid(f"DataSources[{index}] needs DataSourceId or an oss:// or nas:// Uri")
            if source.get("MountAccess") not in (None, "", "RO", "RW"):
                raise invalid(f"DataSources[{index}].MountAccess must be RO or RW; got {source['MountAccess']!r}")

    # -- actions ---------------------------------------------------------------------------------------------

    def _create(self, context: Context) -> dict[str, Any]:
        body = context.json()
        self._validate(body)
        job_id = short_id("dlc")
        outcome = self.outcomes.popleft() if self.outcomes else Outcome("succeeded", None)
        running = self.timing["running"] if outcome.after_running_seconds is None else outcome.after_running_seconds
        final = "Succeeded" if outcome.kind == "succeeded" else "Failed"
        lifecycle = Lifecycle()
        lifecycle.replan(
            context.now,
            [
                ("Creating", self.timing["creating"]),
                ("Queuing", self.timing["queuing"]),
                ("Running", running),
                (final, 0),
            ],
            ("", "") if final == "Succeeded" else (outcome.reason_code, outcome.reason_message),
        )
        self.jobs[job_id] = Job(job_id, copy.deepcopy(body), context.now, lifecycle, outcome.kind == "preempted")
        return {"JobId": job_id}

    def _pods(self, job: Job, status: str) -> list[dict[str, Any]]:
        pod_status = {"Running": "Running", "Succeeded": "Succeeded", "Failed": "Failed", "Stopped": "Failed"}
        pods: list[dict[str, Any]] = []
        for spec in job.body["JobSpecs"]:
            for index in range(spec["PodCount"]):
                pods.append(
                    {
                        "PodId": f"{job.job_id}-{str(spec['Type']).lower()}-{index}",
                        "Type": spec["Type"],
                        "Status": pod_status.get(status, "Pending"),
                        "SubStatus": "Evicted" if job.evicted and status == "Failed" else "Normal",
                    }
                )
        return pods

    def view(self, job: Job, now: float) -> dict[str, Any]:
        phase = job.lifecycle.current(now)
        lifecycle = job.lifecycle
        history = [
            {
                "Status": p.status,
                "StartTime": iso(p.start),
                "EndTime": iso(end) if end is not None else "",
                "ReasonCode": p.reason_code,
                "ReasonMessage": p.reason_message,
            }
            for p, end in lifecycle.history(now)
        ]
        running = lifecycle.entered("Running", now)
        finished = phase.start if phase.status in TERMINAL else None
        body = job.body
        return {
            **{k: v for k, v in body.items() if k not in ("CredentialConfig",)},
            "JobId": job.job_id,
            "Status": phase.status,
            "SubStatus": "",
            "ReasonCode": phase.reason_code,
            "ReasonMessage": phase.reason_message,
            "StatusHistory": history,
            "Pods": self._pods(job, phase.status),
            "Duration": int((finished or now) - running) if running is not None else 0,
            "GmtCreateTime": iso(job.created),
            "GmtSubmittedTime": iso(job.created),
            "GmtRunningTime": iso(running) if running is not None else "",
            "GmtFinishTime": iso(finished) if finished is not None else "",
            "ResourceType": "ECS",
            "Settings": body.get("Settings") or {},
            "Envs": body.get("Envs") or {},
            "DataSources": body.get("DataSources") or [],
        }

    def _get(self, context: Context) -> dict[str, Any]:
        return self.view(self.job(context.args["job_id"]), context.now)

    def _list(self, context: Context) -> dict[str, Any]:
        query = context.query
        try:
            start = parse_iso(query["StartTime"]) if query.get("StartTime") else context.now - WEEK
            end = parse_iso(query["EndTime"]) if query.get("EndTime") else context.now
            tags = json.loads(query["Tags"]) if query.get("Tags") else {}
        except ValueError as error:
            raise invalid(f"StartTime, EndTime (ISO 8601) or Tags (a JSON object) is malformed: {error}") from error
        name = (query.get("DisplayName") or "").lower()
        jobs = [
            job
            for job in self.jobs.values()
            if start <= job.created <= end
            and name in str(job.body["DisplayName"]).lower()
            and (not query.get("JobType") or job.body["JobType"] == query["JobType"])
            and (not query.get("WorkspaceId") or job.body.get("WorkspaceId") == query["WorkspaceId"])
            # What ListJobs' Tags filter matches is unconfirmed (the SDK: "the tags used for filtering"); it may
            # filter a tag set other than Settings.Tags. The least forgiving reading: a Tags filter matches nothing.
            and not tags
            and (not query.get("Status") or job.lifecycle.status(context.now) == query["Status"])
        ]
        jobs.sort(key=lambda job: job.created, reverse=query.get("Order", "desc").lower() != "asc")
        page, _, _ = paginate(jobs, query, 50)
        return {"Jobs": [self.view(job, context.now) for job in page], "TotalCount": len(jobs)}

    def _stop(self, context: Context) -> dict[str, Any]:
        job = self.job(context.args["job_id"])
        status = job.lifecycle.status(context.now)
        if status in TERMINAL or status == "Stopping":
            raise invalid(f"Job {job.job_id} cannot be stopped in status {status}.", "InvalidJobStatus")
        job.lifecycle.replan(context.now, [("Stopping", self.timing["stopping"]), ("Stopped", 0)])
        return {"JobId": job.job_id}

    def _update(self, context: Context) -> dict[str, Any]:
        """Description, priority and accessibility change on any job; specs and command only before it runs.

        The SDK always sends ``JobSpecs: []``: an empty list means "unchanged" (it would otherwise clear them).
        """
        job = self.job(context.args["job_id"])
        body = context.json()
        for key in ("Description", "Accessibility"):
            if body.get(key) is not None:
                job.body[key] = body[key]
        if body.get("Priority") is not None:
            if not isinstance(body["Priority"], int) or not 1 <= body["Priority"] <= 9:
                raise invalid(f"Priority must be an integer from 1 to 9; got {body['Priority']!r}")
            job.body["Priority"] = body["Priority"]
        if body.get("JobSpecs") or body.get("UserCommand"):
            status = job.lifecycle.status(context.now)
            if status not in ("Creating", "Queuing"):
                raise invalid(f"Job {job.job_id} is {status}; JobSpecs and UserCommand change only while queuing.")
            job.body.update({k: body[k] for k in ("JobSpecs", "UserCommand") if body.get(k)})
        return {"JobId": job.job_id}

    def _tagged_jobs(self, ids: Any, resource_type: Any) -> list[Job]:
        if resource_type != "Job":
            raise invalid(f"ResourceType must be Job; got {resource_type!r}")
        if isinstance(ids, str):  # the query form: a JSON list, as the SDK "shrinks" it
            try:
                ids = json.loads(ids)
            except ValueError:
                ids = ids.split(",")
        if not isinstance(ids, list) or not ids or len(ids) > 50:
            raise invalid(f"ResourceId must list 1 to 50 job ids; got {ids!r}")
        return [self.job(str(job_id)) for job_id in ids]

    def _tag(self, context: Context) -> dict[str, Any]:
        body = context.json()
        jobs = self._tagged_jobs(body.get("ResourceId"), body.get("ResourceType"))
        tags = body.get("Tag") or []
        if len(tags) > 20 or not all(isinstance(t, dict) and t.get("Key") for t in tags):
            raise invalid(f"Tag must list 1 to 20 {{Key, Value}} objects; got {tags!r}")
        for job in jobs:
            job.set_tags({**job.tags, **{str(t["Key"]): str(t.get("Value") or "") for t in tags}})
        return {}

    def _untag(self, context: Context) -> dict[str, Any]:
        query = context.query
        jobs = self._tagged_jobs(query.get("ResourceId"), query.get("ResourceType"))
        remove_all = str(query.get("All", "")).lower() == "true"
        try:
            keys = json.loads(query["TagKey"]) if query.get("TagKey") else []
        except ValueError:
            keys = str(query["TagKey"]).split(",")
        for job in jobs:
            job.set_tags({} if remove_all else {k: v for k, v in job.tags.items() if k not in keys})
        return {}

    def _delete(self, context: Context) -> dict[str, Any]:
        job = self.job(context.args["job_id"])
        status = job.lifecycle.status(context.now)
        if status not in TERMINAL:
            raise invalid(f"Job {job.job_id} is {status}; stop it before deleting it.", "InvalidJobStatus")
        del self.jobs[job.job_id]
        return {"JobId": job.job_id}
