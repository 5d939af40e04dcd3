"""The caller's tasks, taken a chunk at a time as workers need them (`TaskFeed`).

A generator is consumed lazily, a bounded window ahead of the workers, so a run's memory
does not grow with its size. Each chunk is registered with the writer (`TasksQueued`)
before any worker is handed one of its tasks: the writer knows every id before its first
message. Ids are checked as they come (a collection was checked whole before the run).
A duplicate id, an unusable task or an exception raised by the iterable stops the feed:
`SourceFailed` records it as a run-level error, the run takes no more tasks, finishes
those taken, and `run_pipeline` raises the error once the run is closed.

A running task may add tasks (`AddTasks`): they are checked alike, registered with their
parent, and taken before the caller's next ones. A bad batch is refused whole, as the
adding task's error (`AddRefused`); after a cancel, they are recorded `cancelled`.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Iterable, Iterator, Sized
from operator import itemgetter
from typing import Any

from ..core.clock import utc_now
from ..core.control import AddRefused, SourceFailed, TasksCancelled, TasksQueued
from ..core.exctext import describe, format_traceback, may_be_ctrl_c
from ..core.messages import AddTasks
from ..errors import ConfigError
from ..execution.attempt import Item
from ..store.text import check_task
from .added import from_definition, to_definition
from .checks import task_key

__all__ = ["SKIPPED_CHUNK", "TaskFeed", "is_collection", "recreate"]

_ID_AND_NAME = itemgetter(1, 2)
"""An item's (task_id, name)."""
_new_item = tuple.__new__
"""`Item` made without NamedTuple's Python-level `__new__`: half its cost, once per task."""

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
        max_tasks: int | None = None,
    ) -> None:
        self._tasks = iter(tasks)
        self._q = q
        self.seen = seen
        self._skipped_ids = skipped
        self.max_tasks = max_tasks
        self.collection = is_collection(tasks)
        """A collection's tasks never taken are recorded `cancelled` when a run is cancelled."""
        self._total = len(tasks) if self.collection else None  # type: ignore[arg-type]
        self._pulled = 0
        self.exhausted = False
        self.error: BaseException | None = None
        """Why the feed stopped early: re-raised by `run_pipeline` once the run is closed."""
        self._lock = threading.Lock()
        self._added: collections.deque[Item] = collections.deque()
        self.repeated = 0
        """Tasks added again (`AddTasks(skip_repeats=True)`): mapped once, counted here."""
        self._listeners: list[Callable[[], None]] = []
        self._recreated: set = set()
        """Ids re-created on resume: added again by a task run again, they are not new."""

    def on_added(self, listener: Callable[[], None]) -> None:
        """Call `listener()` whenever tasks are added (a runner waiting for work wakes)."""
        self._listeners.append(listener)

    def recreated(self, ids: Iterable[Any]) -> None:
        """These ids were re-created on resume: a task adding them again is not refused."""
        self._recreated.update(ids)

    def has_added(self) -> bool:
        """True while added tasks wait to be taken."""
        return bool(self._added)

    def take(self, n: int) -> list[Item]:
        """Up to `n` tasks to run, registered with the writer; [] once none is left.

        Added tasks come first: the next page starts before the caller's next item.
        """
        with self._lock:
            items: list[Item] = []
            while self._added and len(items) < n:
                items.append(self._added.popleft())
            if self.exhausted:
                return items
            pulled: list[Item] = []
            skipped: list[tuple[Any, str]] = []
            while len(items) + len(pulled) < n and not self.exhausted:
                item = self._pull()
                if item is None:
                    continue
                if item.task_id in self._skipped_ids:
                    skipped.append((item.task_id, item.name))
                    if len(skipped) >= SKIPPED_CHUNK:
                        self._q.put(TasksQueued((), tuple(skipped)))
                        skipped = []
                else:
                    pulled.append(item)
            if pulled or skipped or self.exhausted:
                tasks = tuple(map(_ID_AND_NAME, pulled))
                self._q.put(TasksQueued(tasks, tuple(skipped), self.exhausted))
            if self.error is not None:
                self._q.put(SourceFailed(_describe(self.error), format_traceback(self.error)))
            return items + pulled

    def add(self, msg: AddTasks, cancelled: bool = False) -> None:
        """Take the tasks a running task adds, or refuse them all as that task's error.

        After a cancel they are recorded `cancelled`, not run: a resumed run re-creates them.
        """
        with self._lock:
            try:
                items, skipped_tasks = self._check_added(msg)
            except ConfigError as exc:
                self._q.put(AddRefused(msg.task_id, str(exc)))
                return
            if not items and not skipped_tasks:
                return
            skipped = tuple((task_id, name) for _, task_id, name in skipped_tasks)
            definitions = tuple(to_definition(item.task) for item in items)
            definitions += tuple(to_definition(item.task) for item in skipped_tasks)
            queued = TasksQueued(
                tuple(map(_ID_AND_NAME, items)),
                skipped,
                parent=msg.task_id,
                definitions=definitions,
            )
            self._q.put(queued)
            if cancelled:
                self._q.put(TasksCancelled(tuple(item.task_id for item in items), utc_now()))
                return
            self._added.extend(items)
        for listener in self._listeners:
            listener()

    def _check_added(self, msg: AddTasks) -> tuple[list[Item], list[Item]]:
        items: list[Item] = []
        ids: set = set()
        for task in msg.tasks:
            task_id, name = task_key(task)
            check_task(task_id, name)
            if task_id in self.seen or task_id in ids:
                if msg.skip_repeats or task_id in self._recreated:
                    self.repeated += 1
                    continue
                raise ConfigError(
                    f"task {msg.task_id!r} adds a task with id {task_id!r}, which the run "
                    "already has: task ids are unique within a run"
                )
            ids.add(task_id)
            items.append(Item(task, task_id, name))
        if self.max_tasks is not None and len(self.seen) + len(items) > self.max_tasks:
            raise ConfigError(
                f"max_tasks={self.max_tasks} reached: task {msg.task_id!r} would add "
                f"{len(items)} task(s) to the {len(self.seen)} the run has"
            )
        self.seen.update(ids)
        skipped = [item for item in items if item.task_id in self._skipped_ids]
        return [item for item in items if item.task_id not in self._skipped_ids], skipped

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
        return len(self._added) + (0 if self.exhausted else self._total - self._pulled)

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
        self._pulled += 1
        return _new_item(Item, (task, task_id, name))


def recreate(feed: TaskFeed, definitions: Iterable[tuple[Any, str]]) -> None:
    """Add again the tasks a resumed run's refresh added and did not finish."""
    by_parent: dict[Any, list[Any]] = {}
    for parent, text in definitions:
        by_parent.setdefault(parent, []).append(from_definition(text))
    for parent, tasks in by_parent.items():
        feed.add(AddTasks(tasks, task_id=parent))
        feed.recreated(task_key(task)[0] for task in tasks)


def _describe(exc: BaseException) -> str:
    return f"the run's tasks: {describe(exc)}"
