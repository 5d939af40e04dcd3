"""The bounded message queue between workers and the writer.

A `queue.SimpleQueue` (C) carries the messages; bounding is approximate and costs one
`qsize()` per put: a producer that finds the queue full waits until the writer drains it
below half. That keeps `put()` close to the C queue's speed while memory stays bounded.

Progress is coalesced: while messages wait for the writer, a `MsgTaskProgress` does not
join them but replaces its task's previous one in a slot (the writer would overwrite it
anyway). Any other message of that task releases the slot into the queue first, so the
writer still sees each task's messages in order, and the slots are taken with each batch.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from ..errors import RunEnded, WriterError
from .clock import MAX_WAIT
from .control import LatestProgress
from .messages import AddTasks, MsgTaskProgress

__all__ = ["CancelFlag", "MessageQueue", "Throttled", "WorkerQueue"]


@runtime_checkable
class CancelFlag(Protocol):
    """`q.cancelled`: set once the run is being cancelled."""

    def is_set(self) -> bool:
        """True once the run is being cancelled."""

    def wait(self, timeout: float | None = None) -> bool:
        """Wait up to `timeout` seconds for a cancel; True if cancelled."""


@runtime_checkable
class WorkerQueue(Protocol):
    """What a worker gets as `q`, in a thread, a coroutine or another process."""

    cancelled: CancelFlag
    """Long workers may poll `q.cancelled.is_set()` and stop early."""

    def put(self, msg: Any) -> None:
        """Hand a message to the writer."""

    def reserve(self) -> float:
        """Take one start of the run's `rate=`; seconds until it is yours (0: now)."""

    def throttle(self) -> float:
        """Take one start of the run's `rate=` and wait for it; the seconds waited."""

    async def athrottle(self) -> float:
        """`throttle` for a coroutine: waits with `asyncio.sleep`."""


class Throttled:
    """`reserve`/`throttle`/`athrottle` over a `reserve()` (a run's `Throttle`, the parent's)."""

    cancelled: Any

    def reserve(self) -> float:
        """Take one start of the run's `rate=`; seconds until it is yours (0: now)."""
        return 0.0

    def throttle(self) -> float:
        """Take one start of the run's `rate=` and wait for it; the seconds waited.

        A task that makes several requests calls this before each request after its
        first (the task's own start took one). Returns at once if the run is cancelled.
        """
        wait = min(self.reserve(), MAX_WAIT)
        if wait > 0:
            self.cancelled.wait(wait)
        return wait

    async def athrottle(self) -> float:
        """`throttle` for a coroutine: `await q.athrottle()` before each further request."""
        wait = min(self.reserve(), MAX_WAIT)
        if wait > 0:
            await asyncio.sleep(wait)
        return wait


