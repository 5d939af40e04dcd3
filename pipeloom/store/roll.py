"""The run's roll of tasks: which ids it has taken, how many it has, which were added.

The `TaskBook` moves each task from status to status; this, its base, registers the
tasks as the engine takes them (`TasksQueued`), so that a message for any other id is
known to be out of the run, and keeps the run's total as it grows.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from typing import Any

from ..core.control import TasksQueued
from ..core.status import TaskStatus
from ..progress.snapshot import RunStats
from .task_row import TaskState

__all__ = ["TaskRoll"]

QUEUED, SKIPPED = TaskStatus.QUEUED.value, TaskStatus.SKIPPED.value
"""Plain text, as the `TaskBook` keeps statuses (see there)."""


class TaskRoll:
    """The tasks taken into the run, their number, and the rows of tasks added meanwhile."""

    def __init__(self, stats: RunStats) -> None:
        self.stats = stats
        self.tasks: dict[Any, TaskState] = {}
        """The tasks in hand: not closed yet, or closed and not yet committed."""
        self.known: Container | None = None
        """Every id taken into the run so far (None: any id, for a stand-alone writer)."""
        self._dirty: dict[Any, TaskState] = {}
        self.added_rows: list[tuple] = []
        """(task_id, name, parent, definition) of added tasks, for their rows."""
        self._total: int | None = None
        self._taken = 0

    @property
    def fixed(self) -> bool:
        """True once the run's tasks are known: no other id may appear."""
        return self.known is not None

    def expect(self, known: Container, total: int | None) -> None:
        """Tasks will be `register`ed as they are taken; `known` holds every id taken so far.

        `total`: how many tasks the run has, if known up front (else it grows, and is
        known once the last tasks are registered).
        """
        self.known = known
        self._total = total
        self.stats.total = total or 0
        self.stats.total_known = total is not None

    def add(self, tasks: Iterable[tuple[Any, str]], skipped: frozenset = frozenset()) -> None:
        """Register all the run's tasks at once: `queued`, or `skipped` when done before."""
        tasks = list(tasks)
        self.expect({task_id for task_id, _ in tasks}, len(tasks))
        self.register(
            [t for t in tasks if t[0] not in skipped], [t for t in tasks if t[0] in skipped]
        )

    def register(
        self,
        tasks: Iterable[tuple[Any, str]],
        skipped: Iterable[tuple[Any, str]] = (),
        last: bool = False,
    ) -> None:
        """Tasks taken into the run: `queued`, or `skipped` (done in an earlier run).

        A queued task gets its `task_runs` row when something happens to it (it starts, is
        cancelled, ...), not now: writing every row up front cost a third of a tiny run.
        Skipped tasks are written with the next batch.
        """
        counts = self.stats.counts
        n = 0
        for task_id, name in tasks:
            self.tasks[task_id] = TaskState(task_id, name)
            n += 1
        counts[QUEUED] += n
        for task_id, name in skipped:
            st = self.tasks[task_id] = self._dirty[task_id] = TaskState(task_id, name, SKIPPED)
            st.closed = True
            counts[SKIPPED] += 1
            n += 1
        self._taken += n
        if self._total is None:
            self.stats.total = self._taken
        if last:
            self.stats.total_known = True

    def queued(self, m: TasksQueued) -> None:
        """The engine took these tasks from the caller's and will hand them to workers.

        Not counted in `stats.messages` (the messages of the run's workers).
        """
        if m.parent is not None:
            self._added(m)
        self.register(m.tasks, m.skipped, m.last)
        self.stats.messages -= 1

    def _added(self, m: TasksQueued) -> None:
        """Tasks a running task added: the run's total grows, and their parent is kept."""
        n = len(m.tasks) + len(m.skipped)
        if self._total is not None:
            self._total += n
            self.stats.total += n
        self.stats.growing = True
        definitions = m.definitions or (None,) * n
        for (task_id, name), definition in zip((*m.tasks, *m.skipped), definitions, strict=True):
            self.added_rows.append((task_id, name, m.parent, definition))

    def in_hand(self, task_id: Any) -> bool:
        """True if a message of this task can be applied now (a registered task, or any id)."""
        return self.known is None or task_id in self.tasks

    def is_closed(self, task_id: Any) -> bool:
        """True for a task taken into the run whose state was dropped (it is over)."""
        known = self.known
        try:
            return known is not None and task_id not in self.tasks and task_id in known
        except TypeError:
            return False
