"""The caller's tasks, taken a chunk at a time as workers need them (`TaskFeed`).

A generator is consumed lazily, a bounded window ahead of the workers, so a run's memory
does not grow with its size. Each chunk is registered with the writer (`TasksQueued`)
before any worker is handed one of its tasks: the writer knows every id before its first
message. Ids are checked as they come (a collection was checked whole before the run).
A duplicate id, an unusable task or an exception raised by the iterable stops the feed:
`SourceFailed` records it as a run-level error, the run takes no more tasks, finishes
those taken, and `run_pipeline` raises the error once the run is closed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sized
from operator import itemgetter
from typing import Any

from .checks import task_key
from .control import SourceFailed, TasksQueued
from .errors import ConfigError
from .exctext import describe, format_traceback
from .execution.attempt import Item
from .interrupts import may_be_ctrl_c
from .store.text import check_task

__all__ = ["SKIPPED_CHUNK", "TaskFeed", "is_collection"]

_ID_AND_NAME = itemgetter(1, 2)
"""An item's (task_id, name)."""

SKIPPED_CHUNK = 1000
"""At most this many skipped tasks (`resume=True`) in one `TasksQueued`."""


def is_collection(tasks: Iterable[Any]) -> bool:
    """True for tasks with a length that can be iterated again (a list, a tuple, ...)."""
    return isinstance(tasks, Sized) and not isinstance(tasks, Iterator)


class TaskFeed:
    """Takes tasks from the caller's iterable and registers them with the writer.

    `seen` is filled with every id taken; the writer reads it to tell a task that is
    over from an id that is not in the run. `take` is called under the runner's lock.
    """

    def __init__(
        self,
        tasks: Iterable[Any],
        q: Any,
        seen: set,
        skipped: frozenset = frozenset(),
    ) -> None:
        self._tasks = iter(tasks)
        self._q = q
        self.seen = seen
        self._skipped_ids = skipped
        self.collection = is_collection(tasks)
        """A collection's tasks never taken are recorded `cancelled` when a run is cancelled."""
        self._total = len(tasks) if self.collection else None  # type: ignore[arg-type]
        self.exhausted = False
        self.error: BaseException | None = None
        """Why the feed stopped early: re-raised by `run_pipeline` once the run is closed."""
        self._lock = threading.Lock()

    def take(self, n: int) -> list[Item]:
        """Up to `n` tasks to run, registered with the writer; [] once none is left."""
        with self._lock:
            if self.exhausted:
                return []
            items: list[Item] = []
            skipped: list[tuple[Any, str]] = []
            while len(items) < n and not self.exhausted:
                item = self._pull()
                if item is None:
                    continue
                if item[1] in self._skipped_ids:
                    skipped.append(item[1:])
                    if len(skipped) >= SKIPPED_CHUNK:
                        self._q.put(TasksQueued((), tuple(skipped)))
                        skipped = []
                else:
                    items.append(item)
            if items or skipped or self.exhausted:
                tasks = tuple(map(_ID_AND_NAME, items))
                self._q.put(TasksQueued(tasks, tuple(skipped), self.exhausted))
            if self.error is not None:
                self._q.put(SourceFailed(_describe(self.error), format_traceback(self.error)))
            return items

    def rest(self) -> list[Item]:
        """A collection's tasks never taken, registered (to be recorded `cancelled`)."""
        rest: list[Item] = []
        while self.collection and (items := self.take(SKIPPED_CHUNK)):
            rest += items
        return rest

    def left(self) -> int | None:
        """Tasks not taken yet: known for a collection, None for an iterator."""
        if self._total is None:
            return None
        return 0 if self.exhausted else self._total - len(self.seen)

    def _pull(self) -> Item | None:
        """The next task as an item; None (and `exhausted`) at the end or on an error."""
        try:
            task = next(self._tasks)
            task_id, name = task_key(task)
            check_task(task_id, name)
            if task_id in self.seen:
                raise ConfigError(
                    f"duplicate task id {task_id!r} (task {len(self.seen) + 1} of the "
                    "iterable): the run took no more tasks"
                )
        except StopIteration:
            self.exhausted = True
            return None
        except BaseException as exc:  # SystemExit too: taken in a worker, it is the iterable's
            if may_be_ctrl_c(exc):
                raise
            self.exhausted = True
            self.error = exc
            return None
        self.seen.add(task_id)
        return task, task_id, name


def _describe(exc: BaseException) -> str:
    return f"the run's tasks: {describe(exc)}"
