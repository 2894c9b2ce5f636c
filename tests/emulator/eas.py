"""EAS 2021-07-01: services, groups and traffic weights, autoscaler, cron scaler, endpoints and tokens.

Shapes follow shared/reference/eas-api.md §2-5. Where the real API is unconfirmed the emulator makes one choice
and the README says which (group membership through ``metadata.group``, the not-found code of a scaler, …).
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from tests.emulator.core import ApiError, Lifecycle, handler_name, invalid, iso, paginate, short_id
from tests.emulator.eas_burst import burst_error

if TYPE_CHECKING:
    from tests.emulator.app import Context

R, S = "<region>", "<name>"
_CRON_FIELD = re.compile(r"^[\d*/,\-?LW#A-Za-z]+$")


def deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)  # type: ignore[arg-type]
        else:
            merged[key] = copy.deepcopy(value)
    return merged


@dataclass
class Service:
    region: str
    name: str
    config: dict[str, Any]
    labels: dict[str, str]
    workspace_id: str
    created: float
    lifecycle: Lifecycle
    token: str
    service_id: str = field(default_factory=lambda: short_id("eas-m-"))
    uid: str = field(default_factory=lambda: str(uuid.uuid4().int)[:16])
    updated: float = 0.0
    weight: int = 0
    traffic_state: str = "standalone"
    autoscaler: dict[str, Any] | None = None
    cronscaler: dict[str, Any] | None = None
    mirror: dict[str, Any] | None = None
    versions: list[dict[str, Any]] = field(default_factory=lambda: list[dict[str, Any]]())

    @property
    def group(self) -> str | None:
        group = self.config.get("metadata", {}).get("group")
        return group if isinstance(group, str) and group else None

    @property
    def instances(self) -> int:
        count = self.config.get("metadata", {}).get("instance", 1)
        return count if isinstance(count, int) else 1

    def endpoint(self, network: str) -> str:
        host = f"{self.uid}.{self.region}.pai-eas.aliyuncs.com"
        prefix = "" if network == "internet" else "vpc."
        return f"http://{prefix}{host}/api/predict/{self.name}"


@dataclass
class Group:
    region: str
    name: str
    created: float
    updated: float = 0.0
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    # UNCONFIRMED default, so the less forgiving reading: a group a service creates starts in ``auto``, where EAS
    # splits traffic by instance count and ignores weights (UpdateGroup doc; see :meth:`EasApi.share`).
    traffic_mode: str = "auto"


class EasApi:
    name = "eas"
    version = "2021-07-01"
    routes: ClassVar[list[tuple[str, str, str]]] = [
        ("POST", "/api/v2/services", "CreateService"),
        ("GET", "/api/v2/services", "ListServices"),
        ("GET", f"/api/v2/services/{R}/{S}", "DescribeService"),
        ("PUT", f"/api/v2/services/{R}/{S}", "UpdateService"),
        ("DELETE", f"/api/v2/services/{R}/{S}", "DeleteService"),
        ("PUT", f"/api/v2/services/{R}/{S}/start", "StartService"),
        ("PUT", f"/api/v2/services/{R}/{S}/stop", "StopService"),
        ("PUT", f"/api/v2/services/{R}/{S}/release", "ReleaseService"),
        ("GET", f"/api/v2/services/{R}/{S}/endpoints", "DescribeServiceEndpoints"),
        ("PUT", f"/api/v2/services/{R}/{S}/label", "UpdateServiceLabel"),
        ("POST", f"/api/v2/services/{R}/{S}/autoscaler", "CreateServiceAutoScaler"),
        ("GET", f"/api/v2/services/{R}/{S}/autoscaler", "DescribeServiceAutoScaler"),
        ("PUT", f"/api/v2/services/{R}/{S}/autoscaler", "UpdateServiceAutoScaler"),
        ("DELETE", f"/api/v2/services/{R}/{S}/autoscaler", "DeleteServiceAutoScaler"),
        ("POST", f"/api/v2/services/{R}/{S}/cronscaler", "CreateServiceCronScaler"),
        ("GET", f"/api/v2/services/{R}/{S}/cronscaler", "DescribeServiceCronScaler"),
        ("PUT", f"/api/v2/services/{R}/{S}/cronscaler", "UpdateServiceCronScaler"),
        ("DELETE", f"/api/v2/services/{R}/{S}/cronscaler", "DeleteServiceCronScaler"),
        ("POST", f"/api/v2/services/{R}/{S}/mirror", "CreateServiceMirror"),
        ("GET", f"/api/v2/services/{R}/{S}/mirror", "DescribeServiceMirror"),
        ("PUT", f"/api/v2/services/{R}/{S}/mirror", "UpdateServiceMirror"),
        ("DELETE", f"/api/v2/services/{R}/{S}/mirror", "DeleteServiceMirror"),
        ("GET", "/api/v2/groups", "ListGroups"),
        ("GET", f"/api/v2/groups/{R}/<group>", "DescribeGroup"),
        ("PUT", f"/api/v2/groups/{R}/<group>", "UpdateGroup"),
    ]

    # Virtual seconds each transition takes; the control API's /timing changes them.
    DEFAULT_TIMING: ClassVar[dict[str, float]] = {
        "create": 60.0,
        "update": 30.0,
        "start": 30.0,
        "stop": 10.0,
        "delete": 10.0,
    }

    def __init__(self, region: str = "cn-hangzhou") -> None:
        self.region = region
        self.timing = dict(self.DEFAULT_TIMING)
        self.services: dict[tuple[str, str], Service] = {}
        self.groups: dict[tuple[str, str], Group] = {}

    def reset(self) -> None:
        self.__init__(self.region)

    def handle(self, action: str, context: Context) -> dict[str, Any]:
        return getattr(self, handler_name(action))(context)

    # -- state -----------------------------------------------------------------------------------------------

    def _settle(self, now: float) -> None:
        """Drop services whose deletion finished and groups left without members."""
        for key, service in list(self.services.items()):
            if service.lifecycle.status(now) == "Deleted":
                del self.services[key]
        members = {(s.region, s.group) for s in self.services.values() if s.group}
        for key in list(self.groups):
            if key not in members:
                del self.groups[key]

    def service(self, region: str, name: str, now: float) -> Service:
        self._settle(now)
        service = self.services.get((region, name))
        if service is None:
            raise ApiError(404, "InvalidService.NotFound", f"Service [{name}] in region [{region}] is not found.")
        return service

    def fail(self, region: str, name: str, now: float, reason: str, message: str) -> Service:
        service = self.service(region, name, now)
        service.lifecycle.replan(now, [("Failed", 0)], (reason, message))
        return service

    def _view(self, service: Service, now: float) -> dict[str, Any]:
        phase = service.lifecycle.current(now)
        running = phase.status == "Running"
        return {
            "ServiceName": service.name,
            "ServiceId": service.service_id,
            "ServiceUid": service.uid,
            "Region": service.region,
            "Status": phase.status,
            "Reason": phase.reason_code,
            "Message": phase.reason_message,
            "ServiceConfig": json.dumps(self._exported_config(service)),
            "ServiceGroup": service.group or "",
            "Weight": service.weight,
            "TrafficState": service.traffic_state,
            "AccessToken": service.token,
            "InternetEndpoint": service.endpoint("internet"),
            "IntranetEndpoint": service.endpoint("intranet"),
            "Resource": service.config.get("metadata", {}).get("resource", ""),
            # Service.ResourceBurstable (alibabacloud_eas20210701 models/_service.py, newer than the pinned 7.0.0).
            "ResourceBurstable": service.config.get("metadata", {}).get("resource_burstable") is True,
            "RunningInstance": service.instances if running else 0,
            "PendingInstance": service.instances if phase.status in ("Creating", "Starting") else 0,
            "TotalInstance": service.instances,
            "CurrentVersion": len(service.versions),
            "LatestVersion": len(service.versions),
            "Labels": [{"LabelKey": k, "LabelValue": v} for k, v in sorted(service.labels.items())],
            "WorkspaceId": service.workspace_id,
            "CreateTime": iso(service.created),
            "UpdateTime": iso(service.updated or service.created),
        }

    def _exported_config(self, service: Service) -> dict[str, Any]:
        """The config as DescribeService returns it: what was sent plus keys the server adds.

        terraform-provider-alicloud's acceptance test writes ``metadata.workspace_id`` and ``"labels": {}`` into its
        config to match what the API returns (``alicloud/resource_alicloud_pai_service_test.go``; fidelity-audit
        T1), so the emulator adds those, ``metadata.region`` and the live ``metadata.instance``. The token: a copy of
        EAS's key table marks ``token`` hidden on export, but nothing official says so; the emulator takes the less
        forgiving reading and echoes it, so a provider that stores this config in state would leak it.
        """
        config = copy.deepcopy(service.config)
        metadata = config.setdefault("metadata", {})
        metadata.setdefault("workspace_id", service.workspace_id)
        metadata.setdefault("region", service.region)
        metadata["instance"] = service.instances
        config.setdefault("labels", {})
        config["token"] = service.token
        return config

    def _group_view(self, group: Group) -> dict[str, Any]:
        host = f"{abs(hash(group.name)) % 10**16}.{group.region}.pai-eas.aliyuncs.com"
        return {
            "Name": group.name,
            "ClusterId": group.region,
            "CreateTime": iso(group.created),
            "UpdateTime": iso(group.updated or group.created),
            "QueueService": "",
            "InternetEndpoint": f"http://{host}/api/predict/{group.name}",
            "IntranetEndpoint": f"http://vpc.{host}/api/predict/{group.name}",
            "AccessToken": group.token,
            "TrafficMode": group.traffic_mode,
        }

    def _busy(self, service: Service, now: float, verb: str) -> None:
        status = service.lifecycle.status(now)
        if status in ("Creating", "Updating", "Stopping", "Starting", "Deleting"):
            raise ApiError(400, "InvalidService.Status", f"Cannot {verb} service [{service.name}] while {status}.")

    # -- services --------------------------------------------------------------------------------------------

    def _create_service(self, context: Context) -> dict[str, Any]:
        config = context.json()
        metadata = config.get("metadata")
        name = (metadata or {}).get("name") if isinstance(metadata, dict) else None
        name = name or config.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", name):
            raise invalid(
                "metadata.name must start with a lower-case letter and hold lower-case letters, digits and _; "
                f"got {name!r}"
            )
        if not config.get("containers") and not config.get("processor") and not config.get("processor_path"):
            raise invalid("the service config needs containers[] (custom image) or a processor")
        if (refused := burst_error(config)) is not None:
            raise refused
        region = self.region  # CreateService's path has no region: the endpoint's region is the service's
        key = (region, name)
        self._settle(context.now)
        if key in self.services:
            raise ApiError(400, "InvalidService.AlreadyExists", f"Service [{name}] already exists.")
        labels = json.loads(context.query["Labels"]) if context.query.get("Labels") else {}
        config.setdefault("metadata", {})["name"] = name
        service = Service(
            region=region,
            name=name,
            config=config,
            labels=labels,
            workspace_id=context.query.get("WorkspaceId", ""),
            created=context.now,
            lifecycle=Lifecycle.starting(context.now, [("Creating", self.timing["create"]), ("Running", 0)]),
            token=str(config.get("token") or uuid.uuid4().hex),
            versions=[copy.deepcopy(config)],
        )
        group = service.group
        if group and (region, group) not in self.groups:
            self.groups[(region, group)] = Group(region, group, context.now)
            service.traffic_state, service.weight = "grouping", 100  # the first member takes the group's traffic
        self.services[key] = service
        return {
            "ServiceName": name,
            "ServiceId": service.service_id,
            "Status": "Creating",
            "Region": region,
            "InternetEndpoint": service.endpoint("internet"),
            "IntranetEndpoint": service.endpoint("intranet"),
        }

    def _describe_service(self, context: Context) -> dict[str, Any]:
        service = self.service(context.args["region"], context.args["name"], context.now)
        return self._view(service, context.now)

    def _update_service(self, context: Context) -> dict[str, Any]:
        service = self.service(context.args["region"], context.args["name"], context.now)
        self._busy(service, context.now, "update")
        patch = context.json()
        update_type = context.query.get("UpdateType", "merge")
        if update_type not in ("merge", "replace"):
            raise invalid(f"UpdateType must be merge or replace; got {update_type!r}")
        config = deep_merge(service.config, patch) if update_type == "merge" else copy.deepcopy(patch)
        config.setdefault("metadata", {})["name"] = service.name
        if (config.get("metadata", {}).get("group") or None) != service.group:
            raise invalid("a service cannot change its group in an update; delete and create it in the new group")
        if (refused := burst_error(config)) is not None:  # on the merged config: a patch may drop what burst needs
            raise refused
        service.config, service.updated = config, context.now
        if "token" in patch:
            service.token = str(patch["token"])
        service.versions.append(copy.deepcopy(config))
        service.lifecycle.replan(context.now, [("Updating", self.timing["update"]), ("Running", 0)])
        return {"Message": f"Service [{service.name}] is updating ({update_type})"}

    def _delete_service(self, context: Context) -> dict[str, Any]:
        service = self.service(context.args["region"], context.args["name"], context.now)
        if service.lifecycle.status(context.now) != "Deleting":
            service.lifecycle.replan(context.now, [("Deleting", self.timing["delete"]), ("Deleted", 0)])
        return {"Message": f"Service [{service.name}] in region [{service.region}] is deleting"}

    def _start_service(self, context: Context) -> dict[str, Any]:
        service = self.service(context.args["region"], context.args["name"], context.now)
        self._busy(service, context.now, "start")
        service.lifecycle.replan(context.now, [("Starting", self.timing["start"]), ("Running", 0)])
        return {"Message": f"Service [{service.name}] is starting"}

    def _stop_service(self, context: Context) -> dict[str, Any]:
        service = self.service(context.args["region"], context.args["name"], context.now)
        self._busy(service, context.now, "stop")
        service.lifecycle.replan(context.now, [("Stopping", self.timing["stop"]), ("Stopped", 0)])
        return {"Message": f"Service [{service.name}] is stopping"}

    def _list_services(self, context: Context) -> dict[str, Any]:
        self._settle(context.now)
        query = context.query
        label = json.loads(query["Label"]) if query.get("Label") else {}
        wanted_status = query.get("ServiceStatus")
        needle = (query.get("Filter") or query.get("ServiceName") or "").lower()
        matched = [
            view
            for service in sorted(self.services.values(), key=lambda s: s.created)
            if (not query.get("GroupName") or service.group == query["GroupName"])
            and (not query.get("WorkspaceId") or service.workspace_id == query["WorkspaceId"])
            and all(service.labels.get(k) == v for k, v in label.items())
            and needle in service.name.lower()
            for view in [self._view(service, context.now)]
            if not wanted_status or view["Status"] == wanted_status
        ]
        page, number, size = paginate(matched, query, 100)
        return {"Services": page, "PageNumber": number, "PageSize": size, "TotalCount": len(matched)}

    def _release_service(self, context: Context) -> dict[str, Any]:
        service = self.service(context.args["region"], context.args["name"], context.now)
        if service.group is None:
            raise invalid(f"Service [{service.name}] is not in a service group; set metadata.group to join one")
        body = context.json()
        weight, state = body.get("Weight"), body.get("TrafficState")
        if weight is None and state is None:
            raise invalid("ReleaseService needs Weight, TrafficState or both")
        if weight is not None and (not isinstance(weight, int) or not -1 <= weight <= 1000):
            raise invalid(f"Weight must be an integer in [-1, 1000]; got {weight!r}")
        if state is not None and state not in ("standalone", "grouping"):
            raise invalid(f"TrafficState must be standalone or grouping; got {state!r}")
        if weight is not None:
            service.weight = weight
        if state is not None:
            service.traffic_state = state
        status = service.lifecycle.status(context.now)
        return {
            "Message": f"Releasing service [{service.name}] in region [{service.region}] with weight "
            f"[{service.weight}], service status: [{status}]"
        }

    def _update_service_label(self, context: Context) -> dict[str, Any]:
        service = self.service(context.args["region"], context.args["name"], context.now)
        labels = context.json().get("Labels")
        if not isinstance(labels, dict) or not labels:
            raise invalid(f"Labels must map label keys to values; got {labels!r}")
        service.labels.update({str(k): str(v) for k, v in labels.items()})
        return {"Message": f"Succeed to update labels of service [{service.name}]"}

    def _describe_service_endpoints(self, context: Context) -> dict[str, Any]:
        service = self.service(context.args["region"], context.args["name"], context.now)
        return {
            "AccessToken": service.token,
            "Endpoints": [
                {
                    "EndpointType": "DefaultGateway",
                    "InternetEndpoints": [service.endpoint("internet")],
                    "IntranetEndpoints": [service.endpoint("intranet")],
                    "PathType": "service",
                    "Port": 80,
                }
            ],
            "Message": "",
        }

    def share(self, name: str) -> float:
        """The percentage of its group's traffic a service takes now (100 for a service outside any group).

        ``customized`` groups: the emulator's reading of weights (unconfirmed for the real service) is relative, a
        member's share is its weight over the sum of the weights of the members in ``grouping``. ``auto`` groups
        ignore weights: "auto mode allocates weights by each service's share of the instance count" (UpdateGroup,
        https://help.aliyun.com/zh/pai/developer-reference/api-eas-2021-07-01-updategroup), over the members in
        ``grouping``. A ``standalone`` member takes none in either mode.
        """
        service = next((s for s in self.services.values() if s.name == name), None)
        if service is None:
            return 0.0
        if service.group is None:
            return 100.0
        members = [s for s in self.services.values() if s.group == service.group and s.region == service.region]
        group = self.groups.get((service.region, service.group))
        if group is not None and group.traffic_mode == "auto":
            serving = [s for s in members if s.traffic_state == "grouping"]
            total = sum(s.instances for s in serving)
            return 100.0 * service.instances / total if service in serving and total else 0.0
        if service.traffic_state != "grouping" or service.weight <= 0:
            return 0.0
        total = sum(s.weight for s in members if s.traffic_state == "grouping" and s.weight > 0)
        return 100.0 * service.weight / total

    def operate(self, action: dict[str, Any], now: float) -> dict[str, Any]:
        """What an operator does by hand in the console, for tests to schedule in the middle of a release.

        ``{"release": name, "weight": w, "state": s}`` moves a weight, ``{"fail": name, "reason", "message"}``
        fails a service, ``{"stop": name}`` stops it, ``{"delete": name}`` deletes it, ``{"scale": name,
        "instances": n}`` sets its instance count (0: scaled away while still reported ``Running``),
        ``{"traffic_mode": group, "mode": m}`` switches a group.
        """
        region = str(action.get("region") or self.region)
        if "release" in action:
            service = self.service(region, str(action["release"]), now)
            service.weight = int(action.get("weight", service.weight))
            service.traffic_state = str(action.get("state", service.traffic_state))
        elif "fail" in action:
            service = self.fail(
                region,
                str(action["fail"]),
                now,
                str(action.get("reason") or "ContainerCrashed"),
                str(action.get("message") or "The container exited with code 1 (emulated)."),
            )
        elif "delete" in action:
            service = self.service(region, str(action["delete"]), now)
            service.lifecycle.replan(now, [("Deleting", self.timing["delete"]), ("Deleted", 0)])
        elif "stop" in action:
            service = self.service(region, str(action["stop"]), now)
            service.lifecycle.replan(now, [("Stopping", self.timing["stop"]), ("Stopped", 0)])
        elif "scale" in action:
            service = self.service(region, str(action["scale"]), now)
            service.config.setdefault("metadata", {})["instance"] = int(action.get("instances", 0))
        elif "traffic_mode" in action:
            group = self.groups.get((region, str(action["traffic_mode"])))
            if group is None:
                raise ApiError(404, "InvalidGroup.NotFound", f"Group [{action['traffic_mode']}] is not found.")
            group.traffic_mode = self._traffic_mode(action.get("mode"))
            return self._group_view(group)
        else:
            raise invalid(f"an operator action is release, fail, stop, delete, scale or traffic_mode; got {action!r}")
        return self._view(service, now)

    # -- mirror (shadow traffic) ----------------------------------------------------------------------------

    def _mirror_body(self, context: Context, source: Service) -> dict[str, Any]:
        body = context.json()
        ratio, targets = body.get("Ratio"), body.get("Target")
        if not isinstance(ratio, int) or isinstance(ratio, bool) or not 0 <= ratio <= 100:
            raise invalid(f"Ratio must be an integer percentage from 0 to 100; got {ratio!r}")
        if not isinstance(targets, list) or not targets:
            raise invalid(f"Target must list the services that receive the mirrored requests; got {targets!r}")
        for target in targets:
            self.service(source.region, str(target), context.now)
        return {"Ratio": ratio, "Target": [str(t) for t in targets]}

    def _create_service_mirror(self, context: Context) -> dict[str, Any]:
        service = self.service(context.args["region"], context.args["name"], context.now)
        if service.mirror is not None:
            raise ApiError(400, "InvalidMirror.AlreadyExists", f"Service [{service.name}] already mirrors traffic.")
        service.mirror = self._mirror_body(context, service)
        return {"Message": f"Succeed to create mirror for service [{service.name}]"}

    def _update_service_mirror(self, context: Context) -> dict[str, Any]:
        service = self._scaler(context, "mirror")
        service.mirror = self._mirror_body(context, service)
        return {"Message": f"Succeed to update mirror for service [{service.name}]"}

    def _describe_service_mirror(self, context: Context) -> dict[str, Any]:
        service = self._scaler(context, "mirror")
        mirror = service.mirror or {}
        return {"ServiceName": service.name, "Ratio": str(mirror["Ratio"]), "Target": ",".join(mirror["Target"])}

    def _delete_service_mirror(self, context: Context) -> dict[str, Any]:
        service = self._scaler(context, "mirror")
        service.mirror = None
        return {"Message": f"Succeed to delete mirror for service [{service.name}]"}

    # -- groups ----------------------------------------------------------------------------------------------

    def _describe_group(self, context: Context) -> dict[str, Any]:
        self._settle(context.now)
        group = self.groups.get((context.args["region"], context.args["group"]))
        if group is None:
            raise ApiError(404, "InvalidGroup.NotFound", f"Group [{context.args['group']}] is not found.")
        return self._group_view(group)

    @staticmethod
    def _traffic_mode(mode: Any) -> str:
        if mode not in ("auto", "customized"):
            raise invalid(f"TrafficMode must be auto or customized; got {mode!r}")
        return str(mode)

    def _update_group(self, context: Context) -> dict[str, Any]:
        """``PUT /api/v2/groups/{ClusterId}/{GroupName}`` with ``{"TrafficMode": ...}`` (UpdateGroup doc, above)."""
        self._settle(context.now)
        name = context.args["group"]
        group = self.groups.get((context.args["region"], name))
        if group is None:
            raise ApiError(404, "InvalidGroup.NotFound", f"Group [{name}] is not found.")
        body = context.json()
        if "TrafficMode" not in body:
            raise invalid("UpdateGroup needs the fields to change, e.g. TrafficMode")
        group.traffic_mode = self._traffic_mode(body["TrafficMode"])
        group.updated = context.now
        return {"Message": f"Update service group {name} successfully"}

    def _list_groups(self, context: Context) -> dict[str, Any]:
        self._settle(context.now)
        needle = (context.query.get("Filter") or "").lower()
        groups = [self._group_view(g) for g in sorted(self.groups.values(), key=lambda g: g.name) if needle in g.name]
        page, number, size = paginate(groups, context.query, 100)
        return {"Groups": page, "PageNumber": number, "PageSize": size, "TotalCount": len(groups)}

    # -- scalers ---------------------------------------------------------------------------------------------

    def _autoscaler_body(self, context: Context) -> dict[str, Any]:
        body = context.json()
        low, high = body.get("min"), body.get("max")
        if not isinstance(low, int) or not isinstance(high, int) or low < 0:
            raise invalid(f"min and max must be non-negative integers; got min={low!r}, max={high!r}")
        if high <= low:
            raise invalid(f"max must be greater than min; got min={low}, max={high}")
        strategies = body.get("scaleStrategies") or []
        for strategy in strategies:
            if strategy.get("metricName") not in ("qps", "cpu", "gpu[util]"):
                raise invalid(f"metricName must be qps, cpu or gpu[util]; got {strategy.get('metricName')!r}")
            if not isinstance(strategy.get("threshold"), int | float) or strategy["threshold"] <= 0:
                raise invalid(f"threshold must be a positive number; got {strategy.get('threshold')!r}")
        return body

    def _scaler(self, context: Context, kind: str) -> Service:
        service = self.service(context.args["region"], context.args["name"], context.now)
        if getattr(service, kind) is None:
            label = {"autoscaler": "AutoScaler", "cronscaler": "CronScaler", "mirror": "Mirror"}[kind]
            raise ApiError(404, f"Invalid{label}.NotFound", f"{label} of service [{service.name}] is not found.")
        return service

    def _create_service_auto_scaler(self, context: Context) -> dict[str, Any]:
        service = self.service(context.args["region"], context.args["name"], context.now)
        if service.autoscaler is not None:
            raise ApiError(400, "InvalidAutoScaler.AlreadyExists", f"Service [{service.name}] has an autoscaler.")
        service.autoscaler = self._autoscaler_body(context)
        return {"Message": f"Succeed to create autoscaler for service [{service.name}]"}

    def _update_service_auto_scaler(self, context: Context) -> dict[str, Any]:
        service = self._scaler(context, "autoscaler")
        body = self._autoscaler_body(context)
        if body["min"] < 1:
            # UpdateServiceAutoScaler: "min … The value must be greater than 0" (API reference and SDK 7.0.0
            # UpdateServiceAutoScalerRequest); Create states no bound. The error code is UNCONFIRMED.
            raise invalid(f"min must be greater than 0 on UpdateServiceAutoScaler; got min={body['min']}")
        service.autoscaler = body
        return {"Message": f"Succeed to update autoscaler for service [{service.name}]"}

    def _describe_service_auto_scaler(self, context: Context) -> dict[str, Any]:
        service = self._scaler(context, "autoscaler")
        scaler = service.autoscaler or {}
        return {
            "ServiceName": service.name,
            "MinReplica": scaler["min"],
            "MaxReplica": scaler["max"],
            "Behavior": scaler.get("behavior") or {},
            # The Describe reference lists metric names in upper case (QPS, CPU; eas-api.md §4), whatever was sent.
            "ScaleStrategies": [
                {**strategy, "metricName": str(strategy.get("metricName", "")).upper()}
                for strategy in scaler.get("scaleStrategies") or []
            ],
            "CurrentMetrics": [],
        }

    def _delete_service_auto_scaler(self, context: Context) -> dict[str, Any]:
        service = self._scaler(context, "autoscaler")
        service.autoscaler = None
        return {"Message": f"Succeed to delete autoscaler for service [{service.name}]"}

    def _cron_body(self, context: Context) -> dict[str, Any]:
        body = context.json()
        jobs = body.get("ScaleJobs")
        if not isinstance(jobs, list) or not jobs:
            raise invalid("ScaleJobs must list at least one job")
        for job in [*jobs, *({"Schedule": date, "TargetSize": 0} for date in body.get("ExcludeDates") or [])]:
            fields = str(job.get("Schedule", "")).split()
            if len(fields) != 6 or not all(_CRON_FIELD.match(f) for f in fields):
                raise invalid(f"Schedule needs 6 cron fields (second minute hour day month weekday); got {job!r}")
            if not isinstance(job.get("TargetSize"), int) or job["TargetSize"] < 0:
                raise invalid(f"TargetSize must be a non-negative integer; got {job.get('TargetSize')!r}")
        return body

    def _create_service_cron_scaler(self, context: Context) -> dict[str, Any]:
        service = self.service(context.args["region"], context.args["name"], context.now)
        if service.cronscaler is not None:
            raise ApiError(400, "InvalidCronScaler.AlreadyExists", f"Service [{service.name}] has a cron scaler.")
        service.cronscaler = {**self._cron_body(context), "created": context.now}
        return {"Message": f"Succeed to create cron scaler for service [{service.name}]"}

    def _update_service_cron_scaler(self, context: Context) -> dict[str, Any]:
        service = self._scaler(context, "cronscaler")
        service.cronscaler = {**self._cron_body(context), "created": (service.cronscaler or {})["created"]}
        return {"Message": f"Succeed to update cron scaler for service [{service.name}]"}

    def _describe_service_cron_scaler(self, context: Context) -> dict[str, Any]:
        service = self._scaler(context, "cronscaler")
        scaler = service.cronscaler or {}
        created = iso(scaler["created"])
        jobs = [
            {**job, "State": "Normal", "Message": "", "CreateTime": created, "LastProbeTime": iso(context.now)}
            for job in scaler["ScaleJobs"]
        ]
        return {"ServiceName": service.name, "ExcludeDates": scaler.get("ExcludeDates") or [], "ScaleJobs": jobs}

    def _delete_service_cron_scaler(self, context: Context) -> dict[str, Any]:
        service = self._scaler(context, "cronscaler")
        service.cronscaler = None
        return {"Message": f"Succeed to delete cron scaler for service [{service.name}]"}
