"""The emulator's shared machinery: virtual clock, lifecycles, faults, the call record, API errors, ids."""

from __future__ import annotations

import itertools
import re
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

T = TypeVar("T")

FaultKind = Literal["throttle", "server_error", "delay", "lost_response"]
FAULT_KINDS: tuple[FaultKind, ...] = ("throttle", "server_error", "delay", "lost_response")


class ApiError(Exception):
    """An error answer: HTTP status, error code and message, rendered in the API's own format."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def invalid(message: str, code: str = "InvalidParameter") -> ApiError:
    return ApiError(400, code, message)


class Clock:
    """Virtual time: real time scaled by ``speed`` plus manual advances, as epoch seconds.

    Lifecycles are scheduled in virtual seconds, so at ``speed`` 1000 a job that "runs 40 minutes" finishes in
    2.4 real seconds, and ``advance(2400)`` finishes it at once.
    """

    def __init__(self, speed: float = 1.0) -> None:
        self._lock = threading.Lock()
        self._anchor_real = time.monotonic()
        self._anchor_virtual = time.time()
        self._speed = speed

    def now(self) -> float:
        with self._lock:
            return self._anchor_virtual + (time.monotonic() - self._anchor_real) * self._speed

    @property
    def speed(self) -> float:
        return self._speed

    def set_speed(self, speed: float) -> None:
        if speed <= 0:
            raise invalid(f"speed must be positive; got {speed!r}")
        now = self.now()
        with self._lock:
            self._anchor_real, self._anchor_virtual, self._speed = time.monotonic(), now, speed

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise invalid(f"advance must not go back in time; got {seconds!r}")
        with self._lock:
            self._anchor_virtual += seconds


def iso(epoch: float) -> str:
    """UTC time as the PAI APIs write it: ``2026-11-24T10:15:00Z``."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@dataclass
class Phase:
    status: str
    start: float
    reason_code: str = ""
    reason_message: str = ""


@dataclass
class Lifecycle:
    """A resource's status over virtual time: a plan of phases, each holding until the next one starts.

    Transitions are computed when read, so nothing runs in the background; ``replan`` drops the phases not yet
    reached and schedules new ones from ``now``.
    """

    phases: list[Phase] = field(default_factory=lambda: list[Phase]())

    @classmethod
    def starting(cls, now: float, steps: Iterable[tuple[str, float]]) -> Lifecycle:
        lifecycle = cls()
        lifecycle.replan(now, steps)
        return lifecycle

    def current(self, now: float) -> Phase:
        reached = [phase for phase in self.phases if phase.start <= now]
        return reached[-1] if reached else self.phases[0]

    def status(self, now: float) -> str:
        return self.current(now).status

    def replan(self, now: float, steps: Iterable[tuple[str, float]], reason: tuple[str, str] = ("", "")) -> None:
        """Keep the phases reached by ``now``, then run ``steps`` (status, seconds it lasts) from ``now``.

        The last step lasts forever whatever its duration; ``reason`` is set on it.
        """
        self.phases = [phase for phase in self.phases if phase.start <= now]
        start = now
        steps = list(steps)
        for index, (status, seconds) in enumerate(steps):
            last = index == len(steps) - 1
            self.phases.append(Phase(status, start, *(reason if last else ("", ""))))
            start += seconds

    def entered(self, status: str, now: float) -> float | None:
        """When the resource last entered ``status``, if it has by ``now``."""
        starts = [phase.start for phase in self.phases if phase.status == status and phase.start <= now]
        return starts[-1] if starts else None

    def history(self, now: float) -> list[tuple[Phase, float | None]]:
        """The phases reached by ``now``, each with its end (None for the current one)."""
        reached = [phase for phase in self.phases if phase.start <= now]
        ends: list[float | None] = [phase.start for phase in reached[1:]]
        return list(zip(reached, [*ends, None], strict=True))


@dataclass
class Fault:
    id: int
    api: str
    action: str
    kind: FaultKind
    times: int
    seconds: float = 0.0
    status: int = 503
    after: int = 0  # matching calls let through untouched before the fault starts


