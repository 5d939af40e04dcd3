"""The retry policy: what to retry, after how long, and how long one attempt may take.

The default (`retry_on=None`) retries what a second try can fix: network errors,
timeouts, HTTP 429 / 5xx, `RetryAfter`, a response body cut short or garbled (see
`bodies`), and any other exception, except those a retry repeats for sure: an HTTP 4xx
other than 408/425/429, and data or programming errors (`ValueError`, `TypeError`,
`LookupError`, `AttributeError`, `NameError`, ...).
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import RetryAfter
from .bodies import is_body_error

__all__ = [
    "NO_RETRY",
    "RetryOn",
    "RetryPolicy",
    "http_status",
    "is_transient",
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
    """Seconds from a `Retry-After` value: a number of seconds or an HTTP date."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - time.time())


def server_delay(exc: BaseException) -> float | None:
    """How long the server asked us to wait: `RetryAfter`, or a 429/503 with `Retry-After`."""
    if isinstance(exc, RetryAfter):
        return exc.seconds
    if http_status(exc) not in PUSH_BACK_STATUS:
        return None
    headers = _headers(exc)
    get = getattr(headers, "get", None)
    return None if get is None else parse_retry_after(get("Retry-After"))


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

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based), jittered."""
        base = self.backoff * (2 ** (attempt - 1))
        return min(self.max_delay, base + random.uniform(0, self.backoff))

    def wants(self, exc: BaseException) -> bool:
        """True if `exc` is worth another attempt."""
        return _matcher(self.retry_on)(exc)


NO_RETRY = RetryPolicy()
"""One attempt per task."""
