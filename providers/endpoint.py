"""``ServiceEndpoint``: the endpoints and access tokens of an EAS service group and its members, as stack outputs.

pulumi-alicloud's ``pai.Service`` has no output for endpoints or tokens, so this reads them after deployment:
``DescribeGroup`` for the group's endpoint and token (what clients call: traffic follows the group's weights) and
``DescribeServiceEndpoints`` per member (direct endpoints bypass the weights — for testing a version before it
takes traffic). Tokens leave the provider only in ``access_token`` (service → token), ``group_access_token`` and
``token``, which the resource always lists in ``additional_secret_outputs``: Pulumi encrypts them in state and
masks them in output. With ``token`` set (a secret input), every member's token is rotated to it
(``UpdateService`` merging ``{"token": …}``; the service config is otherwise untouched).

Rotation reaches every member on every ``pulumi up``: each member's current token is read and only the ones that
differ are changed, so a version added later gets the token, and a rotation that stopped half-way (an error, an
interrupted ``up``) converges on the next one. A member that is busy (Creating, Updating, Starting, Stopping) is
waited for, within ``READY_BUDGET_SECONDS``, before its token changes; a lost answer is settled by reading the
member back (a repeated UpdateService would be refused while the first one is applied). ``read`` records which
members no longer carry the declared token or no longer exist under ``observed`` (version names only, never a
token), so ``pulumi refresh`` then ``pulumi preview`` shows a token changed by hand; a group deleted in the console
reads as gone.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import pulumi
import pulumi.dynamic
from pydantic import ConfigDict, StrictStr
from pydantic.dataclasses import dataclass as input_model

from config_problems import key
from providers.base import OBSERVED, ConfiguredProvider, check_inputs, confirmed
from providers.props import props_of

CALL_BUDGET_SECONDS: Final = 120.0
READY_BUDGET_SECONDS: Final = 1200.0  # a member busy with an update (a GPU image can take long) is waited for
POLL_SECONDS: Final = 2.0
BUSY: Final = frozenset({"Creating", "Updating", "Starting", "Stopping", "Waiting"})
SECRET_OUTPUTS: Final = ["access_token", "group_access_token", "token"]
OUTPUTS: Final = ("endpoints", "group_endpoint", "access_token", "group_access_token", OBSERVED)


@input_model(config=ConfigDict(extra="forbid"), kw_only=True)
class ServiceEndpointInputs:
    """The inputs of a ``ServiceEndpoint``; ``check`` follows it."""

    group: StrictStr = key("Give the EAS service group the members belong to", min_length=1)
    services: dict[StrictStr, StrictStr] = key(
        "Map each version to its EAS service name, e.g. {v7: fraud_scorer_v7}", min_length=1
    )
    token: StrictStr | None = key(
        "Pass a secret of at least 16 characters (pulumi config set --secret), or leave it out",
        default=None,
        min_length=16,
    )


@dataclass(frozen=True, kw_only=True)
class ServiceEndpointArgs:
    group: str
    services: Mapping[str, pulumi.Input[str]]  # version → EAS service name
    token: pulumi.Input[str] | None = None  # pass a secret; rotates every member's token


class ServiceEndpointProvider(ConfiguredProvider):
    """Stateless: SDK imports and clients live inside the methods (the object is pickled into state)."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        return check_inputs(
            ServiceEndpointInputs, news, resource="ServiceEndpoint", outputs=OUTPUTS, secrets=("token",)
        )

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        changed = [key for key in ("group", "services", "token") if olds.get(key) != news.get(key)]
        observed = olds.get(OBSERVED)
        if isinstance(observed, Mapping):  # what the last read or up found
            if news.get("token") and observed.get("stale_token"):
                changed.append("token")
            if observed.get("missing"):
                changed.append("services")
        return pulumi.dynamic.DiffResult(
            changes=bool(changed),
            replaces=["group"] if "group" in changed else [],
            stables=[],
            delete_before_replace=False,
        )

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        reader = _Reader(self._config, props)
        if props.get("token"):
            reader.rotate(str(props["token"]))
        outputs = reader.read()
        if outputs is None:
            raise RuntimeError(f"endpoints of {reader.group}: the service group does not exist")
        return pulumi.dynamic.CreateResult(f"{reader.region}/{props['group']}", outputs)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        reader = _Reader(self._config, news)
        if news.get("token"):
            reader.rotate(str(news["token"]))  # every member whose token differs, whatever the last state said
        outputs = reader.read()
        if outputs is None:
            raise RuntimeError(f"endpoints of {reader.group}: the service group does not exist")
        return pulumi.dynamic.UpdateResult(outputs)

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        outputs = _Reader(self._config, props).read()
        if outputs is None:
            return pulumi.dynamic.ReadResult("", {})  # the group is gone (deleted with its last member)
        return pulumi.dynamic.ReadResult(id_, outputs)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None  # reading endpoints created nothing


