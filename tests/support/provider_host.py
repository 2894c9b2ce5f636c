"""Drive a dynamic provider the way ``pulumi up`` does: through ``python -m pulumi.dynamic`` over gRPC.

The provider instance is serialized with Pulumi's own serializer (dill, by reference to its module) into the
``__provider`` property; the host is started from the project root with ``PULUMI_PROJECT`` set, as the engine
starts it, and spoken to with ``Configure`` then ``Check`` / ``Diff`` / ``Create`` / ``Read`` / ``Update`` /
``Delete``. Like the engine, the harness strips secret markers from properties when the provider does not
accept secrets (the dynamic host never does), and sends secret config values marked as secrets.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import struct_pb2
from pulumi.dynamic.dynamic import ResourceProvider, serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from tools.policy_gate import LOOPBACK_CHANNEL_OPTIONS

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "pai-mlops"
PROVIDER_KEY = "__provider"
_PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")


class ProviderFailed(Exception):
    """The provider raised: ``details`` is the host's answer (the provider's traceback and message)."""

    def __init__(self, method: str, details: str) -> None:
        super().__init__(f"{method} failed:\n{details}")
        self.method = method
        self.details = details


@dataclass(frozen=True)
class Diff:
    changes: str  # DIFF_NONE, DIFF_SOME, DIFF_UNKNOWN
    replaces: list[str]
    delete_before_replace: bool


def _struct(properties: dict[str, Any]) -> struct_pb2.Struct:
    # A private loop: asyncio.run would unset the thread's current loop, which the mock-engine tests rely on.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(properties, {}))
    finally:
        loop.close()


def _plain(struct: struct_pb2.Struct) -> dict[str, Any]:
    return rpc.deserialize_properties(struct)


class ProviderHost:
    """One ``python -m pulumi.dynamic`` process. Use as a context manager."""

    def __init__(self, env: dict[str, str] | None = None, cwd: Path = ROOT) -> None:
        self._env = env or {}
        self._cwd = cwd
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - open for the host's lifetime, closed in __exit__
        self._stderr_text: str | None = None
        self._stderr_mark = 0
        self._channel: grpc.Channel | None = None
        self._stub: provider_pb2_grpc.ResourceProviderStub | None = None

    def __enter__(self) -> ProviderHost:
        env = {k: v for k, v in os.environ.items() if k not in _PROXIES and not k.startswith("PAI_MLOPS_")}
        env.update(PULUMI_PROJECT=PROJECT, PYTHONUNBUFFERED="1", **self._env)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "pulumi.dynamic"],
            cwd=self._cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        assert self._process.stdout is not None
        port = self._process.stdout.readline().decode().strip()
        if not port.isdigit():
            self.__exit__()
            raise RuntimeError(f"the provider host did not print its port; stderr:\n{self.stderr}")
        try:
            self._channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=LOOPBACK_CHANNEL_OPTIONS)
            grpc.channel_ready_future(self._channel).result(timeout=30)
        except BaseException:
            # __exit__ does not run when __enter__ raises: never leave a host process behind a failed start.
            self.__exit__()
            raise
        self._stub = provider_pb2_grpc.ResourceProviderStub(self._channel)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._channel is not None:
            self._channel.close()
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            if self._process.stdout is not None:
                self._process.stdout.close()
        self._stderr_text = self.stderr
        self._stderr.close()

    @property
    def stderr(self) -> str:
        """What the host and the provider wrote to stderr (progress lines) since the last :meth:`mark`."""
        if self._stderr_text is not None:
            return self._stderr_text
        self._stderr.seek(self._stderr_mark)
        return self._stderr.read().decode(errors="replace")

    def mark(self) -> None:
        """Start :attr:`stderr` here: a host shared by several tests shows each test only its own lines."""
        self._stderr.seek(0, os.SEEK_END)
        self._stderr_mark = self._stderr.tell()

    def _call(self, method: str, request: Any, timeout: float) -> Any:
        assert self._stub is not None, "use ProviderHost as a context manager"
        try:
            return getattr(self._stub, method)(request, timeout=timeout)
        except grpc.RpcError as error:
            raise ProviderFailed(method, error.details() or str(error)) from None

    def configure(self, config: dict[str, str], secret_keys: frozenset[str] = frozenset()) -> bool:
        """Send the stack config (``ns:key`` → value), secret keys marked as secrets; returns acceptSecrets."""
        args = {key: rpc.wrap_rpc_secret(value) if key in secret_keys else value for key, value in config.items()}
        response = self._call(
            "Configure", provider_pb2.ConfigureRequest(args=_struct(args), acceptSecrets=True), timeout=30
        )
        return bool(response.acceptSecrets)

    @staticmethod
    def _props(provider: ResourceProvider, properties: dict[str, Any]) -> struct_pb2.Struct:
        return _struct({**properties, PROVIDER_KEY: serialize_provider(provider)})

    def check(
        self, provider: ResourceProvider, olds: dict[str, Any], news: dict[str, Any], urn: str = "urn"
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        request = provider_pb2.CheckRequest(urn=urn, olds=_struct(olds), news=self._props(provider, news))
        response = self._call("Check", request, timeout=60)
        failures = [(failure.property, failure.reason) for failure in response.failures]
        return _without_provider(_plain(response.inputs)), failures

    def diff(self, provider: ResourceProvider, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> Diff:
        request = provider_pb2.DiffRequest(
            id=id_, urn="urn", olds=self._props(provider, olds), news=self._props(provider, news)
        )
        response = self._call("Diff", request, timeout=60)
        changes = provider_pb2.DiffResponse.DiffChanges.Name(response.changes)
        return Diff(changes, list(response.replaces), response.deleteBeforeReplace)

    def create(
        self, provider: ResourceProvider, properties: dict[str, Any], timeout: float = 120
    ) -> tuple[str, dict[str, Any]]:
        request = provider_pb2.CreateRequest(urn="urn", properties=self._props(provider, properties))
        response = self._call("Create", request, timeout=timeout)
        return response.id, _without_provider(_plain(response.properties))

    def read(self, provider: ResourceProvider, id_: str, properties: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        request = provider_pb2.ReadRequest(id=id_, urn="urn", properties=self._props(provider, properties))
        response = self._call("Read", request, timeout=60)
        return response.id, _without_provider(_plain(response.properties))

    def update(
        self, provider: ResourceProvider, id_: str, olds: dict[str, Any], news: dict[str, Any], timeout: float = 120
    ) -> dict[str, Any]:
        request = provider_pb2.UpdateRequest(
            id=id_, urn="urn", olds=self._props(provider, olds), news=self._props(provider, news)
        )
        response = self._call("Update", request, timeout=timeout)
        return _without_provider(_plain(response.properties))

    def delete(self, provider: ResourceProvider, id_: str, properties: dict[str, Any], timeout: float = 120) -> None:
        request = provider_pb2.DeleteRequest(id=id_, urn="urn", properties=self._props(provider, properties))
        self._call("Delete", request, timeout=timeout)


def _without_provider(properties: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in properties.items() if key != PROVIDER_KEY}


def wait_until(condition: Any, timeout: float = 10.0, interval: float = 0.02) -> None:
    """Poll ``condition()`` until true; fail the test with a clear message otherwise."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)