class MessageQueue(Throttled):
    """What workers call `put()` on; the writer drains it in batches."""

    def __init__(
        self,
        maxsize: int = 10_000,
        cancelled: threading.Event | None = None,
        limiter: Any = None,
    ) -> None:
        self.maxsize = maxsize
        self.limiter = limiter
        """The run's `Throttle` (task starts per second, push-backs), or None."""
        if limiter is not None:
            self.reserve = limiter.reserve  # once per task: no call in between
        self._q: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._latest: dict[Any, tuple[MsgTaskProgress, int]] = {}
        """Per task id: its newest progress not yet queued, and how many it superseded."""
        self._drained = threading.Condition(threading.Lock())
        self._waiting = 0
        self.cancelled = cancelled if cancelled is not None else threading.Event()
        """Set when the run is being cancelled; long workers may poll `q.cancelled.is_set()`."""
        self.writer_error: BaseException | None = None
        self.growth: Callable[[AddTasks, bool], None] | None = None
        """Takes the tasks an `AddTasks` adds (the run's feed), as it is put."""

    def put(self, msg: Any, block: bool = True, timeout: float | None = None) -> None:
        """Queue a message for the writer, waiting while the queue is full.

        As with `queue.Queue.put`: `block=False` raises `queue.Full` at once, and `timeout`
        bounds the wait. A progress message kept in its task's slot never waits.

        Each slot is taken with `dict.pop`, atomic under the GIL: a superseded message is
        counted by whoever took the slot, never twice, and never lost to a racing writer.
        """
        if type(msg) is MsgTaskProgress:  # inlined: this runs for every progress message
            latest = self._latest
            try:
                old = latest.pop(msg.task_id, None)
                if old is not None:
                    latest[msg.task_id] = (msg, old[1] + 1)
                    return
                if self._q.qsize():  # the writer is busy: hold it, superseding none yet
                    latest[msg.task_id] = (msg, 0)
                    return
            except TypeError:  # an unhashable id: queued, for the writer to report
                pass
        elif type(msg) is AddTasks and self.growth is not None:
            if self._latest:
                self._release(msg.task_id)
            self.growth(msg, self.cancelled.is_set())
            return
        elif self._latest:
            self._release(getattr(msg, "task_id", None))
        if self._q.qsize() >= self.maxsize:
            if not block:
                raise queue.Full
            self._wait_for_room(timeout)
        self._q.put(msg)

    def _release(self, key: Any) -> None:
        """Queue the task's held progress ahead of its next message."""
        try:
            held = self._latest.pop(key, None)
        except TypeError:
            return
        if held is not None:
            self._q.put(held[0] if not held[1] else LatestProgress(*held))

    def take_latest(self, ready: Callable[[Any], bool] | None = None) -> list[Any]:
        """Take the held progress of the tasks `ready` accepts (all without it).

        The writer calls this after draining a batch. A task it does not have in hand yet
        (its tasks' `TasksQueued` is still queued) keeps its slot for a later batch.
        """
        latest = self._latest
        taken = []
        for key in list(latest):
            if ready is not None and not ready(key):
                continue
            held = latest.pop(key, None)
            if held is not None:
                taken.append(held[0] if not held[1] else LatestProgress(*held))
        return taken

    def reserve(self) -> float:
        """Take one start of the run's `rate=`; seconds until it is yours (0: now)."""
        return 0.0 if self.limiter is None else self.limiter.reserve()

    def put_nowait(self, msg: Any) -> None:
        """Queue a message, or raise `queue.Full` at once if the queue is full."""
        self.put(msg, block=False)

    def _wait_for_room(self, timeout: float | None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._drained:
            self._waiting += 1
            try:
                while self._q.qsize() >= self.maxsize:
                    if self.writer_error is not None:
                        raise WriterError(f"the writer stopped: {self.writer_error}")
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        raise queue.Full
                    self._drained.wait(0.1 if left is None else min(left, 0.1))
            finally:
                self._waiting -= 1

    def get(self, timeout: float | None = None) -> Any:
        """Take one message, waiting up to `timeout` seconds (raises queue.Empty)."""
        return self._q.get(timeout=timeout)

    def get_nowait(self) -> Any:
        """Take one message if one is queued (raises queue.Empty)."""
        return self._q.get_nowait()

    def drain(self, first: Any, limit: int) -> list[Any]:
        """Return `first` and up to `limit - 1` more messages that are already queued."""
        batch = [first]
        get = self._q.get_nowait
        try:
            for _ in range(limit - 1):
                batch.append(get())
        except queue.Empty:
            pass
        if self._waiting and self._q.qsize() < self.maxsize // 2:
            with self._drained:
                self._drained.notify_all()
        return batch

    def close(self) -> None:
        """The run has ended: from now on `put` raises `RunEnded` (nothing is dropped silently).

        A worker still running after the grace period would otherwise hand over messages
        nobody reads. The check costs nothing on the open queue's `put`: the instance's
        `put` is replaced.
        """
        self.put = self.put_nowait = self._put_after_end

    def _put_after_end(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        raise RunEnded(
            f"the run has ended: {type(msg).__qualname__} was put after it closed and is not "
            "written (a worker still running after cancel_grace?)"
        )

    def fail(self, exc: BaseException) -> None:
        """Record that the writer died, so blocked producers raise instead of waiting."""
        self.writer_error = exc
        with self._drained:
            self._drained.notify_all()

    def qsize(self) -> int:
        """Approximate number of queued messages."""
        return self._q.qsize()

    def empty(self) -> bool:
        """True when no message is queued."""
        return self._q.empty()
