"""The attempt loop every executor shares: wait for a start, call the worker, record, retry.

Threads, pool processes and Dask workers run `run_attempts`; coroutines run
`run_attempts_async`. Both leave every decision (retry or not, after how long, what to
record, what the run's `Throttle` hears) to `Attempts`, so the policy lives in one place.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from ..core.clock import MAX_WAIT, utc_now
from ..core.control import TaskClosed, TasksCancelled
from ..core.exctext import describe, format_traceback, may_be_ctrl_c
from ..core.lane import current_lane
from ..core.messages import MsgTaskProgress
from ..core.queue import CancelFlag
from .retry import NO_RETRY, RetryPolicy
from .timeouts import attempt_timed_out, call_with_timeout, timed_out
from .verdict import Verdict, judge

__all__ = [
    "NO_RETRY",
    "Attempts",
    "Item",
    "RetryPolicy",
    "closed_message",
    "failed_message",
    "run_attempts",
    "run_attempts_async",
]


class Item(NamedTuple):
    """What a runner hands to the attempt loop: the caller's task, its id and its name."""

    task: Any
    task_id: Any
    name: str


def closed_message(
    item: Item,
    started_ns: int,
    exc: BaseException | None,
    retrying: bool = False,
    retry_after: float | None = None,
) -> TaskClosed:
    """The `TaskClosed` for one attempt at `item`: how it ended, with the traceback if it raised."""
    if exc is None:
        return TaskClosed(
            item.task_id,
            item.name,
            started_ns,
            time.time_ns(),
            None,
            None,
            False,
            None,
            False,
            False,
            current_lane(),
        )
    limit = timed_out(exc)
    verdict = Verdict(describe(exc), format_traceback(exc), retrying, retry_after, limit)
    return failed_message(item, started_ns, verdict)


def failed_message(item: Item, started_ns: int, verdict: Verdict) -> TaskClosed:
    """The `TaskClosed` for an attempt at `item` that raised, as judged."""
    return TaskClosed(
        item.task_id,
        item.name,
        started_ns,
        time.time_ns(),
        verdict.error,
        verdict.traceback,
        verdict.retry,
        verdict.retry_after,
        verdict.timed_out is not None,
        verdict.timed_out is True,
        current_lane(),
    )


class Attempts:
    """The attempts at one task: `begin` each, then `end` says whether to retry and when."""

    __slots__ = ("_cancelled", "_limiter", "_put", "item", "n", "policy", "started_ns")

    def __init__(self, item: Item, policy: RetryPolicy, q: Any) -> None:
        self.item = item
        self.policy = policy
        self._put: Callable[[Any], None] = q.put
        self._cancelled: CancelFlag = q.cancelled
        self._limiter = getattr(q, "limiter", None)  # None in other processes: the parent's
        self.n = 0
        self.started_ns = 0

    def begin(self) -> None:
        """An attempt starts now."""
        self.n += 1
        self.started_ns = time.time_ns()

    def end(self, exc: BaseException | None) -> float | None:
        """Record how the attempt ended; the delay before retrying, or None when it is over."""
        if exc is None:
            self._close(closed_message(self.item, self.started_ns, None))
            return None
        verdict = judge(exc, self.policy, self.n, self._cancelled)
        self._close(failed_message(self.item, self.started_ns, verdict))
        if not verdict.retry:
            return None
        pushed = verdict.retry_after
        if pushed is None:
            return self.policy.delay(self.n)
        self._put(MsgTaskProgress(self.item.task_id, 0, 0, f"rate limited: waiting {pushed:.1f} s"))
        return pushed

    def _close(self, msg: TaskClosed) -> None:
        self._put(msg)
        if self._limiter is not None:
            self._limiter.record(msg)

    def cancel(self) -> None:
        """The run was cancelled while this task waited for its turn to start."""
        self._put(TasksCancelled((self.item.task_id,), utc_now()))


def run_attempts(fn: Callable[..., Any], item: Item, q: Any, policy: RetryPolicy) -> None:
    """Call `fn(task, q)` until it succeeds, retries run out, or the run is cancelled.

    Each attempt first waits for its start under the run's `rate=`. Any exception ends
    the attempt, `BaseException`s included: in a worker thread a `SystemExit` or
    `KeyboardInterrupt` can only come from the worker itself (signals go to the main
    thread), and must not silently end the thread with its task unrecorded. With
    `policy.timeout`, each attempt runs in a fresh thread, abandoned when it overruns.
    Waits are capped at `MAX_WAIT`, the longest a thread can wait.
    """
    attempts = Attempts(item, policy, q)
    while True:
        wait = min(q.reserve(), MAX_WAIT)
        if wait > 0 and q.cancelled.wait(wait):
            attempts.cancel()
            return
        attempts.begin()
        try:
            if policy.timeout is None:
                fn(item.task, q)
            else:
                call_with_timeout(fn, item.task, q, policy.timeout)
        except BaseException as exc:  # SystemExit too: it ends the task, not the thread
            delay = attempts.end(exc)
        else:
            delay = attempts.end(None)
        if delay is None or q.cancelled.wait(min(delay, MAX_WAIT)):
            return


async def run_attempts_async(
    fn: Callable[..., Awaitable[Any]], item: Item, q: Any, policy: RetryPolicy
) -> None:
    """`run_attempts` for an `async def` worker; a cancel records the task `cancelled`.

    A `CancelledError` the worker raises itself (not from a cancel of its task) is a
    failure like any other. `KeyboardInterrupt` propagates in the main thread: on a
    kernel's loop it may be the user's Ctrl-C; on a loop of its own thread it can only be
    the worker's, and fails the task. With `policy.timeout`, an attempt that overruns is
    cancelled and fails with `TimeoutError`.
    """
    attempts = Attempts(item, policy, q)
    while True:
        try:
            await asyncio.sleep(min(q.reserve(), MAX_WAIT))
            attempts.begin()
            await _attempt_async(fn, item.task, q, policy.timeout)
        except asyncio.CancelledError as exc:
            if _cancelled_by_us():
                q.put(TasksCancelled((item.task_id,), utc_now()))
                raise
            delay = attempts.end(exc)  # the worker's own CancelledError: a failure
        except BaseException as exc:
            if may_be_ctrl_c(exc):
                raise  # on the kernel's loop this may be a real Ctrl-C: the engine handles it
            delay = attempts.end(exc)
        else:
            delay = attempts.end(None)
        if delay is None:
            return
        await asyncio.sleep(min(delay, MAX_WAIT))


async def _attempt_async(
    fn: Callable[..., Awaitable[Any]], task: Any, q: Any, seconds: float | None
) -> None:
    if seconds is None:
        await fn(task, q)
        return
    limit = asyncio.timeout(seconds)
    try:
        async with limit:
            await fn(task, q)
    except TimeoutError as exc:
        if not limit.expired():
            raise
        raise attempt_timed_out(seconds, abandoned=False) from exc


def _cancelled_by_us() -> bool:
    """True when this coroutine's task was cancelled from outside (a Stop, Ctrl-C)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
