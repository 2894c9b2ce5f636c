"""``DswInstance``: a PAI-DSW notebook as a Pulumi resource that is Running when ``pulumi up`` returns.

Inputs: ``instance_name`` (letters, digits, ``_``, ≤ 27), ``workspace_id``, the machine — ``instance_type`` on shared
(pay-as-you-go) resources, or ``resource_group`` with ``resources`` {cpu, memory_gb, gpu, gpu_type} — ``image_url``
(a custom image) or ``image_id`` (a built-in one), ``datasets`` ([{dataset_id, mount_path}], mounted read-only: the
data is read in place from OSS, never copied to the instance disk), ``role_arn`` (the DSW RAM role, injected through
``CredentialConfig``), ``vpc`` {vpc_id, vswitch_id, security_group_id}, ``idle_shutdown_minutes`` (the idle culler;
0 = never), ``env``, ``labels``, ``tags``, ``start_command`` (run on every start, e.g. a git clone),
``wait_timeout_seconds`` and ``poll_seconds``.

What a change does (``diff``): the name, workspace, VPC, resource group or tags **replace** the notebook (DSW has
no API to change them; a replaced notebook loses its instance disk); the machine type, image or pod resources need
the instance **stopped**, updated and started again; datasets, env, role, start command, labels and the idle
culler change **in place**. ``create`` adopts an instance of the same name in the workspace (a retried ``pulumi
up`` never starts a second one); ``read`` refreshes status and URLs; ``delete`` removes it and waits until it is
gone. Every wait has a deadline; progress goes to stderr.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Final

import pulumi
import pulumi.dynamic
from pydantic import ConfigDict, Field, Strict, StrictInt, StrictStr
from pydantic.dataclasses import dataclass as input_model

from config_problems import key
from providers.base import ConfiguredProvider, check_inputs, confirmed, model_defaults
from providers.props import ResourcesInput, dsw_requested_resource, plain, props_of, service_role

CALL_BUDGET_SECONDS: Final = 120.0
_NAME = re.compile(r"^[A-Za-z0-9_]{1,27}$")
_INPUTS: Final = ConfigDict(extra="forbid")
Seconds = Annotated[float, Strict(), Field(gt=0)]
Labels = dict[StrictStr, StrictStr]
# Statuses in which DSW takes an update (tests/emulator/dsw.py SETTLED): anything else is waited out first.
SETTLED: Final = frozenset({"Running", "Stopped", "Failed"})


@input_model(config=_INPUTS, kw_only=True)
class DatasetInput:
    dataset_id: StrictStr = key("Give the workspace dataset id", min_length=1)
    mount_path: StrictStr = key("Give an absolute path, e.g. /mnt/data", pattern=r"^/", rule="an absolute path")


@input_model(config=_INPUTS, kw_only=True)
class VpcInput:
    vpc_id: StrictStr = key("Give the VPC id", min_length=1)
    vswitch_id: StrictStr = key("Give the vSwitch id", min_length=1)
    security_group_id: StrictStr = key("Give the security group id", min_length=1)


@input_model(config=_INPUTS, kw_only=True)
class DswInstanceInputs:
    """The inputs of a ``DswInstance``; ``check`` and the defaults follow it."""

    instance_name: StrictStr = key("Name the notebook with 1-27 letters, digits or underscores", min_length=1)
    workspace_id: StrictStr | None = key("Give the PAI workspace id", default=None)
    instance_type: StrictStr | None = key("Give an ECS instance type, e.g. 'ecs.g6.xlarge'", default=None)
    resource_group: StrictStr | None = key("Give the dedicated resource group id, or leave it out", default=None)
    resources: ResourcesInput | None = key("Give {cpu, memory_gb[, gpu, gpu_type]}", default=None)
    image_url: StrictStr | None = key("Give a custom image reference", default=None)
    image_id: StrictStr | None = key("Give a built-in image id", default=None)
    datasets: tuple[DatasetInput, ...] = key("List {dataset_id, mount_path} objects", default=())
    role_arn: StrictStr | None = key("Give the DSW RAM role ARN, or leave it out", default=None)
    vpc: VpcInput | None = key("Give {vpc_id, vswitch_id, security_group_id}, or leave it out", default=None)
    idle_shutdown_minutes: StrictInt = key("Give whole minutes, 0 (never) or more", default=60, ge=0)
    env: Labels = key("Map variable names to strings", default_factory=dict)
    labels: Labels = key("Map label keys to strings", default_factory=dict)
    tags: Labels = key("Map tag keys to strings", default_factory=dict)
    start_command: StrictStr = key("Give the command run on every start, or ''", default="")
    wait_timeout_seconds: Seconds = key("Give a positive number of seconds, e.g. 1800", default=1800)
    poll_seconds: Seconds = key("Give a positive number of seconds, e.g. 10", default=10)


DEFAULTS: Final[Mapping[str, Any]] = model_defaults(DswInstanceInputs)
REPLACE: Final = ("instance_name", "workspace_id", "vpc", "resource_group", "tags")
MACHINE: Final = ("instance_type", "image_url", "image_id", "resources")
IN_PLACE: Final = ("datasets", "env", "role_arn", "start_command", "labels", "idle_shutdown_minutes")
BEHAVIOUR: Final = ("wait_timeout_seconds", "poll_seconds")
OUTPUTS: Final = ("instance_id", "status", "jupyterlab_url", "webide_url")
RUNNING: Final = "Running"


class NotebookFailed(Exception):
    """The notebook did not reach the state asked for; the message names its status and reason."""


@dataclass(frozen=True, kw_only=True)
class Dataset:
    dataset_id: pulumi.Input[str]
    mount_path: str


@dataclass(frozen=True, kw_only=True)
class NotebookResources:
    cpu: int
    memory_gb: int
    gpu: int = 0
    gpu_type: str | None = None


@dataclass(frozen=True, kw_only=True)
class Vpc:
    vpc_id: str
    vswitch_id: str
    security_group_id: str


@dataclass(frozen=True, kw_only=True)
class DswInstanceArgs:
    instance_name: str
    workspace_id: pulumi.Input[str] | None = None
    instance_type: str | None = None
    resource_group: str | None = None
    resources: NotebookResources | None = None
    image_url: str | None = None
    image_id: str | None = None
    datasets: Sequence[Dataset] = ()
    role_arn: pulumi.Input[str] | None = None
    vpc: Vpc | None = None
    idle_shutdown_minutes: int = 60
    env: Mapping[str, str] = field(default_factory=lambda: {})
    labels: Mapping[str, str] = field(default_factory=lambda: {})
    tags: Mapping[str, str] = field(default_factory=lambda: {})
    start_command: str = ""
    wait_timeout_seconds: int = 1800
    poll_seconds: float = 10


def with_defaults(props: Mapping[str, Any]) -> dict[str, Any]:
    return plain({**DEFAULTS, **{k: v for k, v in props.items() if v is not None or k not in DEFAULTS}})


def problems(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(input, reason) for the rules across inputs (after the typed model passed them)."""
    found: list[tuple[str, str]] = []
    name = props["instance_name"]
    if not _NAME.match(name):
        found.append(("instance_name", f"must be 1-27 letters, digits or underscores; got {name!r}"))
    if props.get("resource_group"):
        if props.get("instance_type"):
            found.append(("instance_type", "applies to shared resources only; size the notebook with resources"))
        if not props.get("resources"):
            found.append(("resources", "a dedicated resource group needs resources {cpu, memory_gb[, gpu]}"))
    elif not str(props.get("instance_type") or "").startswith("ecs."):
        found.append(
            ("instance_type", f"shared resources need an ECS instance type; got {props.get('instance_type')!r}")
        )
    if bool(props.get("image_url")) == bool(props.get("image_id")):
        found.append(("image_url", "give exactly one of image_url (a custom image) and image_id (a built-in one)"))
    return found