class Faults:
    """Faults armed per API and action (``*`` for any), consumed in the order they were added."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, spec: dict[str, Any]) -> Fault:
        kind = spec.get("kind")
        if kind not in FAULT_KINDS:
            raise invalid(f"kind must be one of {', '.join(FAULT_KINDS)}; got {kind!r}")
        action = spec.get("action")
        if not isinstance(action, str) or not action:
            raise invalid("action is required: the API action to fault (CreateJob, PutObject, …) or '*'")
        times = spec.get("times", 1)
        seconds = spec.get("seconds", 0.0)
        status = spec.get("status", 503)
        if not isinstance(times, int) or times < 1:
            raise invalid(f"times must be a positive integer; got {times!r}")
        if not isinstance(seconds, int | float) or seconds < 0 or (kind == "delay" and seconds == 0):
            raise invalid(f"seconds must be a positive number for a delay; got {seconds!r}")
        if not isinstance(status, int) or not 500 <= status <= 599:
            raise invalid(f"status must be a 5xx code; got {status!r}")
        after = spec.get("after", 0)
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            raise invalid(f"after must be a count of calls (0 or more); got {after!r}")
        api = spec.get("api", "*")
        fault = Fault(next(self._ids), str(api), action, kind, times, float(seconds), status, after)
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, api: str, action: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.api in ("*", api) and fault.action in ("*", action):
                    if fault.after > 0:  # this call passes; the fault waits for a later one
                        fault.after -= 1
                        return None
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


@dataclass
class Call:
    """One request the emulator answered (or faulted), as recorded for tests to assert on."""

    seq: int
    api: str
    action: str
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int
    fault: str | None
    at: float

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "api": self.api,
            "action": self.action,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "body": self.body,
            "status": self.status,
            "fault": self.fault,
            "at": iso(self.at),
        }


class Calls:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._seq = itertools.count(1)

    def record(self, **fields: Any) -> None:
        with self._lock:
            self._calls.append(Call(seq=next(self._seq), **fields))

    def list(self, api: str | None = None, action: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if (api in (None, c.api)) and (action in (None, c.action))]

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()


def request_id() -> str:
    return str(uuid.uuid4()).upper()


def short_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:16]}"


def handler_name(action: str) -> str:
    """The method that answers an action: ``CreateServiceAutoScaler`` → ``_create_service_auto_scaler``."""
    return "_" + re.sub(r"(?<!^)(?=[A-Z])", "_", action).lower()


def paginate(items: list[T], query: dict[str, str], default_size: int) -> tuple[list[T], int, int]:
    """One page of ``items`` as ``PageNumber`` (from 1) and ``PageSize`` ask: (page, number, size)."""
    number, size = int(query.get("PageNumber") or 1), int(query.get("PageSize") or default_size)
    return items[(number - 1) * size : number * size], number, size


def truthy(value: str | None) -> bool:
    """Booleans in query strings: the SDKs send Python's ``True``/``False``, other clients ``true``/``false``."""
    return (value or "").strip().lower() == "true"


_ROLE_ARN = re.compile(r"^acs:ram::(?P<account>[0-9]+):role/[A-Za-z0-9._-]+$")


def check_service_roles(items: Any, where: str) -> None:
    """CredentialConfig roles (DLC ``CredentialConfigItems``, DSW ``Configs``) as a PAI service can assume them.

    RoleType ``service`` is "assumed by a service", ``user`` "assumed by a regular user" (DSW CredentialConfig
    struct); a role that trusts only a service principal cannot be assumed as ``user``, and the DLC SDK's role-chain
    example pairs ``service`` with ``assumeRoleFor`` = the uid of the role's account. The emulator takes that, the
    less forgiving reading, as the only accepted form.
    """
    for index, item in enumerate(items if isinstance(items, list) else []):
        for number, role in enumerate((item or {}).get("Roles") or []):
            at = f"{where}[{index}].Roles[{number}]"
            arn = str(role.get("RoleArn") or "")
            match = _ROLE_ARN.match(arn)
            if match is None:
                raise invalid(f"{at}.RoleArn must be acs:ram::<uid>:role/<name>; got {arn!r}")
            if role.get("RoleType") != "service":
                raise invalid(
                    f"{at}.RoleType must be 'service' for a role assumed by a PAI service; got {role.get('RoleType')!r}"
                )
            if role.get("AssumeRoleFor") != match["account"]:
                raise invalid(
                    f"{at}.AssumeRoleFor must be the uid of the role's account, {match['account']}; "
                    f"got {role.get('AssumeRoleFor')!r}"
                )
