"""The emulator as a server: state, the control API under ``/_emulator/``, start and stop on 127.0.0.1."""

from __future__ import annotations

import email.utils
import json
import threading
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from tests.emulator.app import Application
from tests.emulator.core import ApiError, Calls, Clock, Faults, invalid
from tests.emulator.dlc import DlcApi, Outcome
from tests.emulator.dsw import DswApi
from tests.emulator.eas import EasApi
from tests.emulator.metrics import MetricsApi
from tests.emulator.oss import OssApi
from tests.emulator.paiflow import PaiFlowApi
from tests.emulator.sts import StsApi

ENDPOINT_APIS = ("eas", "dlc", "dsw", "oss", "metrics", "sts")


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request: the recorded calls are the log."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header in the virtual clock's time, as a real server's clock would show it.

        Providers measure how long a job has queued or run against the server's ``Date`` (see
        providers/training.py), so on a fast clock they see the time the emulated jobs see.
        """
        app = self.server.app
        assert isinstance(app, Application)
        return email.utils.formatdate(app.clock.now() if timestamp is None else timestamp, usegmt=True)


class Emulator:
    """All emulated APIs behind one HTTP server. ``start()`` serves on 127.0.0.1 from a daemon thread."""

    def __init__(self, *, port: int = 0, speed: float = 1.0, region: str = "cn-hangzhou") -> None:
        self.clock = Clock(speed)
        self.faults = Faults()
        self.calls = Calls()
        self.lock = threading.RLock()
        self.eas = EasApi(region)
        self.dlc = DlcApi()
        self.dsw = DswApi()
        self.paiflow = PaiFlowApi()
        self.sts = StsApi(region)
        self.oss = OssApi(authorize=self.sts.authorize)
        self.metrics = MetricsApi(
            share_of=self.eas.share, operate=lambda action: self.eas.operate(action, self.clock.now())
        )
        self.app = Application(
            self.clock,
            self.faults,
            self.calls,
            self.lock,
            [self.eas, self.dlc, self.dsw, self.paiflow, self.metrics, self.sts],
            oss=self.oss,
            prometheus=self.metrics.prometheus,
            control=self._control,
        )
        self._port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._routes = Map(
            [
                Rule("/_emulator/health", methods=["GET"], endpoint="health"),
                Rule("/_emulator/reset", methods=["POST"], endpoint="reset"),
                Rule("/_emulator/faults", methods=["GET", "POST", "DELETE"], endpoint="faults"),
                Rule("/_emulator/clock", methods=["GET", "POST"], endpoint="clock"),
                Rule("/_emulator/timing", methods=["GET", "POST"], endpoint="timing"),
                Rule("/_emulator/credentials", methods=["POST", "DELETE"], endpoint="credentials"),
                Rule("/_emulator/calls", methods=["GET", "DELETE"], endpoint="calls"),
                Rule("/_emulator/dlc/jobs/<job_id>/preempt", methods=["POST"], endpoint="dlc_preempt"),
                Rule("/_emulator/dlc/jobs/<job_id>/fail", methods=["POST"], endpoint="dlc_fail"),
                Rule("/_emulator/dlc/jobs/<job_id>/soft-delete", methods=["POST"], endpoint="dlc_soft_delete"),
                Rule("/_emulator/dlc/outcomes", methods=["GET", "POST", "DELETE"], endpoint="dlc_outcomes"),
                Rule("/_emulator/eas/services/<region>/<name>/fail", methods=["POST"], endpoint="eas_fail"),
                Rule("/_emulator/dsw/instances/<instance_id>/fail", methods=["POST"], endpoint="dsw_fail"),
                Rule("/_emulator/dsw/instances/<instance_id>/activity", methods=["POST"], endpoint="dsw_activity"),
                Rule("/_emulator/oss/buckets/<bucket>", methods=["PUT"], endpoint="oss_bucket"),
                Rule("/_emulator/paiflow/pipelines/<pipeline_id>", methods=["PUT"], endpoint="paiflow_pipeline"),
                Rule("/_emulator/eas/operate", methods=["POST"], endpoint="eas_operate"),
                Rule("/_emulator/metrics-schedule", methods=["POST"], endpoint="metrics_schedule"),
                Rule("/_emulator/metrics-refusal", methods=["POST", "DELETE"], endpoint="metrics_refusal"),
                Rule("/_emulator/metrics", methods=["GET"], endpoint="metrics_all"),
                Rule("/_emulator/metrics/<service>", methods=["PUT", "DELETE"], endpoint="metrics"),
                Rule("/_emulator/ram/roles/<role>", methods=["PUT"], endpoint="ram_role"),
                Rule("/_emulator/ram/roles/<role>/policies/<policy>", methods=["PUT", "DELETE"], endpoint="ram_policy"),
                Rule("/_emulator/ram/callers/<key>", methods=["PUT"], endpoint="ram_caller"),
                Rule("/_emulator/sts/expire", methods=["POST"], endpoint="sts_expire"),
            ]
        )

    # -- serving ---------------------------------------------------------------------------------------------

    def start(self) -> Emulator:
        self._server = make_server("127.0.0.1", self._port, self.app, threaded=True, request_handler=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="pai-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        return f"http://127.0.0.1:{self._server.server_port}"

    def environment(self) -> dict[str, str]:
        """The ``PAI_MLOPS_*_ENDPOINT`` variables that point the provider toolkit at this emulator."""
        return {f"PAI_MLOPS_{api.upper()}_ENDPOINT": self.url for api in ENDPOINT_APIS}

    def reset(self) -> None:
        """Forget every resource, fault, recorded call and credential; the clock keeps its speed."""
        with self.lock:
            for api in (self.eas, self.dlc, self.dsw, self.paiflow, self.oss, self.metrics, self.sts):
                api.reset()
            self.faults.clear()
            self.calls.clear()
            self.app.credentials = None

    # -- control API -----------------------------------------------------------------------------------------

    def _control(self, request: Request) -> Response:
        try:
            endpoint, args = self._routes.bind("emulator").match(request.path, method=request.method)
            # force: a JSON body counts without a Content-Type header (curl -d sends form encoding by default).
            body: Any = request.get_json(force=True, silent=True) if request.get_data() else {}
            if not isinstance(body, dict):
                raise invalid("the control API takes a JSON object body")
            handler: Callable[..., Any] = getattr(self, f"_c_{endpoint}")
            with self.lock:
                result = handler(request, body or {}, **args)
            return Response(json.dumps(result), 200, content_type="application/json")
        except ApiError as error:
            return Response(
                json.dumps({"error": error.code, "message": error.message}),
                error.status,
                content_type="application/json",
            )
        except HTTPException as error:
            return Response(
                json.dumps({"error": error.name, "message": error.description}),
                error.code or 500,
                content_type="application/json",
            )

    def _c_health(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": self.url, "now": self.clock.now(), "speed": self.clock.speed}

    def _c_reset(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        self.reset()
        return {"ok": True}

    def _c_faults(self, request: Request, body: dict[str, Any]) -> Any:
        if request.method == "POST":
            return asdict(self.faults.add(body))
        if request.method == "DELETE":
            self.faults.clear()
        return [asdict(fault) for fault in self.faults.pending()]

    def _c_clock(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        if request.method == "POST":
            unknown = set(body) - {"speed", "advance"}
            if unknown:
                raise invalid(f"the clock takes speed and/or advance; got {sorted(unknown)}")
            if "speed" in body:
                self.clock.set_speed(_number(body, "speed"))
            if "advance" in body:
                self.clock.advance(_number(body, "advance"))
        return {"now": self.clock.now(), "speed": self.clock.speed}

    def _c_timing(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        apis = {"eas": self.eas, "dlc": self.dlc, "dsw": self.dsw}
        for api_name, changes in body.items():
            api = apis.get(api_name)
            if api is None or not isinstance(changes, dict):
                raise invalid(f"timing is set per API (eas, dlc, dsw) as an object; got {api_name!r}")
            for step, seconds in changes.items():
                if step not in api.timing:
                    raise invalid(f"{api_name} has no step {step!r}; steps: {', '.join(api.timing)}")
                if not isinstance(seconds, int | float) or seconds < 0:
                    raise invalid(f"{api_name}.{step} must be a non-negative number of seconds; got {seconds!r}")
                api.timing[step] = float(seconds)
        return {name: dict(api.timing) for name, api in apis.items()}

    def _c_credentials(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        if request.method == "DELETE":
            self.app.credentials = None
            return {"verifying": False}
        key, secret = body.get("access_key_id"), body.get("access_key_secret")
        if not isinstance(key, str) or not isinstance(secret, str) or not key or not secret:
            raise invalid("credentials need access_key_id and access_key_secret")
        self.app.credentials = (key, secret)
        return {"verifying": True, "access_key_id": key}

    def _c_calls(self, request: Request, body: dict[str, Any]) -> Any:
        if request.method == "DELETE":
            self.calls.clear()
            return []
        api, action = request.args.get("api"), request.args.get("action")
        return [call.as_json() for call in self.calls.list(api, action)]

    def _c_dlc_preempt(self, request: Request, body: dict[str, Any], job_id: str) -> dict[str, Any]:
        outcome = Outcome.parse({"outcome": "preempted", **body})
        return self.dlc.view(self.dlc.end_now(job_id, self.clock.now(), outcome), self.clock.now())

    def _c_dlc_fail(self, request: Request, body: dict[str, Any], job_id: str) -> dict[str, Any]:
        outcome = Outcome.parse({"outcome": "failed", **body})
        return self.dlc.view(self.dlc.end_now(job_id, self.clock.now(), outcome), self.clock.now())

    def _c_dlc_soft_delete(self, request: Request, body: dict[str, Any], job_id: str) -> dict[str, Any]:
        return self.dlc.view(self.dlc.soft_delete(job_id, self.clock.now()), self.clock.now())

    def _c_dlc_outcomes(self, request: Request, body: dict[str, Any]) -> Any:
        if request.method == "POST":
            outcomes = body.get("outcomes")
            if not isinstance(outcomes, list) or not outcomes:
                raise invalid("outcomes must list what happens to the next jobs, in order")
            self.dlc.outcomes.extend(Outcome.parse(spec) for spec in outcomes)
        elif request.method == "DELETE":
            self.dlc.outcomes.clear()
        return [asdict(outcome) for outcome in self.dlc.outcomes]

    def _c_eas_fail(self, request: Request, body: dict[str, Any], region: str, name: str) -> dict[str, Any]:
        now = self.clock.now()
        reason = str(body.get("reason") or "ContainerCrashed")
        message = str(body.get("message") or "The container exited with code 1 (emulated).")
        service = self.eas.fail(region, name, now, reason, message)
        return {"ServiceName": service.name, "Status": service.lifecycle.status(now)}

    def _c_dsw_fail(self, request: Request, body: dict[str, Any], instance_id: str) -> dict[str, Any]:
        now = self.clock.now()
        code = str(body.get("reason_code") or "ImagePullFailed")
        message = str(body.get("reason_message") or "Failed to pull the image (emulated).")
        return self.dsw.view(self.dsw.fail(instance_id, now, code, message), now)

    def _c_dsw_activity(self, request: Request, body: dict[str, Any], instance_id: str) -> dict[str, Any]:
        now = self.clock.now()
        return self.dsw.view(self.dsw.touch(instance_id, now), now)

    def _c_oss_bucket(self, request: Request, body: dict[str, Any], bucket: str) -> dict[str, Any]:
        self.oss.create_bucket(bucket)
        return {"bucket": bucket}

    def _c_paiflow_pipeline(self, request: Request, body: dict[str, Any], pipeline_id: str) -> dict[str, Any]:
        manifest = body.get("manifest")
        if not isinstance(manifest, str) or not manifest.strip():
            raise invalid('register a pipeline with its manifest: {"manifest": "<yaml>"}')
        self.paiflow.pipelines[pipeline_id] = manifest
        return {"PipelineId": pipeline_id}

    def _c_eas_operate(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        return self.eas.operate(body, self.clock.now())

    def _c_metrics_schedule(self, request: Request, body: dict[str, Any]) -> Any:
        return self.metrics.schedule(body)

    def _c_metrics_refusal(self, request: Request, body: dict[str, Any]) -> Any:
        if request.method == "DELETE":
            self.metrics.refusal = None
            return {}
        return self.metrics.refuse(body)

    def _c_metrics_all(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        return {name: asdict(values) for name, values in self.metrics.services.items()}

    def _c_metrics(self, request: Request, body: dict[str, Any], service: str) -> dict[str, Any]:
        if request.method == "DELETE":
            self.metrics.tiers.pop(service, None)
            return {}
        return asdict(self.metrics.set(service, body))

    def _c_ram_role(self, request: Request, body: dict[str, Any], role: str) -> dict[str, Any]:
        return self.sts.put_role(role, body)

    def _c_ram_policy(self, request: Request, body: dict[str, Any], role: str, policy: str) -> dict[str, Any]:
        if request.method == "DELETE":
            return self.sts.detach(role, policy)
        return self.sts.attach(role, policy, body)

    def _c_ram_caller(self, request: Request, body: dict[str, Any], key: str) -> dict[str, Any]:
        return self.sts.register_caller(key, str(body.get("arn") or ""))

    def _c_sts_expire(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        return self.sts.expire_sessions(body.get("after_requests", 0))


def _number(body: dict[str, Any], key: str) -> float:
    value = body[key]
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise invalid(f"{key} must be a number; got {value!r}")
    return float(value)
