"""``TrainingJob``: a PAI-DLC training run as a Pulumi resource that resumes from its checkpoints by itself.

``pulumi up`` submits the run and, with ``wait: completed``, watches it to the end: when a spot instance is
reclaimed (or, with ``resubmit_on: any_failure``, on any failure) it finds the newest complete checkpoint under
``checkpoint_uri`` and submits the next attempt with ``PAI_MLOPS_RESUME_FROM`` pointing at it, until
``max_resubmits`` is spent. Every job it submits carries the resource's key in ``Settings.Tags``, so an
interrupted or retried ``pulumi up`` finds the run it already started and adopts it instead of starting a
second one.

With ``wait: running`` or ``none``, ``pulumi up`` returns while the run goes on, and nothing watches it. The next
``pulumi up --refresh`` follows it: ``read`` records each attempt's status (and whether it was preempted) from
DLC, ``diff`` shows an update when the current attempt is due a resubmission
(:func:`providers.training_attempts.follow_up`), and ``update`` resubmits from the newest checkpoint
(``Run.resume``), adopting first any attempt of the run's key that the state does not record.

How long it waits is measured on the server's clock (each answer's ``Date`` header) from the job's own
timestamps, so a ``pulumi up`` that adopts a run after an interruption keeps the run's original budget:
queuing may take ``queue_timeout_minutes``, running ``max_runtime_minutes`` plus a grace period (DLC is asked to
stop the job itself at ``max_runtime_minutes``). Past the budget the job is stopped and ``pulumi up`` fails.

The inputs and their rules are in :mod:`providers.training_spec`, the DLC request in ``training_request.py``, the
attempts as DLC reports them in ``training_attempts.py``; ``training_run.py`` and ``training_records.py`` talk to DLC
and OSS.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Final

import pulumi
import pulumi.dynamic
from pydantic import ConfigDict, Field, Strict, StrictBool, StrictInt, StrictStr
from pydantic.dataclasses import dataclass as input_model

from config_problems import key
from pai_facts import CODE_MOUNT
from providers import training_spec as spec
from providers.base import ConfiguredProvider, check_inputs
from providers.props import ResourcesInput, props_of
from providers.training_attempts import SUCCEEDED, Attempt, FollowUp, follow_up
from providers.training_records import RunRecords
from providers.training_run import Run
from providers.waiting import progress


@dataclass(frozen=True, kw_only=True)
class DataSource:
    uri: str  # oss://<bucket>/<prefix>/, mounted read-only
    mount_path: str


@dataclass(frozen=True, kw_only=True)
class PodResources:
    """Per pod, on a dedicated resource group / quota."""

    cpu: int
    memory_gb: int
    gpu: int = 0
    gpu_type: str | None = None


@dataclass(frozen=True, kw_only=True)
class CodeSource:
    """A workspace code source (``pai.WorkspaceCodeSource``) and the commit the run trains from."""

    source_id: pulumi.Input[str]
    commit: str | None = None
    branch: str | None = None
    repository: str | None = None  # recorded for provenance; DLC clones through the code source
    mount_path: str = CODE_MOUNT


@dataclass(frozen=True, kw_only=True)
class TrainingJobArgs:
    """Plain values, as the policy pack and ``check`` read them. See the module docstring for the behaviour."""

    job_type: str
    image: str
    command: str
    output_uri: str
    checkpoint_uri: str
    worker_count: int = 1
    roles: Mapping[str, int] = field(default_factory=lambda: {})
    instance_type: str | None = None
    resource_group: str | None = None
    resources: PodResources | None = None
    spot: bool = False
    spot_discount_limit: float | None = None
    checkpoint_interval_minutes: int | None = None
    max_runtime_minutes: int | None = None
    queue_timeout_minutes: int = 60
    data_sources: Sequence[DataSource] = ()
    code: CodeSource | None = None
    workspace_id: pulumi.Input[str] | None = None
    role_arn: pulumi.Input[str] | None = None
    wait: str = "completed"
    max_resubmits: int = 0
    resubmit_on: str = "preemption"
    env: Mapping[str, str] = field(default_factory=lambda: {})
    tags: Mapping[str, str] = field(default_factory=lambda: {})
    description: str = ""
    display_name: str | None = None
    poll_seconds: float = 30
    delete_records: bool = False


OUTPUTS: Final = ("key", "job_id", "status", "attempts", "model_uri", "duration_seconds")
_INPUTS: Final = ConfigDict(extra="forbid")
Number = Annotated[float, Strict()]
Minutes = Annotated[StrictInt, Field(ge=1)]
Text = dict[StrictStr, StrictStr]


@input_model(config=_INPUTS, kw_only=True)
class DataSourceInput:
    uri: StrictStr = key("Give an oss://<bucket>/<prefix>/ location", min_length=1)
    mount_path: StrictStr = key("Give an absolute path such as /mnt/data", min_length=1)


@input_model(config=_INPUTS, kw_only=True)
class CodeSourceInput:
    source_id: StrictStr = key("Give the workspace code source id", min_length=1)
    commit: StrictStr | None = key("Give the commit to train from, or leave it out", default=None)
    branch: StrictStr | None = key("Give the branch, or leave it out", default=None)
    repository: StrictStr | None = key("Give the repository URL, or leave it out", default=None)
    mount_path: StrictStr = key("Give an absolute path", default=CODE_MOUNT, min_length=1)


@input_model(config=_INPUTS, kw_only=True)
class TrainingJobInputs:
    """The inputs of a ``TrainingJob``: ``check`` types them here, then :func:`providers.training_spec.problems`
    applies the rules across inputs. The defaults are ``training_spec.DEFAULTS`` (a test holds them equal)."""

    scope: StrictStr = key("Give <project>/<stack>/<resource name>", min_length=1)
    display_name: StrictStr = key("Give the run's display name", min_length=1)
    job_type: StrictStr = key("Give a DLC job type, e.g. PyTorchJob", min_length=1)
    image: StrictStr = key("Give the training image reference", min_length=1)
    command: StrictStr = key("Give the command every pod runs", min_length=1)
    output_uri: StrictStr = key("Give an oss://<bucket>/<prefix>/ location", min_length=1)
    checkpoint_uri: StrictStr = key("Give an oss://<bucket>/<prefix>/ location", min_length=1)
    worker_count: StrictInt = key("Give the worker pods, at least 1", default=1, ge=1)
    roles: dict[StrictStr, StrictInt] = key("Map extra roles to pod counts, e.g. {Master: 1}", default_factory=dict)
    instance_type: StrictStr | None = key("Give an ECS instance type, or leave it out", default=None)
    resource_group: StrictStr | None = key("Give the quota / resource group id, or leave it out", default=None)
    resources: ResourcesInput | None = key("Give {cpu, memory_gb[, gpu, gpu_type]}", default=None)
    spot: StrictBool = key("Write true or false (not a string)", default=False)
    spot_discount_limit: Number | None = key("Give a fraction above 0 and at most 1, e.g. 0.6", default=None)
    checkpoint_interval_minutes: Minutes | None = key("Give whole minutes, at least 1, or leave it out", default=None)
    max_runtime_minutes: Minutes | None = key("Give whole minutes, at least 1, or leave it out", default=None)
    queue_timeout_minutes: Minutes = key("Give whole minutes, at least 1", default=60)
    data_sources: tuple[DataSourceInput, ...] = key("List {uri, mount_path} objects", default=())
    code: CodeSourceInput | None = key("Give {source_id[, commit, branch]}, or leave it out", default=None)
    role_arn: StrictStr | None = key("Give the DLC RAM role ARN, or leave it out", default=None)
    workspace_id: StrictStr | None = key("Give the PAI workspace id", default=None)
    wait: StrictStr = key("Give none, running or completed", default="completed")
    max_resubmits: StrictInt = key("Give a whole number, 0 or more", default=0, ge=0)
    resubmit_on: StrictStr = key("Give preemption or any_failure", default="preemption")
    env: Text = key("Map variable names to strings", default_factory=dict)
    tags: Text = key("Map tag keys to strings", default_factory=dict)
    description: StrictStr = key("Give a description, or ''", default="")
    poll_seconds: Number = key("Give a positive number of seconds", default=30, gt=0)
    delete_records: StrictBool = key("Write true or false (not a string)", default=False)


class TrainingJobProvider(ConfiguredProvider):
    """Stateless: SDK imports and clients live inside the methods (the object is pickled into state)."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        return check_inputs(TrainingJobInputs, news, resource="TrainingJob", outputs=OUTPUTS, semantic=spec.problems)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        olds, news = spec.with_defaults(olds), spec.with_defaults(news)
        replaces = [name for name in spec.RUN_DEFINING if olds.get(name) != news.get(name)]
        changed = [name for name in (*spec.IN_PLACE, *spec.BEHAVIOUR) if olds.get(name) != news.get(name)]
        # olds are the state's outputs (the engine's DiffRequest.Olds, pulumi/pulumi sdk/go/common/resource/plugin/
        # provider_plugin.go), as the refresh of this `pulumi up --refresh` just read them from DLC.
        due = _follow_up(olds, news)
        if due.warning and not replaces:
            progress(due.warning)
        return pulumi.dynamic.DiffResult(
            changes=bool(replaces or changed or due.resubmit),
            replaces=replaces,
            stables=[],
            # Two jobs of one resource would write the same checkpoint prefix: stop the old one first.
            delete_before_replace=True,
        )

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        run = Run(self._config, spec.with_defaults(props))
        run.adopt()
        if not run.attempts:
            run.submit(resume_from=None)
        run.watch()
        return pulumi.dynamic.CreateResult(run.key, run.outputs())

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        olds, news = spec.with_defaults(olds), spec.with_defaults(news)
        run = Run(self._config, news)
        run.restore(olds)
        if news["description"] != olds["description"] or news["tags"] != olds["tags"]:
            attempts = run.existing()  # a record deleted in the console is skipped, not an error
            if news["description"] != olds["description"]:
                run.describe(news["description"], attempts)
            if news["tags"] != olds["tags"]:
                run.retag(olds["tags"], news["tags"], attempts)
        if _follow_up(olds, news).resubmit:
            run.resume()  # from the newest checkpoint; the new attempt carries the new tags and description
        return pulumi.dynamic.UpdateResult(run.outputs())

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        props = spec.with_defaults(props)
        if not props.get("job_id"):
            return pulumi.dynamic.ReadResult(id_, props)
        run = RunRecords(self._config, props)
        run.restore(props)
        trained = any(attempt.status in SUCCEEDED for attempt in run.attempts)
        if not run.refresh():
            if trained:
                # A run that finished has its model in OSS: its job records being gone (deleted in the console, or
                # by DLC's own retention) must not make the next deploy's refresh drop it and train it again.
                run.report(f"{run.label}: its job records are gone; the finished run stays in state as it was")
                return pulumi.dynamic.ReadResult(id_, props)
            return pulumi.dynamic.ReadResult("", {})  # an unfinished run's records are gone: so is the resource
        return pulumi.dynamic.ReadResult(id_, run.outputs())

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        props = spec.with_defaults(props)
        if not props.get("job_id"):
            return
        run = RunRecords(self._config, props)
        run.restore(props)
        run.stop_current(reason="the resource is being deleted")
        if props["delete_records"]:
            run.delete_records()


def _follow_up(olds: dict[str, Any], news: dict[str, Any]) -> FollowUp:
    attempts = [Attempt.from_output(item) for item in olds.get("attempts") or []]
    return follow_up(f"training job {news['display_name']}", attempts, news)


class TrainingJob(pulumi.dynamic.Resource, module="pai", name="TrainingJob"):
    """Registers as ``pulumi-python:dynamic/pai:TrainingJob``; its id is the run's key."""

    key: pulumi.Output[str]
    job_id: pulumi.Output[str]
    status: pulumi.Output[str]
    attempts: pulumi.Output[list[dict[str, Any]]]
    model_uri: pulumi.Output[str]
    duration_seconds: pulumi.Output[int]

    def __init__(self, name: str, args: TrainingJobArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props: dict[str, Any] = {
            **props_of(args),
            "scope": f"{pulumi.get_project()}/{pulumi.get_stack()}/{name}",
            "display_name": args.display_name or name,
            **dict.fromkeys(OUTPUTS),
        }
        super().__init__(TrainingJobProvider(), name, props, opts)
