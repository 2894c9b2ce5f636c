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

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import pulumi
import pulumi.dynamic

from providers.base import ConfiguredProvider, check_inputs, confirmed
from providers.notebook_spec import (
    BEHAVIOUR,
    IN_PLACE,
    MACHINE,
    REPLACE,
    RUNNING,
    SETTLED,
    DswInstanceInputs,
    instance_body,
    machine_body,
    problems,
    settings_body,
    with_defaults,
)
from providers.props import plain, props_of

CALL_BUDGET_SECONDS: Final = 120.0


OUTPUTS: Final = ("instance_id", "status", "jupyterlab_url", "webide_url")


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
