"""The emulator's WSGI application: routes each request to its API, applies faults, records the call.

Routing: ``/_emulator/…`` is the control API; a request with ``x-acs-version`` goes to the Alibaba API of that
version (EAS 2021-07-01, DLC 2020-12-03, DSW 2022-01-01, PAIFlow 2021-02-02, CloudMonitor 2019-01-01,
STS 2015-04-01);
``/api/v1/query`` is the Prometheus HTTP API; anything else is OSS, path style (``/<bucket>/<key>``), as oss2
addresses an IP endpoint.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Protocol

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from tests.emulator import signature
from tests.emulator.core import ApiError, Calls, Clock, Fault, Faults, invalid, request_id

JsonBody = dict[str, Any]


class Context:
    """One request as the API handlers see it: path arguments, query, parsed JSON body, the virtual now."""

    def __init__(self, request: Request, args: dict[str, str], now: float) -> None:
        self.request = request
        self.args = args
        self.query: dict[str, str] = {**request.args.to_dict(), **request.form.to_dict()}
        self.now = now
        raw = request.get_data(cache=True)
        self.body: Any = None
        if raw and (request.mimetype or "").endswith("json"):
            try:
                self.body = json.loads(raw)
            except ValueError as error:
                raise invalid(f"the request body is not valid JSON: {error}", "InvalidParameter.Body") from error

    def json(self) -> JsonBody:
        if not isinstance(self.body, dict):
            raise invalid("a JSON object body is required", "InvalidParameter.Body")
        return self.body


class AcsApi(Protocol):
    """An Alibaba OpenAPI product: its version header, its routes (method, path, action) and their handlers."""

    name: str
    version: str
    routes: ClassVar[list[tuple[str, str, str]]]  # empty for RPC-style APIs

    def handle(self, action: str, context: Context) -> JsonBody: ...

    def reset(self) -> None: ...


def acs_error(error: ApiError, request_id_: str) -> Response:
    body = {"RequestId": request_id_, "Code": error.code, "Message": error.message, "HostId": "127.0.0.1"}
    return Response(json.dumps(body), error.status, headers=error.headers, content_type="application/json")


def fault_error(fault: Fault, style: str) -> ApiError:
    """The error a throttle or server_error fault answers with, in the API's own terms."""
    if fault.kind == "throttle":
        if style == "oss":
            return ApiError(503, "SlowDown", "Please reduce your request rate.")
        return ApiError(400, "Throttling.User", "Request was denied due to user flow control.")
    if style == "oss":
        return ApiError(fault.status, "InternalError", "We encountered an internal error. Please try again.")
    return ApiError(
        fault.status, "ServiceUnavailable", "The request has failed due to a temporary failure of the server."
    )


