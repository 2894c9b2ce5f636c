"""A small client for the control API (``/_emulator/…``), for tests, benchmarks and demos."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote, urlencode

# The control API is on loopback: never send it through a proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ControlError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status} {body.get('error')}: {body.get('message')}")
        self.status = status
        self.body = body


class Control:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def _send(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}/_emulator/{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        try:
            with _OPENER.open(request, timeout=10) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise ControlError(error.code, json.loads(error.read() or b"{}")) from None

    def reset(self) -> None:
        self._send("POST", "reset")

    def fault(self, action: str, kind: str, *, times: int = 1, api: str = "*", **extra: Any) -> dict[str, Any]:
        """Arm a fault: ``throttle``, ``server_error`` (``status``), ``delay`` (``seconds``) or ``lost_response``.

        ``after=N`` lets the next N matching calls through first (the fault hits a call mid-operation)."""
        return self._send("POST", "faults", {"action": action, "kind": kind, "times": times, "api": api, **extra})

    def faults(self) -> list[dict[str, Any]]:
        return self._send("GET", "faults")

    def clear_faults(self) -> None:
        """Disarm every fault still pending (an operator fixing the cause before a rerun)."""
        self._send("DELETE", "faults")

    def clock(self, *, speed: float | None = None, advance: float | None = None) -> dict[str, Any]:
        changes = {k: v for k, v in (("speed", speed), ("advance", advance)) if v is not None}
        return self._send("POST", "clock", changes)

    def timing(self, **apis: dict[str, float]) -> dict[str, Any]:
        return self._send("POST", "timing", apis)

    def verify_credentials(self, access_key_id: str, access_key_secret: str) -> None:
        self._send("POST", "credentials", {"access_key_id": access_key_id, "access_key_secret": access_key_secret})

    def calls(self, *, api: str | None = None, action: str | None = None) -> list[dict[str, Any]]:
        query = urlencode({k: v for k, v in (("api", api), ("action", action)) if v})
        return self._send("GET", f"calls?{query}" if query else "calls")

    def clear_calls(self) -> None:
        self._send("DELETE", "calls")

    def preempt_job(self, job_id: str, **reason: str) -> dict[str, Any]:
        return self._send("POST", f"dlc/jobs/{quote(job_id, safe='')}/preempt", reason)

    def fail_job(self, job_id: str, **reason: str) -> dict[str, Any]:
        return self._send("POST", f"dlc/jobs/{quote(job_id, safe='')}/fail", reason)

    def soft_delete_job(self, job_id: str) -> dict[str, Any]:
        """Delete a finished job the way a soft-deleting DLC would: GetJob answers ``Status: Deleted``."""
        return self._send("POST", f"dlc/jobs/{quote(job_id, safe='')}/soft-delete", {})

    def job_outcomes(self, *outcomes: dict[str, Any]) -> list[dict[str, Any]]:
        return self._send("POST", "dlc/outcomes", {"outcomes": list(outcomes)})

    def fail_service(self, name: str, *, region: str = "cn-hangzhou", **reason: str) -> dict[str, Any]:
        return self._send("POST", f"eas/services/{quote(region, safe='')}/{quote(name, safe='')}/fail", reason)

    def fail_instance(self, instance_id: str, **reason: str) -> dict[str, Any]:
        return self._send("POST", f"dsw/instances/{quote(instance_id, safe='')}/fail", reason)

    def touch_instance(self, instance_id: str) -> dict[str, Any]:
        return self._send("POST", f"dsw/instances/{quote(instance_id, safe='')}/activity", {})

    def create_bucket(self, bucket: str) -> None:
        self._send("PUT", f"oss/buckets/{quote(bucket, safe='')}", {})

    def register_pipeline(self, pipeline_id: str, manifest: str) -> None:
        """Stand in for ``pai.FlowPipeline``: runs of this pipeline id can be created; each run checks ``manifest``."""
        self._send("PUT", f"paiflow/pipelines/{quote(pipeline_id, safe='')}", {"manifest": manifest})

    def set_metrics(self, service: str, **values: float | str | None) -> dict[str, Any]:
        """Metrics of a service; a string value (``"NaN"``, ``"missing"``, ``"null"``, …) is served as a lie."""
        return self._send("PUT", f"metrics/{quote(service, safe='')}", values)

    def operate(self, **action: Any) -> dict[str, Any]:
        """An operator's console action now: ``release=``, ``fail=``, ``stop=``, ``scale=`` or ``traffic_mode=``."""
        return self._send("POST", "eas/operate", action)

    def at_metrics_query(self, after_queries: int, **action: Any) -> list[dict[str, Any]]:
        """Run an operator action when the metrics query after the next ``after_queries`` ones arrives."""
        return self._send("POST", "metrics-schedule", {"after_queries": after_queries, "do": action})

    def refuse_metrics(self, status: int, code: str = "", message: str = "", *, in_body: bool = False) -> None:
        """Refuse every metrics query from now on (``in_body``: HTTP 200 with ``Success: false``)."""
        self._send("POST", "metrics-refusal", {"status": status, "code": code, "message": message, "in_body": in_body})

    def put_role(self, name: str, trust: dict[str, Any], **extra: Any) -> str:
        """Register a RAM role (its trust policy; ``max_session_duration``, ``account``); answers its ARN."""
        return self._send("PUT", f"ram/roles/{quote(name, safe='')}", {"trust": trust, **extra})["Arn"]

    def attach_policy(self, role: str, policy: str, document: dict[str, Any], *, hidden_for: int = 0) -> None:
        """Attach a policy document to a role; ``hidden_for``: the role's next N OSS requests do not see it yet."""
        path = f"ram/roles/{quote(role, safe='')}/policies/{quote(policy, safe='')}"
        self._send("PUT", path, {"document": document, "hidden_for": hidden_for})

    def detach_policy(self, role: str, policy: str) -> None:
        self._send("DELETE", f"ram/roles/{quote(role, safe='')}/policies/{quote(policy, safe='')}")

    def register_caller(self, access_key_id: str, arn: str) -> None:
        """Who a long-term access key is (by default a user of the emulator's account named by the key)."""
        self._send("PUT", f"ram/callers/{quote(access_key_id, safe='')}", {"arn": arn})

    def expire_sessions(self, *, after_requests: int = 0) -> None:
        """Every STS session issued so far expires after the next ``after_requests`` OSS requests of sessions."""
        self._send("POST", "sts/expire", {"after_requests": after_requests})
