"""``EasService``: one EAS service over the EAS SDK, so config changes never undo the autoscaler or leak a token.

Why not pulumi-alicloud's ``pai.Service``: its Read stores the API's copy of the service config and every update
PUTs the whole config, ``metadata.instance`` included (terraform-provider-alicloud
``alicloud/resource_alicloud_pai_service.go``; ``shared/reference/fidelity-audit.md`` T1/S4). That resets an
autoscaled service's instance count on any config change, lets server-added keys show up as diffs, and can bring a
rotated token back into state in plain text. Its create waits 5 minutes for ``Running`` (T2/S5).

This resource, instead:

- **create** ``CreateService`` with the program's config (``metadata.instance`` is the starting count), or
  **adopts** a service of the same name that already exists (a retried ``up``, or a stack moving off
  ``pai.Service``): ``DescribeService`` first, and again after a create that failed ambiguously or was refused;
- **update** ``UpdateService`` with ``UpdateType=merge`` (SDK 7.0.0 ``UpdateServiceRequest.update_type``;
  "merge" is the default) and a body *without* ``metadata.instance``: the EAS docs say an update of only
  ``metadata.instance`` is manual scaling (SDK ``update_service`` summary), so the count stays the autoscaler's;
- **waits** for ``Running`` within ``ready_timeout_seconds`` with progress lines on stderr, and fails naming the
  service, its last status and the reason EAS gives (``Service.Reason``/``Message``);
- **diff** compares the program's config only (canonical JSON, ``metadata.instance`` excluded): keys the API adds
  are never looked at, so they cannot make a diff recur;
- **read** (refresh) projects the API's config onto the keys the program sets, minus ``metadata.instance`` and
  ``token``: a hand edit of a managed key shows as drift; server-added keys and the token never enter state;
- ``role_arn`` (the ``-eas`` RAM role) goes on the wire only, as ``role_arn`` with ``options.enable_ram_role``
  (https://www.alibabacloud.com/help/en/pai/user-guide/configure-the-eas-ram-role: "create a role, grant policies,
  then add the role ARN to the service config"; with a custom role "the system accesses the mounted data sources
  and pulls the custom image with the role's permissions"), so ``service_config`` stays plain and known at preview;
- ``docker_auth`` (a secret input: base64 ``user:password``) goes on the wire only, as ``dockerAuth``, for images
  in a private registry (EAS service config parameters doc, shared/reference/eas-api.md §3);
- ``access_token`` (DescribeService ``AccessToken``) and ``docker_auth`` are always in ``additional_secret_outputs``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Final

import pulumi
import pulumi.dynamic
from pydantic import ConfigDict, Strict, StrictInt, StrictStr
from pydantic.dataclasses import dataclass as input_model

from config_problems import key
from providers.base import ConfiguredProvider, EasWorker, check_inputs
from providers.props import props_of

CALL_BUDGET_SECONDS: Final = 120.0
DEFAULT_READY_SECONDS: Final = 20 * 60  # the official EAS terraform module's create_timeout (fidelity-audit T2)
SECRET_OUTPUTS: Final = ["access_token", "docker_auth"]
OUTPUTS: Final = ("status", "region", "service_id", "access_token")
# Keys never sent on update and never read back: the autoscaler owns the count, ServiceEndpoint the token.
UNMANAGED: Final = (("metadata", "instance"), ("token",))
SETTLED_FAILURES: Final = frozenset({"Failed", "DeleteFailed", "Stopped"})
NAME_PATTERN: Final = r"^[a-z][a-z0-9_]{0,63}$"  # lower-case letters, digits, _ (fidelity-audit E5; 64 E6 UNCONFIRMED)


@input_model(config=ConfigDict(extra="forbid"), kw_only=True)
class EasServiceInputs:
    """What ``check()`` accepts (typed, strict, through ``providers.base.check_inputs``); every failure names the
    input and the fix. Values not known yet at preview (the workspace id, the role ARN) are judged at ``up``."""

    service_name: StrictStr = key(
        "Name the service with lower-case letters, digits and _, at most 64 characters",
        rule="a lower-case EAS service name",
        pattern=NAME_PATTERN,
    )
    service_config: StrictStr = key("Give the EAS service config as a JSON object with a metadata object")
    workspace_id: StrictStr | None = key("Give the PAI workspace id, or leave it out", default=None)
    role_arn: StrictStr | None = key(
        "Give the RAM role ARN EAS runs the service with, acs:ram::<uid>:role/<name>",
        default=None,
        rule="a RAM role ARN",
        pattern=r"^acs:ram::\d+:role/[A-Za-z0-9.-]+$",
    )
    ready_timeout_seconds: StrictInt = key(
        "Give whole seconds to wait for Running (serving.services[].readyTimeoutMinutes)",
        default=DEFAULT_READY_SECONDS,
        ge=1,
        le=24 * 3600,
    )
    poll_seconds: Annotated[float, Strict()] | StrictInt = key(
        "Give a positive number of seconds, at most 300", default=10, gt=0, le=300
    )
    tags: dict[StrictStr, StrictStr] | None = key("Map tag names to strings", default=None)
    docker_auth: StrictStr | None = key("Give base64 of user:password (a secret)", default=None, min_length=4)


def config_problems(inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Rules on ``service_config`` beyond its type, and its name against ``service_name`` (inputs already typed)."""
    try:
        config = json.loads(inputs["service_config"])
    except ValueError as error:
        return [("service_config", f"must be a JSON object; {error}")]
    if not isinstance(config, dict) or not isinstance(config.get("metadata"), dict):
        return [("service_config", "must be a JSON object with a metadata object")]
    if "token" in config or "token" in config["metadata"]:
        return [
            ("service_config", "must not carry the access token (state would show it): set it on ServiceEndpoint.token")
        ]
    instance = config["metadata"].get("instance")
    if not isinstance(instance, int) or isinstance(instance, bool) or instance < 1:
        return [
            ("service_config", f"metadata.instance must be the starting instance count, at least 1; got {instance!r}")
        ]
    name = config["metadata"].get("name")
    if name != inputs["service_name"]:
        return [("service_config", f"metadata.name must equal service_name {inputs['service_name']!r}; got {name!r}")]
    return []


