"""Run Pulumi code under Pulumi's own mock engine and record every resource it registers.

Used by the offline plan (``make plan``) and by the tests. The program and components run
unchanged; only the engine is replaced: each registration is recorded with its type, name,
parent, inputs and options (after the stack transforms, which the mock monitor stores but does not
run — we run them here in registration order, as the engine does). Provider functions (invokes) are
not mocked: calling one raises, so nothing silently depends on an unmocked cloud lookup.

With ``preview=True`` the engine answers like a real ``pulumi preview`` for resources that do not
exist yet: outputs are the inputs echoed back, ids and computed outputs (ARNs) are unknown, so a
value built from them is unknown too — exactly what a policy sees at preview.
"""

from __future__ import annotations

import asyncio
import gc
import json
import runpy
import threading
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pulumi
import yaml
from google.protobuf import json_format
from pulumi.runtime.mocks import MockMonitor

from tools.stack_file import read_stack_file

ROOT: Final = Path(__file__).resolve().parent.parent
MOCK_ACCOUNT_ID: Final = "123456789012"
SECRET_PLACEHOLDER: Final = "[secret]"
STACK_REFERENCE: Final = "pulumi:pulumi:StackReference"


@dataclass(frozen=True)
class Registration:
    """One resource as the engine saw it.

    ``inputs`` are the wire (camelCase) properties as the mocks receive them: secrets unwrapped,
    values unknown at preview as None. ``properties`` are the same inputs in the form the engine
    sends a policy pack (protobuf Struct as JSON): secrets wrapped in Pulumi's secret signature,
    unknown values as Pulumi's unknown sentinel, numbers as floats.
    """

    type: str
    name: str
    urn: str
    parent_urn: str
    custom: bool
    inputs: Mapping[str, Any]
    properties: Mapping[str, Any] = field(default_factory=lambda: {})
    protect: bool = False
    additional_secret_outputs: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: {})
    retain_on_delete: bool = False
    ignore_changes: tuple[str, ...] = ()  # the property names as the engine receives them (camelCase)
    provider: str = ""  # the explicit provider reference (``<urn>::<id>``), "" for the default provider


class UnmockedCallError(RuntimeError):
    """A provider function was invoked; the program must not depend on cloud lookups at plan time."""


_registering = threading.local()
# Event loops of the executor threads the mock monitor runs in; closed after every run (see
# run_under_mocks). Left open, they are finalised at interpreter exit after their sockets and
# print "Invalid file descriptor: -1" tracebacks on some runs.
_worker_loops: list[asyncio.AbstractEventLoop] = []
_worker_loops_lock = threading.Lock()


def _ensure_worker_loop() -> None:
    loop: asyncio.AbstractEventLoop | None = getattr(_registering, "loop", None)
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        _registering.loop = loop
        with _worker_loops_lock:
            _worker_loops.append(loop)


def _close_worker_loops() -> None:
    with _worker_loops_lock:
        while _worker_loops:
            _worker_loops.pop().close()


class _ParentAwareMonitor(MockMonitor):
    """The stock mock monitor, showing the mocks the whole registration request (parent, options)."""

    def RegisterResource(self, request: Any) -> Any:  # gRPC method name
        _ensure_worker_loop()
        _registering.request = request
        try:
            return super().RegisterResource(request)
        finally:
            _registering.request = None

    def ReadResource(self, request: Any) -> Any:  # gRPC method name: a StackReference reads this way
        _ensure_worker_loop()  # the stock one would reuse the loop a previous run closed on this thread
        return super().ReadResource(request)


def _wire(value: Any) -> Any:
    """A plain value a transform produced, in the JSON form of a protobuf Struct value."""
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): _wire(v) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list | tuple):
        return [_wire(v) for v in value]  # pyright: ignore[reportUnknownVariableType]
    raise TypeError(f"a stack transform returned {type(value).__name__}; only plain values are recorded")


