"""An EAS service group as the release sees it: members, weights, states and traffic mode; and UpdateGroup.

``read`` answers from ListServices (``GroupName`` filter; each member's ``Weight``, ``TrafficState``, ``Status``,
``Reason``, ``Message``, ``RunningInstance``, ``ServiceGroup``) and DescribeGroup (``TrafficMode``), the fields of
``alibabacloud_eas20210701.models.Service`` / ``Group`` (SDK 7.0.0). A version joins its group through the service
config key :data:`MEMBERSHIP_KEY`, which no public reference confirms (shared/reference/fidelity-audit.md E1):
membership is therefore always read back, never assumed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from providers import traffic_spec as spec
from providers.traffic_spec import Member

MEMBERSHIP_KEY: Final = "metadata.group"
PAGE: Final = 100


@dataclass(frozen=True)
class ServiceState:
    """A member's serving state as ListServices reports it."""

    status: str
    reason: str
    message: str
    running: int | None  # RunningInstance, when reported

    @property
    def serving(self) -> bool:
        return self.status == "Running" and (self.running is None or self.running > 0)

    def describe(self) -> str:
        running = "" if self.running is None else f", {self.running} running instance(s)"
        why = f", reason {self.reason}: {self.message}" if self.reason or self.message else ""
        return f"status {self.status}{running}{why}"


@dataclass(frozen=True)
class Observed:
    """One look at the group: its traffic mode ("" when the group does not exist), members and their states."""

    mode: str
    members: dict[str, Member]
    states: dict[str, ServiceState]

    @property
    def shares(self) -> dict[str, float]:
        """Each member's % of the group's traffic as EAS splits it in this mode."""
        if self.mode == "customized":
            return spec.shares(self.members)
        return spec.instance_shares(self.members, {n: s.running or 0 for n, s in self.states.items()})


def update_traffic_mode(client: Any, region: str, group: str, mode: str) -> Any:
    """UpdateGroup: ``PUT /api/v2/groups/{ClusterId}/{GroupName}`` with the JSON body ``{"TrafficMode": mode}``.

    alibabacloud-eas20210701 7.0.0, the newest release on PyPI, has no UpdateGroup operation, so this is the
    project's one generic call: the EAS client's own ``call_api`` (its signing, endpoint and error handling) with
    the method, path and body the API reference documents
    (https://help.aliyun.com/zh/pai/developer-reference/api-eas-2021-07-01-updategroup: ROA, ``PUT``, body field
    ``TrafficMode`` ∈ {auto, customized}; the answer is ``{RequestId, Message}``).
    """
    from alibabacloud_openapi_util.client import Client as OpenApiUtil
    from alibabacloud_tea_openapi import models as open_api
    from alibabacloud_tea_util import models as util_models

    path = f"/api/v2/groups/{OpenApiUtil.get_encode_param(region)}/{OpenApiUtil.get_encode_param(group)}"
    params = open_api.Params(
        action="UpdateGroup",
        version="2021-07-01",
        protocol="HTTPS",
        pathname=path,
        method="PUT",
        auth_type="AK",
        style="ROA",
        req_body_type="json",
        body_type="json",
    )
    request = open_api.OpenApiRequest(headers={}, body={"TrafficMode": mode})
    return client.call_api(params, request, util_models.RuntimeOptions())


def read(client: Any, region: str, group: str, call: Callable[[str, Callable[[], Any]], Any]) -> Observed:
    """One look at ``group``; ``call(what, operation)`` runs each API call with the caller's retry policy."""
    from alibabacloud_eas20210701 import models as eas

    from providers import retry

    members: dict[str, Member] = {}
    states: dict[str, ServiceState] = {}
    page = 1
    while True:
        request = eas.ListServicesRequest(group_name=group, page_number=page, page_size=PAGE)
        body = call("read weights", lambda r=request: client.list_services(r)).body
        for service in body.services or []:
            if service.service_group != group:
                continue  # the filter is trusted only as far as each member's own ServiceGroup says
            name = str(service.service_name)
            members[name] = Member(int(service.weight or 0), str(service.traffic_state))
            running = service.running_instance
            states[name] = ServiceState(
                str(service.status),
                str(service.reason or ""),
                str(service.message or ""),
                int(running) if running is not None else None,
            )
        if page * PAGE >= int(body.total_count or 0):
            break
        page += 1
    try:
        mode = str(call("read group", lambda: client.describe_group(region, group)).body.traffic_mode or "")
    except Exception as error:
        if not retry.is_not_found(error):
            raise
        mode = ""
    return Observed(mode, members, states)
