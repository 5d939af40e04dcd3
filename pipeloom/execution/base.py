"""What every runner shares: the tasks still to start and the tasks in flight."""

from __future__ import annotations

import collections
import contextlib
import itertools
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from ..core.exctext import may_be_ctrl_c
from ..core.queue import MessageQueue
from ..errors import RunEnded, WriterError
from .attempt import NO_RETRY, Item, RetryPolicy, closed_message

__all__ = ["ItemFeed", "Runner"]


class ItemFeed:
    """Items given as they are (a runner made without the engine): no checks, no registration."""

    collection = False
    error: BaseException | None = None

    def __init__(self, items: Iterable[Item]) -> None:
        self._items = iter(items)

    def take(self, n: int) -> list[Item]:
        """Up to `n` items."""
        return list(itertools.islice(self._items, n))

    def rest(self) -> list[Item]:
        """Nothing: tasks never taken are not recorded."""
        return []

    def left(self) -> int | None:
        """Unknown: the items may be an iterator."""
        return None


class Runner:
    """Base of the thread, coroutine and pool runners.

    Workers take tasks from a shared deque: `popleft` is atomic, so no lock is needed
    (under the GIL, a lock makes workers queue behind a thread preempted while holding it).
    The deque is refilled from the feed (`pipeloom.run.feed.TaskFeed`) a chunk at a time,
    under a lock, so the caller's iterable is read only as fast as tasks start.
    """

    blocking = False
    """True for a runner that runs in the calling thread (`run_here`), not in its own."""

    chunk = 64
    """Tasks taken from the feed at a time."""

    def __init__(
        self,
        fn: Callable[..., Any],
        items: Iterable[Item] | Any,
        q: MessageQueue,
        workers: int,
        *,
        policy: RetryPolicy = NO_RETRY,
    ) -> None:
        self.fn = fn
        self.q = q
        self.workers = workers
        self.policy = policy
        self.feed = items if hasattr(items, "take") else ItemFeed(items)
        """Where tasks come from: `take(n)`, `rest()`, `left()`, `error`."""
        self._todo: collections.deque[Item] = collections.deque()
        self._take_lock = threading.Lock()
        self.in_flight: dict[Any, Item] = {}
        self.finished = threading.Event()
        """Set when every worker has stopped taking tasks."""
        self._growth = threading.Condition(threading.Lock())
        self._idle = 0
        """Workers waiting for a task in flight to add tasks (`AddTasks`) or end."""
        if hasattr(self.feed, "on_added"):
            self.feed.on_added(self.wake)

    def has_work(self) -> bool:
        """True when a task waits to be taken (added, or refilled by another worker)."""
        return bool(self._todo) or getattr(self.feed, "has_added", bool)()

    def may_grow(self) -> bool:
        """True while a task in flight may still add tasks, or added ones wait."""
        return not self.q.cancelled.is_set() and (bool(self.in_flight) or self.has_work())

    def wake(self) -> None:
        """Tasks were added, or a task ended: idle workers look again."""
        if self._idle:
            with self._growth:
                self._growth.notify_all()

    def wait_for_growth(self) -> bool:
        """Wait while tasks in flight may add tasks; True once there is work to take."""
        with self._growth:
            self._idle += 1
            try:
                while self.may_grow() and not self.has_work():
                    self._growth.wait(0.1)
            finally:
                self._idle -= 1
        return not self.q.cancelled.is_set() and self.has_work()

    def _next(self) -> Item | None:
        if self.q.cancelled.is_set():
            return None
        try:
            item = self._todo.popleft()
        except IndexError:
            item = self._refill()
            if item is None:
                return None
        self.in_flight[item.task_id] = item
        return item

    def _survive(self, item: Item, exc: BaseException) -> None:
        """A task's run raised past its attempts: record the task `error`; the worker goes on.

        The run's end (`WriterError`, `RunEnded`) and a possible Ctrl-C are raised again.
        """
        if isinstance(exc, WriterError | RunEnded) or may_be_ctrl_c(exc):
            raise exc
        self.q.put(closed_message(item, time.time_ns(), exc))

    def _refill(self) -> Item | None:
        with self._take_lock:
            with contextlib.suppress(IndexError):
                return self._todo.popleft()  # another worker refilled it meanwhile
            if self.q.cancelled.is_set():
                return None
            items = self.feed.take(self.chunk)
            if not items:
                return None
            self._todo.extend(items[1:])
            return items[0]

    def not_started(self) -> list[Item]:
        """Take the tasks no worker has started (call after cancelling).

        Those taken from the feed; for a collection, also those never taken (unless the
        writer has failed: they could not be recorded).
        """
        rest = []
        with self._take_lock:
            with contextlib.suppress(IndexError):
                while True:
                    rest.append(self._todo.popleft())
            with contextlib.suppress(WriterError, RunEnded):
                rest += self.feed.rest()
        return rest