class Application:
    """Dispatch, faults and recording; the APIs keep their own state."""

    def __init__(
        self,
        clock: Clock,
        faults: Faults,
        calls: Calls,
        lock: threading.RLock,
        apis: Iterable[AcsApi],
        oss: Callable[[Request, float], Response],
        prometheus: Callable[[Request, float], Response],
        control: Callable[[Request], Response],
    ) -> None:
        self.clock, self.faults, self.calls, self.lock = clock, faults, calls, lock
        self.credentials: tuple[str, str] | None = None
        self._apis = {api.version: api for api in apis}
        self._maps = {
            api.version: Map([Rule(path, methods=[method], endpoint=action) for method, path, action in api.routes])
            for api in self._apis.values()
        }
        self._oss, self._prometheus, self._control = oss, prometheus, control

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        if request.path.startswith("/_emulator/"):
            return self._control(request)(environ, start_response)
        version = request.headers.get("x-acs-version")
        if version is not None:
            response = self._acs(request, version)
        elif request.path == "/api/v1/query":
            response = self._faulted("metrics", "PrometheusQuery", request, "prometheus", self._prometheus)
        else:
            response = self._faulted("oss", None, request, "oss", self._oss)
        return response(environ, start_response)

    def _acs(self, request: Request, version: str) -> Response:
        api = self._apis.get(version)
        rid = request_id()
        if api is None:
            return acs_error(ApiError(404, "InvalidVersion", f"API version {version} is not emulated"), rid)
        args: Mapping[str, Any] = {}
        if api.routes:
            try:
                action, args = self._maps[version].bind("emulator").match(request.path, method=request.method)
            except (NotFound, MethodNotAllowed):
                action = request.headers.get("x-acs-action") or "?"
                error = ApiError(404, "InvalidAction.NotFound", f"{request.method} {request.path} is not an action")
                return self._record(api.name, action, request, None, acs_error(error, rid))
            assert isinstance(action, str)
        else:  # RPC style (CloudMonitor): every action is POST /, named by its header
            action = request.headers.get("x-acs-action") or "?"

        def handle(req: Request, now: float) -> Response:
            if self.credentials is not None:
                signature.verify_acs3(req, *self.credentials)
            context = Context(req, {k: str(v) for k, v in args.items()}, now)
            body = api.handle(action, context)
            return Response(json.dumps({"RequestId": rid, **body}), 200, content_type="application/json")

        return self._faulted(api.name, action, request, "acs", handle, rid)

    def _faulted(
        self,
        api: str,
        action: str | None,
        request: Request,
        style: str,
        handle: Callable[[Request, float], Response],
        rid: str | None = None,
    ) -> Response:
        rid = rid or request_id()
        if action is None:  # OSS names its action while handling; fault it by the same name
            action = oss_action(request)
        fault = self.faults.take(api, action)
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.seconds)
        try:
            if fault is not None and fault.kind in ("throttle", "server_error"):
                raise fault_error(fault, style)
            with self.lock:
                response = handle(request, self.clock.now())
        except ApiError as error:
            response = self._render_error(error, style, rid, request)
        self._record(api, action, request, fault, response)
        if fault is not None and fault.kind == "lost_response":
            connection = request.environ.get("werkzeug.socket")
            if isinstance(connection, socket.socket):
                connection.shutdown(socket.SHUT_RDWR)
        return response

    def _render_error(self, error: ApiError, style: str, rid: str, request: Request) -> Response:
        if style == "acs":
            return acs_error(error, rid)
        if style == "prometheus":
            body = {"status": "error", "errorType": error.code, "error": error.message}
            return Response(json.dumps(body), error.status, content_type="application/json")
        from tests.emulator.oss import error_response  # OSS errors are XML

        return error_response(error, rid, head=request.method == "HEAD")

    def _record(self, api: str, action: str, request: Request, fault: Fault | None, response: Response) -> Response:
        raw = request.get_data(cache=True)
        body: Any
        try:
            body = json.loads(raw) if raw and (request.mimetype or "").endswith("json") else None
        except ValueError:
            body = None
        if body is None and raw:
            body = {"bytes": len(raw)}
        self.calls.record(
            api=api,
            action=action,
            method=request.method,
            path=request.path,
            query={**request.args.to_dict(), **request.form.to_dict()},
            body=body,
            status=response.status_code,
            fault=fault.kind if fault else None,
            at=self.clock.now(),
        )
        return response


def oss_action(request: Request) -> str:
    """The OSS operation a path-style request asks for, named as in the OSS API reference."""
    bucket, _, key = request.path.lstrip("/").partition("/")
    if key:
        names = {"PUT": "PutObject", "GET": "GetObject", "HEAD": "HeadObject", "DELETE": "DeleteObject"}
    elif bucket:
        listing = "ListObjectsV2" if request.args.get("list-type") == "2" else "ListObjects"
        names = {"PUT": "PutBucket", "GET": listing, "DELETE": "DeleteBucket"}
    else:
        names = {"GET": "ListBuckets"}
    return names.get(request.method, f"{request.method}?")