class _Reader:
    def __init__(self, config: Any, props: dict[str, Any]) -> None:
        from providers.clients import ClientFactory

        self.props = {k: v for k, v in props.items() if k != OBSERVED}
        self.factory = ClientFactory.from_config(config)
        self.client = self.factory.eas()
        self.region = self.factory.region
        self.group = str(props["group"])
        # In version order: a mapping crossing gRPC keeps no order of its own.
        self.services = {str(v): str(s) for v, s in sorted(props["services"].items())}

    def _call(self, what: str, operation: Callable[[], Any], *, idempotent: bool = True) -> Any:
        from providers import retry
        from providers.waiting import Deadline

        return retry.call(
            operation,
            what=f"endpoints of {self.group}: {what}",
            deadline=Deadline(CALL_BUDGET_SECONDS),
            idempotent=idempotent,
        )

    def _found(self, what: str, operation: Callable[[], Any]) -> Any | None:
        """The answer's body, or None when EAS says the thing does not exist."""
        from providers import retry

        try:
            return self._call(what, operation).body
        except Exception as error:
            if retry.is_not_found(error):
                return None
            raise

    def _service(self, service: str) -> Any | None:
        return self._found(f"read {service}", lambda: self.client.describe_service(self.region, service))

    def _settled(self, service: str) -> Any:
        """The member once it is not busy; fails naming it if it does not exist or stays busy past the budget."""
        from providers.waiting import Deadline, Poll, wait_for

        def read() -> Any:
            body = self._service(service)
            if body is None:
                raise RuntimeError(
                    f"endpoints of {self.group}: service {service} does not exist; its token cannot be rotated"
                )
            return body

        return wait_for(
            read,
            done=lambda body: body.status not in BUSY,
            describe=lambda body: str(body.status),
            what=f"endpoints of {self.group}: {service} to settle before its token changes",
            deadline=Deadline(READY_BUDGET_SECONDS),
            poll=Poll(interval=POLL_SECONDS),
        )

    def rotate(self, token: str) -> None:
        from alibabacloud_eas20210701 import models as eas

        from providers.waiting import progress

        rotated: list[str] = []
        for service in self.services.values():
            if self._settled(service).access_token == token:
                continue  # already rotated (an earlier up, or half of one)
            request = eas.UpdateServiceRequest(body=json.dumps({"token": token}), update_type="merge")

            def change(s: str = service, r: eas.UpdateServiceRequest = request) -> None:
                self._call(
                    f"rotate the token of {s}", lambda: self.client.update_service(self.region, s, r), idempotent=False
                )

            def took_effect(s: str = service) -> bool:
                body = self._service(s)
                return body is not None and body.access_token == token

            confirmed(change, took_effect, what=f"endpoints of {self.group}: token of {service}")
            rotated.append(service)
        if rotated:
            progress(f"endpoints of {self.group}: token rotated on {', '.join(rotated)}")

    def read(self) -> dict[str, Any] | None:
        """The outputs, with what differs from the inputs under ``observed``; None when the group is gone."""
        group = self._found("read the group", lambda: self.client.describe_group(self.region, self.group))
        if group is None:
            return None
        endpoints: dict[str, dict[str, str]] = {}
        tokens: dict[str, str] = {}
        missing: list[str] = []
        for version, service in self.services.items():
            body = self._found(
                f"read {service}", lambda s=service: self.client.describe_service_endpoints(self.region, s)
            )
            if body is None:
                missing.append(version)  # deleted in the console: pulumi up recreates it, then reads it again
                continue
            first = (body.endpoints or [None])[0]
            endpoints[version] = {
                "service": service,
                "internet": (first.internet_endpoints or [""])[0] if first else "",
                "intranet": (first.intranet_endpoints or [""])[0] if first else "",
            }
            tokens[version] = str(body.access_token or "")
        declared = self.props.get("token")
        stale = sorted(v for v, t in tokens.items() if declared and t != declared)
        return {
            **self.props,
            "endpoints": endpoints,
            "group_endpoint": {
                "internet": str(group.internet_endpoint or ""),
                "intranet": str(group.intranet_endpoint or ""),
            },
            "access_token": tokens,
            "group_access_token": str(group.access_token or ""),
            OBSERVED: {"stale_token": stale, "missing": sorted(missing)},
        }


class ServiceEndpoint(pulumi.dynamic.Resource, module="pai", name="ServiceEndpoint"):
    """Registers as ``pulumi-python:dynamic/pai:ServiceEndpoint``; its tokens are always secret."""

    endpoints: pulumi.Output[dict[str, dict[str, str]]]
    group_endpoint: pulumi.Output[dict[str, str]]
    access_token: pulumi.Output[dict[str, str]]
    group_access_token: pulumi.Output[str]

    def __init__(self, name: str, args: ServiceEndpointArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props: dict[str, Any] = {**props_of(args), **dict.fromkeys(OUTPUTS)}
        secret = pulumi.ResourceOptions(additional_secret_outputs=SECRET_OUTPUTS)
        super().__init__(ServiceEndpointProvider(), name, props, pulumi.ResourceOptions.merge(secret, opts))
