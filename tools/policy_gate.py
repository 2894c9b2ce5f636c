"""Run the policy pack the way the Pulumi CLI does: as its own process, over the Analyzer gRPC protocol.

The sequence mirrors ``pulumi preview --policy-pack policies --policy-pack-config <file>``:

1. start the pack as the CLI's ``pulumi-analyzer-policy-python`` plugin does: ``python -u -m pulumi.policy
   <engine> .`` in ``policies/``, which runs ``__main__.py``; it prints the port it serves on;
2. ``GetAnalyzerInfo``: the pack's policies, their default levels and config schemas;
3. reconcile the policy config file with those defaults and validate it against the schemas, as
   the CLI's ``ReconcilePolicyPackConfig`` does (``tools/policy_config.py``), then ``Configure`` and
   ``ConfigureStack``;
4. ``Analyze`` for every resource (its inputs, options), then ``AnalyzeStack`` with all of them.

Providers are not sent with resources; no rule reads them. The policy config is read more strictly than the CLI
reads it (``tools/policy_config.py`` says how).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

import grpc
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from tools.mock_engine import ROOT, Registration
from tools.policy_config import LEVEL_NAMES, LEVELS, PolicyInfo, PolicySetting, load_policy_config, reconcile

PACK_DIR: Final = ROOT / "policies"
START_TIMEOUT_SECONDS: Final = 60.0
# gRPC sends even 127.0.0.1 through http_proxy/https_proxy (either case) unless told not to; the pack and the
# provider host are always on loopback. https://grpc.github.io/grpc/core/group__grpc__arg__keys.html
# (GRPC_ARG_ENABLE_HTTP_PROXY, "grpc.enable_http_proxy").
LOOPBACK_CHANNEL_OPTIONS: Final = (("grpc.enable_http_proxy", 0),)
# Analyze requests in flight at once: enough to overlap the round trips with the pack's work (bench/: about +40%
# resources/s; more gains nothing, the pack's Python is single-threaded under the GIL).
ANALYZE_IN_FLIGHT: Final = 8
NO_ENGINE: Final = "127.0.0.1:0"
# pulumi-policy's servicer reports a rule that touched an unknown value with this message, at advisory level.
_DEFERRED_MARK: Final = " during preview: "


class PolicyPackError(RuntimeError):
    """The pack could not be started or answered with an error."""


@dataclass(frozen=True)
class Diagnostic:
    """One finding. ``deferred``: the rule read a value unknown until ``pulumi up`` (always advisory)."""

    policy: str
    level: str
    urn: str
    message: str
    deferred: bool = False


@dataclass(frozen=True)
class PolicyReport:
    pack: str
    version: str
    config_file: str | None
    levels: Mapping[str, str]
    diagnostics: tuple[Diagnostic, ...]
    not_applicable: tuple[tuple[str, str, str], ...]  # (policy, urn, reason)

    def violations(self, level: str) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level == level and not d.deferred]

    @property
    def deferred(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.deferred]


def _struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    json_format.ParseDict(dict(value), struct)
    return struct


def analyzer_resource(registration: Registration) -> analyzer_pb2.AnalyzerResource:
    """A registration as the CLI describes a resource to an analyzer."""
    return analyzer_pb2.AnalyzerResource(
        type=registration.type,
        properties=_struct(registration.properties),
        urn=registration.urn,
        name=registration.name,
        options=analyzer_pb2.AnalyzerResourceOptions(
            protect=registration.protect,
            additionalSecretOutputs=list(registration.additional_secret_outputs),
            parent=registration.parent_urn,
        ),
        parent=registration.parent_urn,
        dependencies=list(registration.dependencies),
        propertyDependencies={
            key: analyzer_pb2.AnalyzerPropertyDependencies(urns=list(urns))
            for key, urns in registration.property_dependencies.items()
        },
    )


class PolicyPack:
    """The pack running as its own process; use as a context manager."""

    def __init__(self, pack_dir: Path = PACK_DIR, python: str = sys.executable) -> None:
        self.pack_dir = pack_dir
        self.python = python
        self._process: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        # The pack's output goes to files: a pipe nobody reads could fill up and stall the pack.
        self._stdout = tempfile.TemporaryFile()  # noqa: SIM115 -- closed in __exit__
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 -- closed in __exit__
        self.stub: analyzer_pb2_grpc.AnalyzerStub | None = None

    def __enter__(self) -> Self:
        # No engine runs here to receive the pack's log messages; they go to stderr instead.
        self._process = subprocess.Popen(
            [self.python, "-u", "-m", "pulumi.policy", NO_ENGINE, "."],
            cwd=self.pack_dir,
            stdin=subprocess.DEVNULL,
            stdout=self._stdout,
            stderr=self._stderr,
        )
        port = self._read_port(self._process)
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=LOOPBACK_CHANNEL_OPTIONS)
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        return self

    def _read_port(self, process: subprocess.Popen[bytes]) -> int:
        """The port from the first line the pack prints, waiting at most START_TIMEOUT_SECONDS."""
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        first = ""
        while time.monotonic() < deadline:
            self._stdout.seek(0)
            first, newline, _ = self._stdout.read().decode(errors="replace").partition("\n")
            if newline or process.poll() is not None:
                break
            time.sleep(0.02)
        if not first.strip().isdigit():
            problem = (
                "exited" if process.poll() is not None else f"printed no port within {START_TIMEOUT_SECONDS:.0f} s"
            )
            self.close()
            message = f"policy pack in {self.pack_dir} {problem}; its stderr:\n{self.stderr()}"
            self._close_files()  # __exit__ does not run when __enter__ raises
            raise PolicyPackError(message)
        return int(first)

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace").strip()

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def _close_files(self) -> None:
        self._stdout.close()
        self._stderr.close()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
        self._close_files()

    @property
    def _rpc(self) -> analyzer_pb2_grpc.AnalyzerStub:
        if self.stub is None:
            raise PolicyPackError("the policy pack is not running; use it as a context manager")
        return self.stub

    def info(self) -> tuple[str, str, list[PolicyInfo]]:
        answer = self._rpc.GetAnalyzerInfo(empty_pb2.Empty())
        policies = [
            PolicyInfo(
                name=p.name,
                description=p.description,
                level=LEVEL_NAMES[p.enforcementLevel],
                kind="stack" if p.policy_type == analyzer_pb2.POLICY_TYPE_STACK else "resource",
                schema=json_format.MessageToDict(p.configSchema, preserving_proto_field_name=True),
            )
            for p in answer.policies
        ]
        return answer.name, answer.version, policies

    def configure(self, settings: Mapping[str, PolicySetting]) -> None:
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, setting in settings.items():
            request.policyConfig[name].CopyFrom(
                analyzer_pb2.PolicyConfig(
                    enforcementLevel=LEVELS[setting.level or "advisory"], properties=_struct(setting.properties)
                )
            )
        self._rpc.Configure(request)

    def configure_stack(self, stack: str, project: str, config: Mapping[str, str], secret_keys: Iterable[str]) -> None:
        self._rpc.ConfigureStack(
            analyzer_pb2.AnalyzerStackConfigureRequest(
                stack=stack,
                project=project,
                organization="organization",
                dry_run=True,
                config=dict(config),
                config_secret_keys=list(secret_keys),
            )
        )

    def analyze(self, registration: Registration) -> tuple[list[Diagnostic], list[tuple[str, str, str]]]:
        """``Analyze`` one resource: its diagnostics and the (policy, urn, reason) of policies not applicable."""
        return self._analyze(analyzer_resource(registration))

    def analyze_stack(self, registrations: Sequence[Registration]) -> list[Diagnostic]:
        return self._analyze_stack([analyzer_resource(r) for r in registrations])

    def analyze_all(self, registrations: Sequence[Registration]) -> tuple[list[Diagnostic], list[tuple[str, str, str]]]:
        """``Analyze`` every resource, then ``AnalyzeStack``, converting each resource once.

        Up to ANALYZE_IN_FLIGHT requests are in flight at once (the pack serves them from its thread pool, as it
        does the engine's concurrent steps); answers are read in order, so the result does not depend on timing.
        """
        resources = [analyzer_resource(r) for r in registrations]
        diagnostics: list[Diagnostic] = []
        skipped: list[tuple[str, str, str]] = []
        pending: deque[tuple[analyzer_pb2.AnalyzerResource, Any]] = deque()

        def collect() -> None:
            resource, future = pending.popleft()
            found, not_applicable = self._answer(resource, future.result())
            diagnostics.extend(found)
            skipped.extend(not_applicable)

        for resource in resources:
            pending.append((resource, self._rpc.Analyze.future(_analyze_request(resource))))
            if len(pending) >= ANALYZE_IN_FLIGHT:
                collect()
        while pending:
            collect()
        return diagnostics + self._analyze_stack(resources), skipped

    def _analyze(self, resource: analyzer_pb2.AnalyzerResource) -> tuple[list[Diagnostic], list[tuple[str, str, str]]]:
        return self._answer(resource, self._rpc.Analyze(_analyze_request(resource)))

    @staticmethod
    def _answer(
        resource: analyzer_pb2.AnalyzerResource, answer: analyzer_pb2.AnalyzeResponse
    ) -> tuple[list[Diagnostic], list[tuple[str, str, str]]]:
        skipped = [(n.policy_name, resource.urn, n.reason) for n in answer.not_applicable]
        return [_diagnostic(d, resource.urn) for d in answer.diagnostics], skipped

    def _analyze_stack(self, resources: Sequence[analyzer_pb2.AnalyzerResource]) -> list[Diagnostic]:
        answer = self._rpc.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources))
        return [_diagnostic(d, "") for d in answer.diagnostics]


def _analyze_request(resource: analyzer_pb2.AnalyzerResource) -> analyzer_pb2.AnalyzeRequest:
    return analyzer_pb2.AnalyzeRequest(
        type=resource.type,
        properties=resource.properties,
        urn=resource.urn,
        name=resource.name,
        options=resource.options,
    )


def _diagnostic(raw: analyzer_pb2.AnalyzeDiagnostic, urn: str) -> Diagnostic:
    level = LEVEL_NAMES[raw.enforcementLevel]
    if not raw.urn and _DEFERRED_MARK in raw.message and raw.message.startswith(f"can't run policy '{raw.policyName}'"):
        return Diagnostic(raw.policyName, level, urn, raw.message.split(_DEFERRED_MARK, 1)[1], deferred=True)
    # report_violation sends "<description>\n<message>"; keep the rule's own message.
    message = raw.message.removeprefix(f"{raw.description}\n") if raw.description else raw.message
    return Diagnostic(raw.policyName, level, raw.urn or urn, message)


def pack_version(pack_dir: Path) -> str | None:
    """The version in ``PulumiPolicy.yaml``: what the CLI reports for the pack. The analyzer's own answer to
    GetAnalyzerInfo is pulumi-policy's placeholder (0.0.1), which the CLI never shows."""
    try:
        document = yaml.safe_load((pack_dir / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    version = document.get("version") if isinstance(document, dict) else None
    return str(version) if version is not None else None


def evaluate(
    registrations: Sequence[Registration],
    *,
    stack: str,
    project: str,
    config_file: Path | None,
    stack_config: Mapping[str, str] | None = None,
    secret_keys: Iterable[str] = (),
    pack_dir: Path = PACK_DIR,
) -> PolicyReport:
    """Start the pack, configure it for ``stack`` and analyze every registration and then the stack."""
    config = load_policy_config(config_file) if config_file is not None else {}
    with PolicyPack(pack_dir) as pack:
        try:
            name, version, policies = pack.info()
            settings = reconcile(policies, config, config_file or pack_dir)
            pack.configure(settings)
            pack.configure_stack(stack, project, stack_config or {}, secret_keys)
            diagnostics, skipped = pack.analyze_all(registrations)
        except grpc.RpcError as error:
            raise PolicyPackError(f"policy pack failed: {error}; its stderr:\n{pack.stderr()}") from error
    return PolicyReport(
        pack=name,
        version=pack_version(pack_dir) or version,
        config_file=str(config_file) if config_file is not None else None,
        levels={policy: setting.level or "advisory" for policy, setting in settings.items()},
        # Registrations arrive in no fixed order; a sorted report reads the same on every run.
        diagnostics=tuple(sorted(diagnostics, key=lambda d: (d.policy, d.urn, d.message))),
        not_applicable=tuple(sorted(skipped)),
    )