def instance_body(props: Mapping[str, Any]) -> dict[str, Any]:
    """The CreateInstance body (wire names)."""
    body: dict[str, Any] = {"InstanceName": props["instance_name"], **machine_body(props), **settings_body(props)}
    if props.get("workspace_id"):
        body["WorkspaceId"] = props["workspace_id"]
    if props.get("resource_group"):
        body["ResourceId"] = props["resource_group"]
    vpc = props.get("vpc")
    if vpc:
        body["UserVpc"] = {
            "VpcId": vpc["vpc_id"],
            "VSwitchId": vpc["vswitch_id"],
            "SecurityGroupId": vpc["security_group_id"],
        }
    body["Labels"] = [{"Key": k, "Value": str(v)} for k, v in sorted((props.get("labels") or {}).items())]
    body["Tag"] = [{"Key": k, "Value": str(v)} for k, v in sorted((props.get("tags") or {}).items())]
    return body


def machine_body(props: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if props.get("resource_group"):
        body["RequestedResource"] = dsw_requested_resource(props["resources"])
    else:
        body["EcsSpec"] = props["instance_type"]
    if props.get("image_url"):
        body["ImageUrl"] = props["image_url"]
    else:
        body["ImageId"] = props["image_id"]
    return body


def settings_body(props: Mapping[str, Any]) -> dict[str, Any]:
    """What UpdateInstance can change at any status. The SDK always sends ``Datasets``, so they are always given."""
    body: dict[str, Any] = {
        "Datasets": [
            {"DatasetId": d["dataset_id"], "MountPath": d["mount_path"], "MountAccess": "RO"}
            for d in props.get("datasets") or []
        ],
        "EnvironmentVariables": {str(k): str(v) for k, v in (props.get("env") or {}).items()},
    }
    if props.get("role_arn"):
        body["CredentialConfig"] = {
            "Enable": True,
            "Configs": [{"Key": "default", "Type": "Role", "Roles": [service_role(props["role_arn"])]}],
        }
    if props.get("start_command"):
        body["UserCommand"] = {"OnStart": {"Content": props["start_command"]}}
    return body


class DswInstanceProvider(ConfiguredProvider):
    """Stateless: SDK imports and clients live inside the methods (the object is pickled into state)."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        return check_inputs(DswInstanceInputs, news, resource="DswInstance", outputs=OUTPUTS, semantic=problems)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        olds, news = with_defaults(olds), with_defaults(news)
        changed = [k for k in (*REPLACE, *MACHINE, *IN_PLACE, *BEHAVIOUR) if olds.get(k) != news.get(k)]
        return pulumi.dynamic.DiffResult(
            changes=bool(changed),
            replaces=[k for k in changed if k in REPLACE],
            stables=[],
            delete_before_replace=True,  # the name is unique in the workspace
        )

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        notebook = _Notebook(self._config, with_defaults(props))
        instance_id = notebook.find() or notebook.submit()
        notebook.start_if_stopped(instance_id)
        notebook.set_culler(instance_id, previous=None)
        return pulumi.dynamic.CreateResult(instance_id, notebook.outputs(notebook.wait(instance_id, RUNNING)))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        olds, news = with_defaults(olds), with_defaults(news)
        notebook = _Notebook(self._config, news)
        view = notebook.update(id_, olds)
        return pulumi.dynamic.UpdateResult(notebook.outputs(view))

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        notebook = _Notebook(self._config, with_defaults(props))
        view = notebook.get(id_)
        return pulumi.dynamic.ReadResult(id_, notebook.outputs(view)) if view else pulumi.dynamic.ReadResult("", {})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        _Notebook(self._config, with_defaults(props)).delete(id_)


class _Notebook:
    def __init__(self, config: Any, props: dict[str, Any]) -> None:
        from providers.clients import ClientFactory
        from providers.waiting import progress

        self.props = props
        self.client = ClientFactory.from_config(config).dsw()
        self.label = f"notebook {props['instance_name']}"
        self.report: Callable[[str], None] = progress

    def outputs(self, view: Mapping[str, Any]) -> dict[str, Any]:
        return {
            **self.props,
            "instance_id": view.get("InstanceId"),
            "status": view.get("Status"),
            "jupyterlab_url": view.get("JupyterlabUrl") or "",
            "webide_url": view.get("WebIDEUrl") or "",
        }

    def _call(self, what: str, operation: Callable[[], Any], *, idempotent: bool = True) -> Any:
        from providers import retry
        from providers.waiting import Deadline

        return retry.call(
            operation, what=f"{self.label}: {what}", deadline=Deadline(CALL_BUDGET_SECONDS), idempotent=idempotent
        )

    def get(self, instance_id: str) -> dict[str, Any] | None:
        from alibabacloud_pai_dsw20220101 import models as dsw

        from providers import retry

        try:
            body = self._call("read", lambda: self.client.get_instance(instance_id, dsw.GetInstanceRequest())).body
        except Exception as error:
            if retry.is_not_found(error):
                return None
            raise
        return body.to_map()

    def find(self) -> str | None:
        """An instance with this name in the workspace: created by an earlier, interrupted ``create``."""
        from alibabacloud_pai_dsw20220101 import models as dsw

        request = dsw.ListInstancesRequest(
            instance_name=self.props["instance_name"], workspace_id=self.props["workspace_id"], page_size=100
        )
        body = self._call("look for it", lambda: self.client.list_instances(request)).body
        for item in body.instances or []:
            if item.instance_name == self.props["instance_name"]:
                self.report(f"{self.label}: adopting {item.instance_id}, created by an earlier pulumi up")
                return str(item.instance_id)
        return None

    def submit(self) -> str:
        from alibabacloud_pai_dsw20220101 import models as dsw

        from providers.retry import AmbiguousOutcome

        request = dsw.CreateInstanceRequest().from_map(instance_body(self.props))
        try:
            body = self._call("create", lambda: self.client.create_instance(request), idempotent=False).body
        except AmbiguousOutcome as error:
            self.report(f"{error}; looking for it before creating it again")
            found = self.find()
            if found is None:
                raise NotebookFailed(
                    f"{self.label}: DSW did not answer the create and the instance is not listed; "
                    f"run pulumi up again (it looks first)"
                ) from error
            return found
        self.report(f"{self.label}: created {body.instance_id}")
        return str(body.instance_id)

    def wait(self, instance_id: str, wanted: str) -> dict[str, Any]:
        from providers.waiting import Deadline, Poll, wait_for

        def read() -> dict[str, Any]:
            view = self.get(instance_id)
            if view is None:
                raise NotebookFailed(f"{self.label}: {instance_id} disappeared while waiting for {wanted}")
            return view

        def done(view: Mapping[str, Any]) -> bool:
            status = view.get("Status")
            reason = ": ".join(str(x) for x in (view.get("ReasonCode"), view.get("ReasonMessage")) if x)
            if status == "Failed" and wanted != "Failed":
                raise NotebookFailed(f"{self.label}: {instance_id} is Failed ({reason or 'no reason given'})")
            if status == "Stopped" and wanted == RUNNING:  # stopped under us: by the idle culler or someone
                raise NotebookFailed(
                    f"{self.label}: {instance_id} stopped while pai-mlops waited for it to run "
                    f"({reason or 'no reason given'}); run pulumi up again to start it"
                )
            return status == wanted

        return wait_for(
            read,
            done=done,
            describe=lambda view: str(view.get("Status")),
            what=f"{self.label} ({instance_id}) to be {wanted}",
            deadline=Deadline(float(self.props["wait_timeout_seconds"])),
            poll=Poll(interval=float(self.props["poll_seconds"])),
        )

    def start_if_stopped(self, instance_id: str) -> None:
        """An adopted notebook may have been stopped since (the idle culler): start it again."""
        view = self.get(instance_id)
        if view is not None and view.get("Status") == "Stopped":
            self.report(f"{self.label}: starting {instance_id}, which was stopped")
            self._call("start", lambda: self.client.start_instance(instance_id))

    def set_culler(self, instance_id: str, previous: int | None) -> None:
        from alibabacloud_pai_dsw20220101 import models as dsw

        from providers import retry

        minutes = int(self.props["idle_shutdown_minutes"])
        if previous == minutes:
            return
        if previous:
            try:
                self._call("remove the idle culler", lambda: self.client.delete_idle_instance_culler(instance_id))
            except Exception as error:
                if not retry.is_not_found(error):
                    raise
        if minutes:
            request = dsw.CreateIdleInstanceCullerRequest(max_idle_time_in_minutes=minutes)
            self._call("set the idle culler", lambda: self.client.create_idle_instance_culler(instance_id, request))

    def settle(self, instance_id: str) -> dict[str, Any]:
        """The notebook once DSW takes a change (Running, Stopped or Failed): a start, an update or a stop in
        progress, by pai-mlops or someone else, is waited out within ``wait_timeout_seconds``."""
        from providers.waiting import Deadline, Poll, wait_for

        def read() -> dict[str, Any]:
            view = self.get(instance_id)
            if view is None:
                raise NotebookFailed(
                    f"{self.label}: {instance_id} no longer exists; run pulumi refresh, then pulumi up"
                )
            return view

        return wait_for(
            read,
            done=lambda view: view.get("Status") in SETTLED,
            describe=lambda view: str(view.get("Status")),
            what=f"{self.label} ({instance_id}) to settle before it changes",
            deadline=Deadline(float(self.props["wait_timeout_seconds"])),
            poll=Poll(interval=float(self.props["poll_seconds"])),
        )

    def _stop(self, instance_id: str) -> None:
        from alibabacloud_pai_dsw20220101 import models as dsw

        def stopping() -> bool:
            return (self.get(instance_id) or {}).get("Status") in ("Stopping", "Stopped")

        confirmed(
            lambda: self._call(
                "stop", lambda: self.client.stop_instance(instance_id, dsw.StopInstanceRequest()), idempotent=False
            ),
            stopping,
            what=f"{self.label}: stop",
        )

    def _apply(self, instance_id: str, patch: dict[str, Any]) -> None:
        """UpdateInstance, confirmed by reading the notebook back when the answer is lost (DSW refuses the same
        update again while it is applying the first one)."""
        from alibabacloud_pai_dsw20220101 import models as dsw

        request = dsw.UpdateInstanceRequest().from_map(patch)
        shown = ("EcsSpec", "ImageUrl", "ImageId", "RequestedResource", "EnvironmentVariables")

        def took_effect() -> bool:
            view = self.get(instance_id) or {}
            compared = [k for k in shown if k in patch and k in view]  # what GetInstance echoes back
            return bool(compared) and all(plain(view[k]) == plain(patch[k]) for k in compared)

        confirmed(
            lambda: self._call("update", lambda: self.client.update_instance(instance_id, request), idempotent=False),
            took_effect,
            what=f"{self.label}: update",
        )

    def update(self, instance_id: str, olds: Mapping[str, Any]) -> dict[str, Any]:
        machine = [key for key in MACHINE if olds.get(key) != self.props.get(key)]
        settings = [
            key for key in ("datasets", "env", "role_arn", "start_command") if olds.get(key) != self.props.get(key)
        ]
        view = self.settle(instance_id)
        if machine or settings:
            patch = settings_body(self.props)
            if machine:
                patch.update(machine_body(self.props))
                if view.get("Status") != "Stopped":
                    self.report(f"{self.label}: stopping {instance_id} to change {', '.join(machine)}")
                    self._stop(instance_id)
                    self.wait(instance_id, "Stopped")
                patch["StartInstance"] = True
            self._apply(instance_id, patch)
        self._relabel(instance_id, olds.get("labels") or {})
        self.set_culler(instance_id, previous=int(olds.get("idle_shutdown_minutes") or 0))
        return self.wait(instance_id, RUNNING) if machine or settings else (self.get(instance_id) or view)

    def _relabel(self, instance_id: str, old: Mapping[str, str]) -> None:
        from alibabacloud_pai_dsw20220101 import models as dsw

        new: Mapping[str, str] = self.props.get("labels") or {}
        if new != old and new:
            labels = [dsw.UpdateInstanceLabelsRequestLabels(key=k, value=str(v)) for k, v in sorted(new.items())]
            request = dsw.UpdateInstanceLabelsRequest(labels=labels)
            self._call("label", lambda: self.client.update_instance_labels(instance_id, request))
        dropped = sorted(set(old) - set(new))
        if dropped:
            remove = dsw.DeleteInstanceLabelsRequest(label_keys=",".join(dropped))
            self._call("unlabel", lambda: self.client.delete_instance_labels(instance_id, remove))

    def delete(self, instance_id: str) -> None:
        from providers import retry

        try:
            self._call("delete", lambda: self.client.delete_instance(instance_id))
        except Exception as error:
            if retry.is_not_found(error):
                return
            raise
        started = time.monotonic()
        while self.get(instance_id) is not None:
            if time.monotonic() - started > float(self.props["wait_timeout_seconds"]):
                raise NotebookFailed(f"{self.label}: {instance_id} is still not gone; delete it in the PAI console")
            time.sleep(float(self.props["poll_seconds"]))
        self.report(f"{self.label}: deleted {instance_id}")


class DswInstance(pulumi.dynamic.Resource, module="pai", name="DswInstance"):
    """Registers as ``pulumi-python:dynamic/pai:DswInstance``; its id is the DSW instance id."""

    instance_id: pulumi.Output[str]
    status: pulumi.Output[str]
    jupyterlab_url: pulumi.Output[str]
    webide_url: pulumi.Output[str]

    def __init__(self, name: str, args: DswInstanceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props: dict[str, Any] = {**props_of(args), **dict.fromkeys(OUTPUTS)}
        super().__init__(DswInstanceProvider(), name, props, opts)
