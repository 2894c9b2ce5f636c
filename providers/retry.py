"""The one retry policy for calls to Alibaba Cloud: transient failures are retried, and only those.

The SDKs retry nothing by default. What counts as transient (the rule Terraform's alicloud provider uses too):

- throttling: a ``Throttling*`` error code (real APIs answer HTTP 400 ``Throttling.User``), HTTP 429, or an
  ``x-acs-retry-after`` answer (``ThrottlingException``, whose delay is honoured);
- server errors: HTTP 5xx, ``ServiceUnavailable``;
- transport errors: connection refused or reset, timeouts.

Validation and other 4xx errors are never retried: they fail at once with the API's code and message.

A call that *creates* something is not idempotent: after a 5xx or a dropped connection the server may have acted
on it. Such calls (``idempotent=False``) are retried only on throttling, which the server refuses before acting;
any other failure is raised as :class:`AmbiguousOutcome` so the provider looks for what it asked for (by its
deterministic key) before asking again.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import oss2.exceptions
from alibabacloud_tea_openapi.exceptions import ThrottlingException
from darabonba.exceptions import RetryError as TransportFailure
from Tea.exceptions import TeaException
from Tea.exceptions import UnretryableException as SdkUnretryable
from tenacity import RetryCallState, Retrying, retry_if_exception, wait_exponential_jitter

from providers.waiting import Deadline, Sleep, progress

T = TypeVar("T")

_THROTTLING = re.compile(r"Throttling")
_TRANSIENT_CODES = frozenset({"ServiceUnavailable", "Rejected.Throttling", "SlowDown", "RequestTimeout"})


class AmbiguousOutcome(Exception):
    """A non-idempotent call failed in a way that leaves open whether the server acted on it.

    The cause is chained. Look for the thing by its key before submitting it again.
    """


def status_of(error: BaseException) -> int | None:
    """The HTTP status of an SDK or oss2 error, when it carries one."""
    if isinstance(error, oss2.exceptions.OssError):
        return error.status if error.status > 0 else None
    status = getattr(error, "status_code", None) or getattr(error, "statusCode", None)
    return status if isinstance(status, int) else None


def code_of(error: BaseException) -> str | None:
    """The API error code (``Throttling.User``, ``InvalidService.NotFound``, ``NoSuchKey``…) when there is one."""
    if isinstance(error, oss2.exceptions.OssError):
        return error.code or None
    code = getattr(error, "code", None)
    return code if isinstance(code, str) and code != "None" else None


def is_not_found(error: BaseException) -> bool:
    """The thing acted on does not exist: HTTP 404 or a ``…NotFound`` code (EAS, DLC and DSW all use both)."""
    return status_of(error) == 404 or (code_of(error) or "").endswith("NotFound")


def is_transport_failure(error: BaseException) -> bool:
    """The request or its answer was lost on the way: connection refused or dropped, a timeout."""
    if isinstance(error, oss2.exceptions.RequestError):
        return True
    return isinstance(error, SdkUnretryable) and isinstance(error.inner_exception, TransportFailure)


def is_throttling(error: BaseException) -> bool:
    if isinstance(error, ThrottlingException):
        return True
    code = code_of(error)
    return status_of(error) == 429 or (code is not None and _THROTTLING.search(code) is not None)


def is_transient(error: BaseException) -> bool:
    """Whether retrying the same request may succeed: throttling, 5xx, transport failures."""
    if is_throttling(error) or is_transport_failure(error):
        return True
    if not isinstance(error, TeaException | oss2.exceptions.OssError):
        return False
    status = status_of(error)
    return (status is not None and status >= 500) or code_of(error) in _TRANSIENT_CODES


def describe(error: BaseException) -> str:
    """A one-line account of an SDK error: code, HTTP status and message."""
    code, status = code_of(error), status_of(error)
    message = getattr(error, "message", None) or str(error)
    if isinstance(error, SdkUnretryable):
        message = str(error.inner_exception)
    head = " ".join(part for part in (code, f"(HTTP {status})" if status else None) if part)
    return f"{head}: {message}" if head else message


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """Jittered exponential backoff: ``initial`` * 2**n seconds (at most ``maximum``) plus up to ``jitter``."""

    initial: float = 0.5
    maximum: float = 20.0
    jitter: float = 0.5


DEFAULT_POLICY = RetryPolicy()


def call(
    operation: Callable[[], T],
    *,
    what: str,
    deadline: Deadline,
    idempotent: bool = True,
    policy: RetryPolicy = DEFAULT_POLICY,
    sleep: Sleep = time.sleep,
) -> T:
    """Run ``operation``, retrying transient failures with backoff until it succeeds or ``deadline`` would pass.

    Gives up with the last error itself (a note says how many attempts were made), never with a wrapper, so
    callers can still look at its code. A retry that would sleep past the deadline is not attempted.
    """
    backoff = wait_exponential_jitter(multiplier=policy.initial, max=policy.maximum, jitter=policy.jitter)

    def retryable(error: BaseException) -> bool:
        return is_throttling(error) if not idempotent else is_transient(error)

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        retry_after = error.retry_after if isinstance(error, ThrottlingException) else None
        return max(backoff(state), float(retry_after or 0))

    def stop(state: RetryCallState) -> bool:
        return state.upcoming_sleep >= deadline.remaining()

    def announce(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        if error is not None:
            progress(f"{what}: {describe(error)}; retry {state.attempt_number} in {state.upcoming_sleep:.1f}s")

    retrying = Retrying(
        retry=retry_if_exception(retryable),
        wait=wait,
        stop=stop,
        sleep=sleep,
        before_sleep=announce,
        reraise=True,
    )
    attempts = 0
    try:
        for attempt in retrying:
            with attempt:
                attempts += 1
                return operation()
    except Exception as error:
        if attempts > 1:
            error.add_note(f"{what}: gave up after {attempts} attempts in {deadline.elapsed():.1f}s")
        if not idempotent and not is_throttling(error) and is_transient(error):
            raise AmbiguousOutcome(f"{what}: {describe(error)}; the server may have acted on it") from error
        raise
    raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover
