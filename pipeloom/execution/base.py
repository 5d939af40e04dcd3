"""What every runner shares: the tasks still to start and the tasks in flight."""

from __future__ import annotations

import collections
import contextlib
import threading
from collections.abc import Callable, Iterable
from typing import Any

from .attempt import NO_RETRY, Item, RetryPolicy
from .queue import MessageQueue

__all__ = ["Runner"]


class Runner:
    """Base of the thread, coroutine and pool runners.

    Workers take tasks from a shared deque: `popleft` is atomic, so no lock is needed
    (under the GIL, a lock makes workers queue behind a thread preempted while holding it).
    """

    blocking = False
    """True for a runner that runs in the calling thread (`run_here`), not in its own."""

    def __init__(
        self,
        fn: Callable[..., Any],
        items: Iterable[Item],
        q: MessageQueue,
        workers: int,
        *,
        policy: RetryPolicy = NO_RETRY,
    ) -> None:
        self.fn = fn
        self.q = q
        self.workers = workers
        self.policy = policy
        self._todo = collections.deque(items)
        self.in_flight: dict[Any, Item] = {}
        self.finished = threading.Event()
        """Set when every worker has stopped taking tasks."""

    def _next(self) -> Item | None:
        if self.q.cancelled.is_set():
            return None
        try:
            item = self._todo.popleft()
        except IndexError:
            return None
        self.in_flight[item[1]] = item
        return item

    def not_started(self) -> list[Item]:
        """Take the tasks no worker has started (call after cancelling)."""
        rest = []
        with contextlib.suppress(IndexError):
            while True:
                rest.append(self._todo.popleft())
        return rest