def check_result(props: Mapping[str, Any]) -> pulumi.dynamic.CheckResult:
    return check_inputs(
        EasServiceInputs,
        props,
        resource="EasService",
        outputs=OUTPUTS,
        secrets=("docker_auth",),
        semantic=config_problems,
    )


def check_failures(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(input, reason) for every invalid input, as ``check`` reports them."""
    return [(failure.property, failure.reason) for failure in check_result(props).failures or []]


def canonical(config: Mapping[str, Any]) -> str:
    return json.dumps(config, sort_keys=True, separators=(",", ":"))


def without_unmanaged(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config minus what this resource never changes (``metadata.instance``, ``token``)."""
    result = copy.deepcopy(dict(config))
    for path in UNMANAGED:
        parent: Any = result
        for part in path[:-1]:
            parent = parent.get(part) if isinstance(parent, dict) else None
        if isinstance(parent, dict):
            parent.pop(path[-1], None)
    return result


def project(actual: Any, wanted: Any) -> Any:
    """``actual`` reduced to the keys ``wanted`` has (recursively into objects); server-added keys drop out."""
    if isinstance(wanted, dict) and isinstance(actual, dict):
        return {key: project(actual[key], value) for key, value in wanted.items() if key in actual}
    return actual


def update_body(props: Mapping[str, Any], olds: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The UpdateService (merge) body: the program's config without ``metadata.instance``, plus role and auth.

    A merge keeps keys the body leaves out, so burst turned off (``metadata.resource_burstable`` in the old config,
    not in the new) is sent as an explicit ``false``; the old ``cloud`` keys stay on the service, unread by a
    dedicated group without the pool (UNCONFIRMED, docs/day-one.md).
    """
    config = without_unmanaged(json.loads(props["service_config"]))
    old = json.loads(olds["service_config"]).get("metadata", {}) if olds else {}
    if old.get("resource_burstable") and "resource_burstable" not in config.get("metadata", {}):
        config.setdefault("metadata", {})["resource_burstable"] = False
    return on_the_wire(config, props)


def on_the_wire(config: dict[str, Any], props: Mapping[str, Any]) -> dict[str, Any]:
    """What only the request carries: the RAM role and the registry credentials (``dockerAuth``)."""
    if props.get("role_arn"):
        config["role_arn"] = props["role_arn"]
        config.setdefault("options", {})["enable_ram_role"] = True
    if props.get("docker_auth"):
        config["dockerAuth"] = props["docker_auth"]
    return config


def managed_view(props: Mapping[str, Any]) -> str:
    """What diff compares: the program's config, canonical, without ``metadata.instance``."""
    return canonical(without_unmanaged(json.loads(props["service_config"])))


class ServiceNotReady(Exception):
    """The service did not reach Running: the message names it, its last status and EAS's reason."""


@dataclass(frozen=True, kw_only=True)
class EasServiceArgs:
    service_name: str
    service_config: str  # canonical JSON built from plain config (components/eas_config.py)
    workspace_id: pulumi.Input[str] | None = None
    role_arn: pulumi.Input[str] | None = None
    ready_timeout_seconds: int = DEFAULT_READY_SECONDS
    poll_seconds: float = 10.0
    tags: pulumi.Input[Mapping[str, str]] | None = None  # EAS service labels (CreateService Labels, UpdateServiceLabel)
    docker_auth: pulumi.Input[str] | None = None  # a secret: base64 user:password of a private registry (dockerAuth)


class EasServiceProvider(ConfiguredProvider):
    """Stateless: SDK imports and clients live inside the methods (the object is pickled into state)."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        return check_result(news)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        changed = [k for k in ("service_name", "workspace_id", "role_arn", "docker_auth") if olds.get(k) != news.get(k)]
        old_group = json.loads(olds["service_config"])["metadata"].get("group")
        new_group = json.loads(news["service_config"])["metadata"].get("group")
        if managed_view(olds) != managed_view(news):
            changed.append("service_config")
        for name in ("ready_timeout_seconds", "poll_seconds", "tags"):
            if olds.get(name) != news.get(name):
                changed.append(name)
        # A service cannot move to another group or workspace in place; a new name is a new service.
        replaces = [k for k in ("service_name", "workspace_id") if k in changed]
        if old_group != new_group:
            replaces.append("service_config")
        return pulumi.dynamic.DiffResult(
            changes=bool(changed), replaces=replaces, stables=[], delete_before_replace=True
        )

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        service = _Service(self._config, props)
        service.create_or_adopt()
        return pulumi.dynamic.CreateResult(service.name, service.outputs(service.wait_running()))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        service = _Service(self._config, news)
        wire = ("role_arn", "docker_auth")
        if managed_view(olds) != managed_view(news) or any(olds.get(k) != news.get(k) for k in wire):
            service.merge_update(olds)
        if (olds.get("tags") or {}) != (news.get("tags") or {}) and news.get("tags"):
            service.label()
        return pulumi.dynamic.UpdateResult(service.outputs(service.wait_running()))

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        service = _Service(self._config, props)
        body = service.describe()
        if body is None:
            return pulumi.dynamic.ReadResult("", {})
        wanted = json.loads(props["service_config"])
        actual = json.loads(body.service_config or "{}")
        # Keep the program's own metadata.instance (the autoscaler owns the live count) and never read the token.
        seen = project(without_unmanaged(actual), without_unmanaged(wanted))
        seen.setdefault("metadata", {})["instance"] = wanted["metadata"]["instance"]
        return pulumi.dynamic.ReadResult(id_, {**service.outputs(body), "service_config": canonical(seen)})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        _Service(self._config, props).delete()


class _Service(EasWorker):
    call_budget_seconds = CALL_BUDGET_SECONDS

    def describe(self) -> Any | None:
        from providers import retry

        try:
            return self._call("read", lambda: self.client.describe_service(self.region, self.name)).body
        except Exception as error:
            if retry.is_not_found(error):
                return None
            raise

    def create_or_adopt(self) -> None:
        from alibabacloud_eas20210701 import models as eas

        from providers import retry
        from providers.waiting import progress

        if self.describe() is not None:
            progress(f"EAS service {self.name}: exists; adopting it (config merged, instance count left alone)")
            self.merge_update()
            return
        config = on_the_wire(json.loads(self.props["service_config"]), self.props)
        request = eas.CreateServiceRequest(body=json.dumps(config))
        request.workspace_id = self.props.get("workspace_id")  # the SDK types these as required; both are optional
        request.labels = dict(self.props.get("tags") or {}) or None
        try:
            self._call("create", lambda: self.client.create_service(request), idempotent=False)
        except Exception as error:
            # Refused because it exists (the code is unconfirmed), or lost on the way: look before failing.
            ambiguous = isinstance(error, retry.AmbiguousOutcome) or (retry.status_of(error) or 0) in (400, 409)
            if not ambiguous or self.describe() is None:
                raise
            progress(f"EAS service {self.name}: found after an unclear create ({retry.code_of(error)}); adopting it")
            self.merge_update()
            return
        progress(f"EAS service {self.name}: created")

    def merge_update(self, olds: Mapping[str, Any] | None = None) -> None:
        from alibabacloud_eas20210701 import models as eas

        from providers.waiting import progress

        self.wait_settled()
        request = eas.UpdateServiceRequest(body=json.dumps(update_body(self.props, olds)), update_type="merge")
        self._call("update", lambda: self.client.update_service(self.region, self.name, request))
        progress(f"EAS service {self.name}: config merged (metadata.instance left to the autoscaler)")

    def label(self) -> None:
        from alibabacloud_eas20210701 import models as eas

        request = eas.UpdateServiceLabelRequest(labels=dict(self.props.get("tags") or {}))
        self._call("label", lambda: self.client.update_service_label(self.region, self.name, request))

    def wait_settled(self) -> None:
        """Wait out a transition in progress (EAS refuses an update while Creating/Updating)."""
        from providers.waiting import Deadline, Poll, wait_for

        wait_for(
            self.describe,
            done=lambda body: body is None or body.status not in ("Creating", "Updating", "Starting", "Stopping"),
            describe=_state,
            what=f"EAS service {self.name} (before updating)",
            deadline=Deadline(float(self.props.get("ready_timeout_seconds") or DEFAULT_READY_SECONDS)),
            poll=Poll(interval=float(self.props.get("poll_seconds") or 10)),
        )

    def wait_running(self) -> Any:
        from providers.waiting import Deadline, DeadlineExceeded, Poll, wait_for

        budget = float(self.props.get("ready_timeout_seconds") or DEFAULT_READY_SECONDS)
        last: list[Any] = [None]

        def read() -> Any:
            last[0] = self.describe()
            return last[0]

        try:
            body = wait_for(
                read,
                done=lambda body: body is None or body.status == "Running" or body.status in SETTLED_FAILURES,
                describe=_state,
                what=f"EAS service {self.name}",
                deadline=Deadline(budget),
                poll=Poll(interval=float(self.props.get("poll_seconds") or 10), heartbeat=60.0),
            )
        except DeadlineExceeded:
            raise ServiceNotReady(
                f"EAS service {self.name} is not Running after {budget:.0f}s: last status {_state(last[0])}. "
                "Raise pai-mlops:serving services[].readyTimeoutMinutes if it legitimately needs longer (GPU and "
                "custom-image services often do), or read its events in the EAS console."
            ) from None
        if body is None:
            raise ServiceNotReady(f"EAS service {self.name} disappeared while waiting for Running (deleted by hand?)")
        if body.status != "Running":
            raise ServiceNotReady(
                f"EAS service {self.name} ended {_state(body)} instead of Running. Fix the cause, then run "
                "`pulumi up` again (the service is adopted, not created twice)."
            )
        return body

    def outputs(self, body: Any) -> dict[str, Any]:
        return {
            **self.props,
            "status": str(body.status or ""),
            "region": self.region,
            "service_id": str(body.service_id or ""),
            "access_token": str(body.access_token or ""),
        }

    def delete(self) -> None:
        from providers import retry
        from providers.waiting import Deadline, Poll, wait_for

        try:
            self._call("delete", lambda: self.client.delete_service(self.region, self.name))
        except Exception as error:
            if retry.is_not_found(error):
                return
            raise
        wait_for(
            self.describe,
            done=lambda body: body is None,
            describe=_state,
            what=f"EAS service {self.name} (deleting)",
            deadline=Deadline(float(self.props.get("ready_timeout_seconds") or DEFAULT_READY_SECONDS)),
            poll=Poll(interval=float(self.props.get("poll_seconds") or 10)),
        )


def _state(body: Any) -> str:
    """``Waiting (Reason: message) 0/2 running``: what progress lines and failures show."""
    if body is None:
        return "gone"
    reason = " ".join(str(part) for part in (body.reason, body.message) if part)
    instances = f" {body.running_instance or 0}/{body.total_instance or 0} running" if body.total_instance else ""
    return f"{body.status}{f' ({reason})' if reason else ''}{instances}"


class EasService(pulumi.dynamic.Resource, module="pai", name="EasService"):
    """Registers as ``pulumi-python:dynamic/pai:EasService``; its id is the EAS service name; its token is secret."""

    status: pulumi.Output[str]
    service_id: pulumi.Output[str]
    access_token: pulumi.Output[str]

    def __init__(self, name: str, args: EasServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props: dict[str, Any] = {**props_of(args), **dict.fromkeys(OUTPUTS)}
        secret = pulumi.ResourceOptions(additional_secret_outputs=SECRET_OUTPUTS)
        super().__init__(EasServiceProvider(), name, props, pulumi.ResourceOptions.merge(secret, opts))
