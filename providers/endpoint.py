"""``ServiceEndpoint``: the endpoints and access tokens of an EAS service group and its members, as stack outputs.

pulumi-alicloud's ``pai.Service`` has no output for endpoints or tokens, so this reads them after deployment:
``DescribeGroup`` for the group's endpoint and token (what clients call: traffic follows the group's weights) and
``DescribeServiceEndpoints`` per member (direct endpoints bypass the weights — for testing a version before it
takes traffic). Tokens leave the provider only in ``access_token`` (service → token), ``group_access_token`` and
``token``, which the resource always lists in ``additional_secret_outputs``: Pulumi encrypts them in state and
masks them in output. With ``token`` set (a secret input), every member's token is rotated to it
(``UpdateService`` merging ``{"token": …}``; the service config is otherwise untouched).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import pulumi
import pulumi.dynamic

from providers.base import ConfiguredProvider

CALL_BUDGET_SECONDS: Final = 120.0
SECRET_OUTPUTS: Final = ["access_token", "group_access_token", "token"]
OUTPUTS: Final = ("endpoints", "group_endpoint", "access_token", "group_access_token")


@dataclass(frozen=True, kw_only=True)
class ServiceEndpointArgs:
    group: str
    services: Mapping[str, pulumi.Input[str]]  # version → EAS service name
    token: pulumi.Input[str] | None = None  # pass a secret; rotates every member's token


def problems(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if not isinstance(props.get("group"), str) or not props["group"]:
        found.append(("group", "is required"))
    services = props.get("services")
    if not isinstance(services, Mapping) or not services:
        found.append(("services", f"must map each version to its EAS service name; got {services!r}"))
    token = props.get("token")
    if token is not None and (not isinstance(token, str) or len(token) < 16):
        found.append(("token", "must be at least 16 characters; pass it as a secret (pulumi config set --secret)"))
    return found


class ServiceEndpointProvider(ConfiguredProvider):
    """Stateless: SDK imports and clients live inside the methods (the object is pickled into state)."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        failures = [pulumi.dynamic.CheckFailure(prop, reason) for prop, reason in problems(news)]
        return pulumi.dynamic.CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        changed = [key for key in ("group", "services", "token") if olds.get(key) != news.get(key)]
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
        return pulumi.dynamic.CreateResult(f"{reader.region}/{props['group']}", reader.read())

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        reader = _Reader(self._config, news)
        if news.get("token") and news.get("token") != olds.get("token"):
            reader.rotate(str(news["token"]))
        return pulumi.dynamic.UpdateResult(reader.read())

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        return pulumi.dynamic.ReadResult(id_, _Reader(self._config, props).read())

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None  # reading endpoints created nothing


class _Reader:
    def __init__(self, config: Any, props: dict[str, Any]) -> None:
        from providers.clients import ClientFactory

        self.props = props
        self.factory = ClientFactory.from_config(config)
        self.client = self.factory.eas()
        self.region = self.factory.region
        self.group = str(props["group"])
        self.services = {str(v): str(s) for v, s in props["services"].items()}

    def _call(self, what: str, operation: Callable[[], Any]) -> Any:
        from providers import retry
        from providers.waiting import Deadline

        return retry.call(operation, what=f"endpoints of {self.group}: {what}", deadline=Deadline(CALL_BUDGET_SECONDS))

    def rotate(self, token: str) -> None:
        import json

        from alibabacloud_eas20210701 import models as eas

        from providers.waiting import progress

        for service in self.services.values():
            request = eas.UpdateServiceRequest(body=json.dumps({"token": token}), update_type="merge")
            self._call(
                f"rotate the token of {service}",
                lambda s=service, r=request: self.client.update_service(self.region, s, r),
            )
        progress(f"endpoints of {self.group}: token rotated on {', '.join(self.services.values())}")

    def read(self) -> dict[str, Any]:
        group = self._call("read the group", lambda: self.client.describe_group(self.region, self.group)).body
        endpoints: dict[str, dict[str, str]] = {}
        tokens: dict[str, str] = {}
        for version, service in self.services.items():
            body = self._call(
                f"read {service}", lambda s=service: self.client.describe_service_endpoints(self.region, s)
            ).body
            first = (body.endpoints or [None])[0]
            endpoints[version] = {
                "service": service,
                "internet": (first.internet_endpoints or [""])[0] if first else "",
                "intranet": (first.intranet_endpoints or [""])[0] if first else "",
            }
            tokens[version] = str(body.access_token or "")
        return {
            **self.props,
            "endpoints": endpoints,
            "group_endpoint": {
                "internet": str(group.internet_endpoint or ""),
                "intranet": str(group.intranet_endpoint or ""),
            },
            "access_token": tokens,
            "group_access_token": str(group.access_token or ""),
        }


class ServiceEndpoint(pulumi.dynamic.Resource, module="pai", name="ServiceEndpoint"):
    """Registers as ``pulumi-python:dynamic/pai:ServiceEndpoint``; its tokens are always secret."""

    endpoints: pulumi.Output[dict[str, dict[str, str]]]
    group_endpoint: pulumi.Output[dict[str, str]]
    access_token: pulumi.Output[dict[str, str]]
    group_access_token: pulumi.Output[str]

    def __init__(self, name: str, args: ServiceEndpointArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props: dict[str, Any] = {
            "group": args.group,
            "services": dict(args.services),
            "token": args.token,
            **dict.fromkeys(OUTPUTS),
        }
        secret = pulumi.ResourceOptions(additional_secret_outputs=SECRET_OUTPUTS)
        super().__init__(ServiceEndpointProvider(), name, props, pulumi.ResourceOptions.merge(secret, opts))