def _computed_outputs(typ: str, resource_id: str, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    """Outputs the cloud would compute that the program reads (ARNs)."""
    if typ == "alicloud:ram/role:Role":
        return {"arn": f"acs:ram::{MOCK_ACCOUNT_ID}:role/{inputs.get('roleName')}"}
    if typ == "alicloud:kms/key:Key":
        return {"arn": f"acs:kms:{region}:{MOCK_ACCOUNT_ID}:key/{resource_id}"}
    if typ == "alicloud:fc/v3LayerVersion:V3LayerVersion":  # a first version (CreateLayerVersion's layerVersionArn)
        return {"layerVersionArn": f"acs:fc:{region}:{MOCK_ACCOUNT_ID}:layers/{inputs.get('layerName')}/versions/1"}
    return {}


@dataclass
class RecordingMocks(pulumi.runtime.Mocks):
    """Mocks that record registrations, apply stack transforms and refuse provider functions."""

    region: str = "cn-hangzhou"
    registrations: list[Registration] = field(default_factory=lambda: [])
    transforms: list[pulumi.ResourceTransform] = field(default_factory=lambda: [])
    monitor: MockMonitor | None = None
    stack_outputs: list[str] = field(default_factory=lambda: [])  # the names the program exported
    root: Path = ROOT  # where a StackReference's stack file is looked for (tools/stack_outputs.py)
    recorded_outputs: Mapping[str, Path] = field(default_factory=lambda: {})  # stack → `pulumi stack output --json`

    def register_transform(self, transform: pulumi.ResourceTransform) -> None:
        self.transforms.append(transform)

    def _transformed(self, args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
        props: dict[str, Any] = dict(args.inputs)
        for transform in self.transforms:
            result = transform(
                pulumi.ResourceTransformArgs(bool(args.custom), args.typ, args.name, props, pulumi.ResourceOptions())
            )
            if result is not None:
                props = dict(result.props)  # type: ignore[union-attr] -- sync transforms only here
        return props

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        if args.typ == STACK_REFERENCE:  # a read, not a registration: answered offline, as a preview reads state
            from tools.stack_outputs import reference_outputs

            name = str(args.inputs.get("name") or args.resource_id or args.name)
            outputs = reference_outputs(name, self.root, dict(self.recorded_outputs))
            return name, {"name": name, "outputs": outputs, "secretOutputNames": []}
        request = getattr(_registering, "request", None)
        if request is None or self.monitor is None:
            raise RuntimeError("RecordingMocks records through the monitor install_mocks() sets up")
        inputs = self._transformed(args)
        # The request's own wire form, with the keys the stack transforms changed replaced.
        properties: dict[str, Any] = json_format.MessageToDict(request.object)
        for key in set(inputs) | set(args.inputs):
            if key not in inputs:
                properties.pop(key, None)
            elif key not in args.inputs or inputs[key] is not args.inputs[key]:
                properties[key] = _wire(inputs[key])
        self.registrations.append(
            Registration(
                args.typ,
                args.name,
                self.monitor.make_urn(request.parent, args.typ, args.name),
                request.parent,
                bool(args.custom),
                inputs,
                properties=properties,
                protect=request.protect,
                additional_secret_outputs=tuple(request.additionalSecretOutputs),
                dependencies=tuple(request.dependencies),
                property_dependencies={key: tuple(deps.urns) for key, deps in request.propertyDependencies.items()},
                retain_on_delete=bool(request.retainOnDelete),
                ignore_changes=tuple(request.ignoreChanges),
                provider=request.provider,
            )
        )
        if pulumi.runtime.is_dry_run():
            # A real preview knows nothing about a resource that does not exist yet beyond its inputs.
            return None, inputs
        resource_id = f"{args.name}-id" if args.custom else None
        outputs = {**inputs, **_computed_outputs(args.typ, resource_id or "", inputs, self.region)}
        return resource_id, outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        raise UnmockedCallError(f"unmocked provider function {args.token} called with {args.args!r}")

    @property
    def stack_urn(self) -> str:
        """URN of the root stack resource every top-level resource is parented to."""
        if self.monitor is None:
            raise RuntimeError("install_mocks() sets the monitor; no stack without it")
        return self.monitor.make_urn("", "pulumi:pulumi:Stack", f"{pulumi.get_project()}-{pulumi.get_stack()}")

    def by_type(self, typ: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == typ]

    def one(self, typ: str, name: str) -> Registration:
        matches = [r for r in self.registrations if r.type == typ and r.name == name]
        if len(matches) != 1:
            raise LookupError(f"expected one {typ} named {name!r}, found {len(matches)}")
        return matches[0]


def install_mocks(project: str, stack: str, region: str = "cn-hangzhou", preview: bool = False) -> RecordingMocks:
    """Point the Pulumi runtime at a fresh recording mock engine."""
    # A fresh root stack resource per run: set_mocks keeps an existing one, which would parent a
    # second stack's resources to the first stack in the same process.
    pulumi.runtime.settings.ROOT.set(None)
    # No network and no built files offline: the drift layer's zip, when not built, is planned under a placeholder.
    # Imported here, not at the top: the tools that read stack files (set_image, in the images workflow's push job)
    # import this module and must not load the whole program (tests/github/test_workflows.py, code owners).
    from components import drift_layer

    drift_layer.offline_placeholder = True
    mocks = RecordingMocks(region=region)
    monitor = _ParentAwareMonitor(mocks)
    mocks.monitor = monitor
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor)
    return mocks


def project_name(root: Path = ROOT) -> str:
    return str(yaml.safe_load((root / "Pulumi.yaml").read_text(encoding="utf-8"))["name"])


def stack_config_values(stack: str, root: Path = ROOT) -> tuple[dict[str, str], list[str]]:
    """The flat config map the engine would hand the program for ``Pulumi.<stack>.yaml``.

    Structured values become JSON strings and scalars strings, as the engine sends them;
    ``secure:`` values become a placeholder and are listed as secret keys.
    """
    path = root / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"no stack file {path.name}; stacks here: {', '.join(known_stacks(root))}")
    config = read_stack_file(path)
    project = project_name(root)
    values: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in config.items():
        full_key = key if ":" in key else f"{project}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            values[full_key] = SECRET_PLACEHOLDER
            secret_keys.append(full_key)
        elif isinstance(value, dict | list):
            values[full_key] = json.dumps(value)
        elif isinstance(value, bool):
            values[full_key] = "true" if value else "false"
        elif value is None:  # `key:` with nothing after it: empty, never the text "None"
            values[full_key] = ""
        else:
            values[full_key] = str(value)
    return values, secret_keys


