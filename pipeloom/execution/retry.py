"""The retry policy: what to retry, after how long, and how long one attempt may take.

The default (`retry_on=None`) retries what a second try can fix: network errors,
timeouts, HTTP 429 / 5xx, `RetryAfter`, a response body cut short or garbled (see
`bodies`), and any other exception, except those a retry repeats for sure: an HTTP 4xx
other than 408/425/429, and data or programming errors (`ValueError`, `TypeError`,
`LookupError`, `AttributeError`, `NameError`, ...).
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..core.clock import MAX_WAIT
from ..errors import RetryAfter
from .bodies import is_body_error

__all__ = [
    "NO_RETRY",
    "PushBack",
    "RetryOn",
    "RetryPolicy",
    "http_status",
    "is_transient",
    "push_back",
    "server_delay",
]

RetryOn = type[BaseException] | tuple[type[BaseException], ...] | Callable[[BaseException], bool]
"""Exception types to retry, or a predicate on the exception."""

PERMANENT = (
    ValueError,
    TypeError,
    LookupError,
    AttributeError,
    NameError,
    ImportError,
    NotImplementedError,
    AssertionError,
    SyntaxError,
)
"""A retry repeats these: the same input fails the same way."""

TRANSPORT_NAMES = frozenset(
    {"TransportError", "TimeoutException", "ConnectionError", "Timeout", "ChunkedEncodingError"}
)
"""requests' and httpx's network errors, matched by class name (neither is imported)."""

RETRY_STATUS = frozenset({408, 425, 429})
PUSH_BACK_STATUS = frozenset({429, 503})


def http_status(exc: BaseException) -> int | None:
    """The HTTP status an exception carries (requests, httpx, urllib), or None."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if status is None and hasattr(exc, "headers"):
        status = getattr(exc, "code", None)  # urllib.error.HTTPError
    return status if isinstance(status, int) else None


def _headers(exc: BaseException) -> Any:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    return headers if headers is not None else getattr(exc, "headers", None)


def parse_retry_after(value: Any) -> float | None:
    """Seconds from a `Retry-After` value: a number of seconds or an HTTP date (None: neither).

    No upper bound here: `RetryPolicy.max_retry_after` decides what is too long to wait.
    """
    if value is None:
        return None
    text = str(value).strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return None if math.isnan(seconds) else max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(text)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


class PushBack(NamedTuple):
    """A server's request to wait before trying again."""

    seconds: float
    said: str
    """As the server said it: `Retry-After: <value>`, or `RetryAfter`."""


def push_back(exc: BaseException) -> PushBack | None:
    """The push-back an exception carries: `RetryAfter`, or a 429/503 with `Retry-After`."""
    if isinstance(exc, RetryAfter):
        return PushBack(exc.seconds, "RetryAfter")
    if http_status(exc) not in PUSH_BACK_STATUS:
        return None
    get = getattr(_headers(exc), "get", None)
    value = None if get is None else get("Retry-After")
    seconds = parse_retry_after(value)
    return None if seconds is None else PushBack(seconds, f"Retry-After: {value}")


def server_delay(exc: BaseException) -> float | None:
    """How long the server asked us to wait, in seconds (None: it did not push back)."""
    said = push_back(exc)
    return None if said is None else said.seconds


def is_transient(exc: BaseException) -> bool:
    """The default `retry_on`: True unless a retry would fail the same way."""
    status = http_status(exc)
    if status is not None:
        return status >= 500 or status in RETRY_STATUS
    if isinstance(exc, RetryAfter | OSError):
        return True
    if any(c.__name__ in TRANSPORT_NAMES for c in type(exc).__mro__):
        return True
    if is_body_error(exc):
        return True
    return not isinstance(exc, PERMANENT)


def _matcher(retry_on: RetryOn | None) -> Callable[[BaseException], bool]:
    if retry_on is None:
        return is_transient
    if isinstance(retry_on, type | tuple):
        types = retry_on
        return lambda exc: isinstance(exc, types)
    return retry_on


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often to retry a task that raised, which errors, how long to wait, the time limit."""

    retries: int = 0
    """Attempts after the first."""
    backoff: float = 0.5
    """Seconds before the first retry; doubles with each retry, plus up to as much jitter."""
    max_delay: float = 60.0
    """The longest wait between attempts (a server's `Retry-After` may ask for more)."""
    retry_on: RetryOn | None = None
    """Exception types or a predicate; None: `is_transient`."""
    timeout: float | None = None
    """Seconds one attempt may take; then it fails with `TimeoutError`."""
    max_retry_after: float = 3600.0
    """The longest push-back obeyed; a server asking for more fails the task (not retried)."""

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based), jittered."""
        base = self.backoff * 2.0 ** min(attempt - 1, 1000)  # no OverflowError at any count
        return min(self.max_delay, base + random.uniform(0, self.backoff), MAX_WAIT)

    def wants(self, exc: BaseException) -> bool:
        """True if `exc` is worth another attempt."""
        return _matcher(self.retry_on)(exc)


NO_RETRY = RetryPolicy()
"""One attempt per task."""
