"""DSW 2022-01-01: notebook instances with their status timeline, updates, start/stop and the idle culler.

Shapes follow shared/reference/dlc-dsw-oss-api.md §3. Unconfirmed in the real API and chosen here: changing the
machine (``EcsSpec``, image, requested resources, resource group) needs the instance ``Stopped`` (else 400
``InvalidInstanceStatus``); labels, name, datasets, environment and the culler change at any time.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from tests.emulator.core import (
    ApiError,
    Lifecycle,
    check_service_roles,
    handler_name,
    invalid,
    iso,
    paginate,
    short_id,
    truthy,
)

if TYPE_CHECKING:
    from tests.emulator.app import Context

_NAME = re.compile(r"[A-Za-z0-9_]{1,27}")
DSW_GPU_TYPES = ("V100", "A100", "T4", "A10", "P100")
MACHINE_KEYS = ("EcsSpec", "ImageId", "ImageUrl", "RequestedResource", "ResourceId")
SETTLED = ("Running", "Stopped", "Failed")


@dataclass
class Instance:
    instance_id: str
    body: dict[str, Any]
    created: float
    lifecycle: Lifecycle
    modified: float
    culler: dict[str, Any] | None = None
    active_at: float = 0.0


class DswApi:
    name = "dsw"
    version = "2022-01-01"
    routes: ClassVar[list[tuple[str, str, str]]] = [
        ("POST", "/api/v2/instances", "CreateInstance"),
        ("GET", "/api/v2/instances", "ListInstances"),
        ("GET", "/api/v2/instances/<instance_id>", "GetInstance"),
        ("PUT", "/api/v2/instances/<instance_id>", "UpdateInstance"),
        ("DELETE", "/api/v2/instances/<instance_id>", "DeleteInstance"),
        ("PUT", "/api/v2/instances/<instance_id>/start", "StartInstance"),
        ("PUT", "/api/v2/instances/<instance_id>/stop", "StopInstance"),
        ("PUT", "/api/v2/instances/<instance_id>/labels", "UpdateInstanceLabels"),
        ("DELETE", "/api/v2/instances/<instance_id>/labels", "DeleteInstanceLabels"),
        ("POST", "/api/v2/instances/<instance_id>/idleinstanceculler", "CreateIdleInstanceCuller"),
        ("GET", "/api/v2/instances/<instance_id>/idleinstanceculler", "GetIdleInstanceCuller"),
        ("DELETE", "/api/v2/instances/<instance_id>/idleinstanceculler", "DeleteIdleInstanceCuller"),
    ]
    # Virtual seconds; creation walks Creating → ResourceAllocating → EnvPreparing → Starting, a quarter each.
    DEFAULT_TIMING: ClassVar[dict[str, float]] = {
        "create": 120.0,
        "start": 40.0,
        "stop": 15.0,
        "update": 10.0,
        "delete": 10.0,
    }

    def __init__(self) -> None:
        self.timing = dict(self.DEFAULT_TIMING)
        self.instances: dict[str, Instance] = {}

    def reset(self) -> None:
        self.__init__()

    def handle(self, action: str, context: Context) -> dict[str, Any]:
        return getattr(self, handler_name(action))(context)

    # -- state -----------------------------------------------------------------------------------------------

    def _cull(self, instance: Instance, now: float) -> None:
        """The idle culler: a Running instance idle for MaxIdleTimeInMinutes is stopped."""
        if instance.culler is None or instance.lifecycle.status(now) != "Running":
            return
        running_since = instance.lifecycle.entered("Running", now) or now
        idle_since = max(running_since, instance.active_at)
        cull_at = idle_since + instance.culler["MaxIdleTimeInMinutes"] * 60
        if cull_at <= now:
            instance.lifecycle.replan(
                cull_at,
                [("Stopping", self.timing["stop"]), ("Stopped", 0)],
                ("IdleInstanceCulled", f"Stopped after {instance.culler['MaxIdleTimeInMinutes']} idle minutes."),
            )

    def instance(self, instance_id: str, now: float) -> Instance:
        instance = self.instances.get(instance_id)
        if instance is not None and instance.lifecycle.status(now) == "Deleted":
            del self.instances[instance_id]
            instance = None
        if instance is None:
            raise ApiError(404, "InstanceNotFound", f"Instance {instance_id} does not exist.")
        self._cull(instance, now)
        return instance

    def fail(self, instance_id: str, now: float, code: str, message: str) -> Instance:
        instance = self.instance(instance_id, now)
        instance.lifecycle.replan(now, [("Failed", 0)], (code, message))
        return instance

    def touch(self, instance_id: str, now: float) -> Instance:
        """Someone used the notebook: its idle time starts again."""
        instance = self.instance(instance_id, now)
        instance.active_at = now
        return instance

    def _boot(self, total: float) -> list[tuple[str, float]]:
        quarter = total / 4
        steps = ("Creating", "ResourceAllocating", "EnvPreparing", "Starting")
        return [*((step, quarter) for step in steps), ("Running", 0)]

    def view(self, instance: Instance, now: float) -> dict[str, Any]:
        phase = instance.lifecycle.current(now)
        body = instance.body
        base = f"https://dsw-gateway.cn-hangzhou.data.aliyun.com/dsw-{instance.instance_id}"
        culler = instance.culler
        return {
            **{k: v for k, v in body.items() if k not in ("Tag", "ImageAuth")},
            "InstanceId": instance.instance_id,
            "Status": phase.status,
            "ReasonCode": phase.reason_code,
            "ReasonMessage": phase.reason_message,
            "Tags": [{"TagKey": t.get("Key"), "TagValue": t.get("Value")} for t in body.get("Tag") or []],
            "Labels": body.get("Labels") or [],
            "AcceleratorType": "GPU" if "gn" in str(body.get("EcsSpec", "")) else "CPU",
            "PaymentType": "Subscription" if body.get("ResourceId") else "PayAsYouGo",
            "JupyterlabUrl": f"{base}/lab",
            "WebIDEUrl": f"{base}/ide",
            "TerminalUrl": f"{base}/terminal",
            "InstanceUrl": base,
            "IdleInstanceCuller": self._culler_view(instance, now) if culler else None,
            "GmtCreateTime": iso(instance.created),
            "GmtModifiedTime": iso(instance.modified),
            "Success": True,
            "Code": "200",
            "HttpStatusCode": 200,
        }

    def _culler_view(self, instance: Instance, now: float) -> dict[str, Any]:
        culler = instance.culler or {}
        running_since = instance.lifecycle.entered("Running", now)
        idle = 0 if running_since is None else int((now - max(running_since, instance.active_at)) // 60)
        return {**culler, "IdleTimeInMinutes": idle if instance.lifecycle.status(now) == "Running" else 0}

    @staticmethod
    def _ok(instance_id: str, message: str = "") -> dict[str, Any]:
        return {"InstanceId": instance_id, "Success": True, "Code": "200", "HttpStatusCode": 200, "Message": message}

    # -- actions ---------------------------------------------------------------------------------------------

    def _create_instance(self, context: Context) -> dict[str, Any]:
        body = context.json()
        name = body.get("InstanceName")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise invalid(f"InstanceName may hold letters, digits and '_' (≤27 characters); got {name!r}")
        if not body.get("ImageId") and not body.get("ImageUrl"):
            raise invalid("ImageId or ImageUrl is mandatory", "MissingParameter")
        if body.get("ResourceId") and not body.get("RequestedResource"):
            raise invalid("RequestedResource is mandatory when ResourceId (a resource group) is set")
        if not body.get("ResourceId") and not body.get("EcsSpec"):
            raise invalid("EcsSpec is mandatory on public resources (no ResourceId)")
        self._validate_settings(body)
        for index, dataset in enumerate(body.get("Datasets") or []):
            if bool(dataset.get("DatasetId")) == bool(dataset.get("Uri")):
                raise invalid(f"Datasets[{index}] needs exactly one of DatasetId and Uri")
        instance_id = short_id("dsw-")
        lifecycle = Lifecycle.starting(context.now, self._boot(self.timing["create"]))
        self.instances[instance_id] = Instance(instance_id, copy.deepcopy(body), context.now, lifecycle, context.now)
        return self._ok(instance_id)

    @staticmethod
    def _validate_settings(body: dict[str, Any]) -> None:
        """RequestedResource and CredentialConfig as documented (CreateInstance and UpdateInstance)."""
        requested = body.get("RequestedResource") or {}
        # _create_instance_request.py: Memory "Unit: GB" (a number), GPUType one of V100, A100, T4, A10, P100.
        if requested and not str(requested.get("Memory", "")).isdigit():
            raise invalid(f"RequestedResource.Memory is a number of GB such as '32'; got {requested.get('Memory')!r}")
        if requested.get("GPUType") is not None and requested["GPUType"] not in DSW_GPU_TYPES:
            raise invalid(
                f"RequestedResource.GPUType must be one of {', '.join(DSW_GPU_TYPES)}; got {requested['GPUType']!r}"
            )
        check_service_roles((body.get("CredentialConfig") or {}).get("Configs"), "CredentialConfig.Configs")

    def _get_instance(self, context: Context) -> dict[str, Any]:
        return self.view(self.instance(context.args["instance_id"], context.now), context.now)

    def _list_instances(self, context: Context) -> dict[str, Any]:
        query = context.query
        labels = json.loads(query["Labels"]) if query.get("Labels") else {}
        views: list[dict[str, Any]] = []
        for instance_id in sorted(self.instances, key=lambda i: self.instances[i].created):
            try:
                view = self.view(self.instance(instance_id, context.now), context.now)
            except ApiError:
                continue  # deleted while listing
            own = {label["Key"]: label["Value"] for label in view["Labels"]}
            if (
                (not query.get("InstanceName") or query["InstanceName"].lower() in view["InstanceName"].lower())
                and (not query.get("Status") or view["Status"] == query["Status"])
                and (not query.get("WorkspaceId") or view.get("WorkspaceId") == query["WorkspaceId"])
                and all(own.get(k) == v for k, v in labels.items())
            ):
                views.append(view)
        page, _, _ = paginate(views, query, 20)
        return {"Instances": page, "TotalCount": len(views), "Success": True}

    def _update_instance(self, context: Context) -> dict[str, Any]:
        instance = self.instance(context.args["instance_id"], context.now)
        patch = context.json()
        status = instance.lifecycle.status(context.now)
        if status not in SETTLED:
            raise invalid(
                f"Instance {instance.instance_id} is {status}; wait until it settles.", "InvalidInstanceStatus"
            )
        machine = [key for key in MACHINE_KEYS if key in patch and patch[key] != instance.body.get(key)]
        if machine and status != "Stopped":
            raise invalid(
                f"Changing {', '.join(machine)} needs the instance Stopped; it is {status}.", "InvalidInstanceStatus"
            )
        self._validate_settings(patch)
        start = bool(patch.pop("StartInstance", False))
        for key, value in list(patch.items()):
            if key.startswith("Disassociate"):
                if value:
                    instance.body.pop(key.removeprefix("Disassociate"), None)
            else:
                instance.body[key] = copy.deepcopy(value)
        instance.modified = context.now
        final = "Running" if status == "Running" or start else status
        steps = [("Updating", self.timing["update"])]
        if start and status == "Stopped":
            steps.append(("Starting", self.timing["start"]))
        instance.lifecycle.replan(context.now, [*steps, (final, 0)])
        return self._ok(instance.instance_id)

    def _start_instance(self, context: Context) -> dict[str, Any]:
        instance = self.instance(context.args["instance_id"], context.now)
        status = instance.lifecycle.status(context.now)
        if status not in ("Stopped", "Failed"):
            raise invalid(
                f"Instance {instance.instance_id} is {status}; only a stopped one starts.", "InvalidInstanceStatus"
            )
        instance.lifecycle.replan(context.now, [("Starting", self.timing["start"]), ("Running", 0)])
        return self._ok(instance.instance_id)

    def _stop_instance(self, context: Context) -> dict[str, Any]:
        instance = self.instance(context.args["instance_id"], context.now)
        status = instance.lifecycle.status(context.now)
        if status in ("Stopped", "Stopping"):
            raise invalid(f"Instance {instance.instance_id} is already {status}.", "InvalidInstanceStatus")
        if truthy(context.query.get("SaveImage")):
            raise invalid("SaveImage is not emulated", "UnsupportedOperation")
        instance.lifecycle.replan(context.now, [("Stopping", self.timing["stop"]), ("Stopped", 0)])
        return self._ok(instance.instance_id)

    def _delete_instance(self, context: Context) -> dict[str, Any]:
        instance = self.instance(context.args["instance_id"], context.now)
        instance.lifecycle.replan(context.now, [("Deleting", self.timing["delete"]), ("Deleted", 0)])
        return self._ok(instance.instance_id)

    def _update_instance_labels(self, context: Context) -> dict[str, Any]:
        """Labels are merged in by key, at any status."""
        instance = self.instance(context.args["instance_id"], context.now)
        labels = context.json().get("Labels")
        if not isinstance(labels, list) or not all(isinstance(x, dict) and x.get("Key") for x in labels):
            raise invalid(f"Labels must list {{Key, Value}} objects; got {labels!r}")
        merged = {x["Key"]: x.get("Value", "") for x in instance.body.get("Labels") or []}
        merged.update({x["Key"]: x.get("Value", "") for x in labels})
        instance.body["Labels"] = [{"Key": k, "Value": v} for k, v in merged.items()]
        return self._ok(instance.instance_id)

    def _delete_instance_labels(self, context: Context) -> dict[str, Any]:
        instance = self.instance(context.args["instance_id"], context.now)
        keys = {key for key in str(context.query.get("LabelKeys") or "").split(",") if key}
        instance.body["Labels"] = [x for x in instance.body.get("Labels") or [] if x.get("Key") not in keys]
        return self._ok(instance.instance_id)

    def _create_idle_instance_culler(self, context: Context) -> dict[str, Any]:
        instance = self.instance(context.args["instance_id"], context.now)
        body = context.json()
        minutes = body.get("MaxIdleTimeInMinutes")
        if not isinstance(minutes, int) or minutes < 1:
            raise invalid(f"MaxIdleTimeInMinutes must be a positive integer; got {minutes!r}")
        for key in ("CpuPercentThreshold", "GpuPercentThreshold"):
            value = body.get(key, 20)
            if not isinstance(value, int) or not 1 <= value <= 100:
                raise invalid(f"{key} must be an integer in [1, 100]; got {value!r}")
        instance.culler = {
            "MaxIdleTimeInMinutes": minutes,
            "CpuPercentThreshold": body.get("CpuPercentThreshold", 20),
            "GpuPercentThreshold": body.get("GpuPercentThreshold", 10),
        }
        instance.active_at = context.now
        return {"Success": True, "Code": "200", "Message": "", "InstanceId": instance.instance_id}

    def _get_idle_instance_culler(self, context: Context) -> dict[str, Any]:
        instance = self.instance(context.args["instance_id"], context.now)
        if instance.culler is None:
            raise ApiError(404, "IdleInstanceCullerNotFound", f"Instance {instance.instance_id} has no idle culler.")
        return {"InstanceId": instance.instance_id, "Success": True, **self._culler_view(instance, context.now)}

    def _delete_idle_instance_culler(self, context: Context) -> dict[str, Any]:
        instance = self.instance(context.args["instance_id"], context.now)
        if instance.culler is None:
            raise ApiError(404, "IdleInstanceCullerNotFound", f"Instance {instance.instance_id} has no idle culler.")
        instance.culler = None
        return {"InstanceId": instance.instance_id, "Success": True, "Code": "200"}