def known_stacks(root: Path = ROOT) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


# Whether run_under_mocks pauses Python's cycle collector while the program runs (see there). A setting only so
# that bench/scale.py can measure the run both ways side by side; nothing else changes it.
pause_cycle_collector = True


def run_under_mocks(program: Callable[[], object]) -> None:
    """Run ``program`` under the installed mocks and wait until every registration has finished.

    ``pulumi.runtime.test`` is the SDK's own runner for mocked programs; it awaits what the
    function returns, so return None rather than whatever ``program`` produced.

    Python's cycle collector is paused for the run and restored after it. Everything a plan registers stays alive
    until the run ends (the SDK's resources and Outputs, our Registrations), and CPython's full collection walks
    every live object; it runs each time the survivors of younger collections reach a quarter of the heap
    (python/cpython Modules/gcmodule.c, ``gc_collect_generations``: ``long_lived_pending < long_lived_total / 4``).
    Measured (BENCHMARKS.md, "The plan at 500 served models"): those full collections were about half of a run at
    250 and 500 served models and made its time grow faster than its resources, by an amount that jumps with where
    the last full collection falls. Paused, the run is linear in its resources; the cyclic garbage it leaves (about
    200 small objects per resource, under 20 MB at 500 served models) is collected once the collector resumes.
    """

    def run() -> None:
        program()

    paused = pause_cycle_collector and gc.isenabled()
    if paused:
        gc.disable()
    try:
        pulumi.runtime.test(run)()
    finally:
        if paused:
            gc.enable()
        _close_worker_loops()


def close_event_loop() -> None:
    """Close the main thread's event loop once no more Pulumi code will run in this process.

    An event loop still open at interpreter exit is finalised after its sockets and prints a
    ValueError traceback ("Invalid file descriptor: -1") on some runs.
    """
    with warnings.catch_warnings():
        # Python 3.12+ warns when no loop is set and makes one; then there was nothing to close but that one.
        warnings.simplefilter("ignore", DeprecationWarning)
        loop = asyncio.get_event_loop()
    loop.close()


def run_program(
    stack: str,
    root: Path = ROOT,
    preview: bool = False,
    config: tuple[dict[str, str], list[str]] | None = None,
    recorded_outputs: Mapping[str, Path] | None = None,
) -> RecordingMocks:
    """Run the project's ``__main__.py`` for ``stack`` under the mock engine; return the recording.

    ``config`` is :func:`stack_config_values` when the caller has read it already. ``recorded_outputs`` maps a
    referenced stack to a file of its recorded outputs (else StackReferences read its planned outputs).
    """
    values, secret_keys = config if config is not None else stack_config_values(stack, root)
    region = values.get("alicloud:region", "cn-hangzhou")
    mocks = install_mocks(project_name(root), stack, region=region, preview=preview)
    mocks.root, mocks.recorded_outputs = root, dict(recorded_outputs or {})
    pulumi.runtime.set_all_config(values, secret_keys)

    def program() -> None:
        runpy.run_path(str(root / "__main__.py"), run_name="__main__")
        stack = pulumi.runtime.get_root_resource()
        mocks.stack_outputs = sorted(getattr(stack, "outputs", {}))

    run_under_mocks(program)
    return mocks
