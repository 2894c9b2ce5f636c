"""``ApiProbe``: a dynamic resource that proves the stack's credentials reach the PAI APIs it will use.

Put one in a program (``ApiProbe("pai-api-probe", ApiProbeArgs(apis=["eas", "dlc"]))``) and ``pulumi up`` fails
early, naming each API that refused and why (``InvalidAccessKeyId.NotFound``, a wrong region, a proxy), instead
of half-way through a deployment. It makes one cheap read per API (a one-item list) through the shared client
factory and retry policy, and is also the toolkit's end-to-end demonstration: configure() config, credentials,
retries and the provider host round trip (tests/support/test_provider_host.py).

Inputs: ``apis`` (subset of eas, dlc, dsw, oss), ``bucket`` (for oss), ``deadline_seconds`` (default 60).
Outputs: ``region``, ``reachable`` (api → true) and ``requests`` (api → attempts it took). Never credentials.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal

import pulumi
import pulumi.dynamic
from pydantic import ConfigDict, Strict, StrictStr
from pydantic.dataclasses import dataclass as input_model

from config_problems import key
from providers.base import ConfiguredProvider, check_inputs, model_defaults
from providers.props import props_of

API_NAMES: Final = ("eas", "dlc", "dsw", "oss")
DEFAULT_DEADLINE_SECONDS: Final = 60
OUTPUTS: Final = ("region", "reachable", "requests")


@input_model(config=ConfigDict(extra="forbid"), kw_only=True)
class ApiProbeInputs:
    """The inputs of an ``ApiProbe``; ``check`` and the defaults follow it."""

    apis: tuple[Literal["eas", "dlc", "dsw", "oss"], ...] = key(
        "List the APIs to probe, from eas, dlc, dsw and oss", default=API_NAMES[:3], min_length=1
    )
    bucket: StrictStr | None = key("Name the bucket to list when probing oss", default=None, min_length=1)
    deadline_seconds: Annotated[float, Strict()] = key(
        "Give the probe's budget in seconds, e.g. 60", default=DEFAULT_DEADLINE_SECONDS, gt=0
    )


DEFAULTS: Final[Mapping[str, Any]] = model_defaults(ApiProbeInputs)


@dataclass(frozen=True, kw_only=True)
class ApiProbeArgs:
    apis: Sequence[str] = API_NAMES[:3]
    bucket: str | None = None
    deadline_seconds: int = DEFAULT_DEADLINE_SECONDS


def problems(inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(property, reason) for the rules across inputs (after the typed model passed them)."""
    if "oss" in inputs["apis"] and not inputs.get("bucket"):
        return [("bucket", "probing oss needs the bucket to list; set bucket")]
    return []


class ApiProbeProvider(ConfiguredProvider):
    """Stateless: the SDK imports and clients live inside the methods (the object is pickled into state)."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        return check_inputs(ApiProbeInputs, news, resource="ApiProbe", outputs=OUTPUTS, semantic=problems)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        keys = ("apis", "bucket", "deadline_seconds")
        changed = [key for key in keys if olds.get(key) != news.get(key)]
        return pulumi.dynamic.DiffResult(changes=bool(changed), replaces=[], stables=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        outs = self._probe(props)
        return pulumi.dynamic.CreateResult(f"probe-{outs['region']}", outs)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        return pulumi.dynamic.UpdateResult(self._probe(news))

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        return pulumi.dynamic.ReadResult(id_, props)  # it created nothing that could be deleted in the console

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None  # nothing was created

    def _probe(self, props: dict[str, Any]) -> dict[str, Any]:
        from providers import retry
        from providers.clients import ClientFactory
        from providers.waiting import Deadline

        factory = ClientFactory.from_config(self._config)
        deadline = Deadline(float(props.get("deadline_seconds", DEFAULT_DEADLINE_SECONDS)))
        reads = _reads(factory, props.get("bucket"))
        reachable: dict[str, bool] = {}
        requests: dict[str, int] = {}
        refused: list[str] = []
        for api in props["apis"]:
            attempts = 0

            def once(read: Callable[[], object] = reads[api]) -> object:
                nonlocal attempts
                attempts += 1
                return read()

            try:
                retry.call(once, what=f"probe {api}", deadline=deadline)
                reachable[api] = True
            except Exception as error:
                refused.append(f"{api}: {retry.describe(error)}")
            requests[api] = attempts
        if refused:
            raise RuntimeError(
                f"the stack's credentials do not reach every PAI API in region {factory.region}: "
                + "; ".join(refused)
                + ". Check alicloud:region, the access key's RAM permissions and any proxy settings."
            )
        return {**props, "region": factory.region, "reachable": reachable, "requests": requests}


def _reads(factory: Any, bucket: str | None) -> dict[str, Callable[[], object]]:
    from alibabacloud_eas20210701 import models as eas
    from alibabacloud_pai_dlc20201203 import models as dlc
    from alibabacloud_pai_dsw20220101 import models as dsw

    return {
        "eas": lambda: factory.eas().list_services(eas.ListServicesRequest(page_size=1)),
        "dlc": lambda: factory.dlc().list_jobs(dlc.ListJobsRequest(page_size=1)),
        "dsw": lambda: factory.dsw().list_instances(dsw.ListInstancesRequest(page_size=1)),
        "oss": lambda: factory.oss_bucket(str(bucket)).list_objects_v2(max_keys=1),
    }


class ApiProbe(pulumi.dynamic.Resource, module="pai", name="ApiProbe"):
    """Registers as ``pulumi-python:dynamic/pai:ApiProbe``."""

    region: pulumi.Output[str]
    reachable: pulumi.Output[dict[str, bool]]

    def __init__(self, name: str, args: ApiProbeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props = {
            **props_of(args),
            "region": None,
            "reachable": None,
            "requests": None,
        }
        super().__init__(ApiProbeProvider(), name, props, opts)
