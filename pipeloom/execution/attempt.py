"""The attempt loop every executor shares: call the worker, record how it ended, retry.

Threads, pool processes and Dask workers run `run_attempts`; coroutines run
`run_attempts_async`. Both leave every decision (retry or not, after how long, what to
record) to `Attempts`, so the retry policy lives in one place.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ..clock import utc_now
from ..control import TaskClosed, TasksCancelled
from .queue import CancelFlag

__all__ = [
    "NO_RETRY",
    "Attempts",
    "Item",
    "RetryPolicy",
    "closed_message",
    "run_attempts",
    "run_attempts_async",
]

Item = tuple[Any, Any, str]
"""(task, task_id, name): what a runner hands to the attempt loop."""


def describe(exc: BaseException) -> str:
    """`TypeName: text` of an exception."""
    return f"{type(exc).__name__}: {exc}"


def closed_message(
    item: Item, started: str, exc: BaseException | None, retrying: bool = False
) -> TaskClosed:
    """The `TaskClosed` for one attempt at `item`: how it ended, with the traceback if it raised."""
    return TaskClosed(
        item[1],
        item[2],
        started,
        utc_now(),
        None if exc is None else describe(exc),
        None if exc is None else "".join(traceback.format_exception(exc)),
        retrying,
    )


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often to retry a task that raised, and how long to wait between attempts."""

    retries: int = 0
    """Attempts after the first."""
    backoff: float = 0.5
    """Seconds before the first retry; doubles with each retry."""

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        return self.backoff * (2 ** (attempt - 1))


NO_RETRY = RetryPolicy()
"""One attempt per task."""


class Attempts:
    """The attempts at one task: `begin` each, then `end` says whether to retry."""

    __slots__ = ("_cancelled", "_put", "item", "n", "policy", "started")

    def __init__(
        self, item: Item, policy: RetryPolicy, put: Callable[[Any], None], cancelled: CancelFlag
    ) -> None:
        self.item = item
        self.policy = policy
        self._put = put
        self._cancelled = cancelled
        self.n = 0
        self.started = ""

    def begin(self) -> None:
        """An attempt starts now."""
        self.n += 1
        self.started = utc_now()

    def end(self, exc: BaseException | None) -> float | None:
        """Record how the attempt ended; the delay before retrying, or None when it is over."""
        retry = exc is not None and self.n <= self.policy.retries and not self._cancelled.is_set()
        self._put(closed_message(self.item, self.started, exc, retrying=retry))
        return self.policy.delay(self.n) if retry else None


def run_attempts(fn: Callable[..., Any], item: Item, q: Any, policy: RetryPolicy) -> None:
    """Call `fn(task, q)` until it succeeds, retries run out, or the run is cancelled.

    Any exception ends the attempt, `BaseException`s included: in a worker thread a
    `SystemExit` or `KeyboardInterrupt` can only come from the worker itself (signals go
    to the main thread), and must not silently end the thread with its task unrecorded.
    """
    attempts = Attempts(item, policy, q.put, q.cancelled)
    while True:
        attempts.begin()
        try:
            fn(item[0], q)
        except BaseException as exc:  # SystemExit too: it ends the task, not the thread
            delay = attempts.end(exc)
        else:
            delay = attempts.end(None)
        if delay is None or q.cancelled.wait(delay):
            return


async def run_attempts_async(
    fn: Callable[..., Awaitable[Any]], item: Item, q: Any, policy: RetryPolicy
) -> None:
    """`run_attempts` for an `async def` worker; a cancel records the task `cancelled`.

    A `CancelledError` the worker raises itself (not from a cancel of its task) is a
    failure like any other. `KeyboardInterrupt` propagates: on a kernel's loop, which runs
    in the main thread, it may be the user's Ctrl-C.
    """
    attempts = Attempts(item, policy, q.put, q.cancelled)
    while True:
        attempts.begin()
        try:
            await fn(item[0], q)
        except asyncio.CancelledError as exc:
            if _cancelled_by_us():
                q.put(TasksCancelled((item[1],), utc_now()))
                raise
            delay = attempts.end(exc)  # the worker's own CancelledError: a failure
        except KeyboardInterrupt:
            raise  # on the kernel's loop this may be a real Ctrl-C: the engine handles it
        except BaseException as exc:
            delay = attempts.end(exc)
        else:
            delay = attempts.end(None)
        if delay is None:
            return
        await asyncio.sleep(delay)


def _cancelled_by_us() -> bool:
    """True when this coroutine's task was cancelled from outside (a Stop, Ctrl-C)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
