"""The task state machine: each task's row, its status transitions, the run's counts.

Pure bookkeeping, no thread and no database: the writer feeds it messages in order and
writes the rows it marks dirty. Tests drive it directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..control import TaskClosed, TasksCancelled
from ..messages import MsgTaskFinished, MsgTaskProgress, MsgTaskStarted
from ..progress.snapshot import TERMINAL, RunStats, TaskError

__all__ = ["TaskBook", "TaskState"]


class TaskState:
    """The in-memory copy of one `task_runs` row."""

    __slots__ = (
        "attempts",
        "error",
        "finished_at",
        "handler_failed",
        "message",
        "name",
        "progress",
        "result",
        "started_at",
        "status",
        "task_id",
    )

    def __init__(self, task_id: Any, name: str, status: str = "queued") -> None:
        self.task_id = task_id
        self.name = name
        self.status = status
        self.progress = 0.0
        self.message = ""
        self.started_at: str | None = None
        self.finished_at: str | None = None
        self.result: str | None = None
        self.error: str | None = None
        self.attempts = 0
        self.handler_failed = False

    def row(self, run_id: int) -> tuple:
        """The row for an upsert into `task_runs`."""
        return (
            run_id,
            self.task_id,
            self.name,
            self.status,
            self.progress,
            self.message,
            self.started_at,
            self.finished_at,
            self.result,
            self.error,
            self.attempts,
        )


class TaskBook:
    """Every task of a run, moved from status to status by the messages applied to it.

    Counts, tasks in flight and errors are kept in `stats` (read by the display); rows
    changed since the last `take_dirty()` are returned by it, to be written in one go.
    """

    def __init__(self, stats: RunStats | None = None) -> None:
        self.stats = stats if stats is not None else RunStats()
        self.tasks: dict[Any, TaskState] = {}
        self._dirty: dict[Any, TaskState] = {}

    def add(self, tasks: Iterable[tuple[Any, str]], skipped: frozenset = frozenset()) -> None:
        """Register the run's tasks: `queued`, or `skipped` when done in an earlier run."""
        counts = self.stats.counts
        for task_id, name in tasks:
            status = "skipped" if task_id in skipped else "queued"
            self.tasks[task_id] = TaskState(task_id, name, status)
            counts[status] += 1
        self.stats.total = len(self.tasks)

    def take_dirty(self) -> list[TaskState]:
        """The rows changed since the last call."""
        dirty, self._dirty = self._dirty, {}
        return list(dirty.values())

    def state(self, task_id: Any, name: str | None = None) -> TaskState:
        """The task's state, marked dirty; a task not seen before starts `running`."""
        st = self.tasks.get(task_id)
        if st is None:
            st = TaskState(task_id, name if name is not None else str(task_id), "running")
            self.tasks[task_id] = st
            self.stats.counts["running"] += 1
            self.stats.total += 1
            self.stats.in_flight[task_id] = st
        self._dirty[task_id] = st
        return st

    def set_status(self, st: TaskState, status: str) -> None:
        """Move a task to `status`, keeping the counts and the tasks in flight."""
        if st.status == status:
            return
        counts = self.stats.counts
        counts[st.status] -= 1
        counts[status] += 1
        st.status = status
        if status == "running":
            self.stats.in_flight[st.task_id] = st
        elif status in TERMINAL:
            self.stats.in_flight.pop(st.task_id, None)

    def started(self, m: MsgTaskStarted) -> None:
        """The worker says it began."""
        st = self.state(m.task_id, m.name)
        st.name = m.name
        st.started_at = m.started_at
        if st.status not in TERMINAL:
            self.set_status(st, "running")

    def progress(self, m: MsgTaskProgress) -> None:
        """The worker reports a step."""
        st = self.state(m.task_id)
        st.progress = m.step / m.total if m.total > 0 else 0.0
        st.message = m.message
        if st.status == "queued":
            self.set_status(st, "running")

    def finished(self, m: MsgTaskFinished) -> None:
        """The worker says it ended, with a status."""
        st = self.state(m.task_id)
        st.finished_at = m.finished_at
        st.result = None if m.result is None else str(m.result)
        if st.handler_failed:
            return
        st.message = m.message
        if m.status == "done":
            st.progress = 1.0
        if m.traceback:
            st.error = m.traceback
        if m.status == "error":
            self.record_error(st, m.message, m.traceback)
        self.set_status(st, m.status)

    def closed(self, m: TaskClosed) -> None:
        """The worker function returned or raised: close the task unless the worker did."""
        st = self.state(m.task_id, m.name)
        st.attempts += 1
        if st.started_at is None:
            st.started_at = m.started_at
        if m.retrying:
            st.error = m.traceback
            st.message = f"retrying after {m.error}"
            if st.status == "queued":
                self.set_status(st, "running")
            return
        if m.error is not None and not st.handler_failed:
            st.message = m.error
            st.error = m.traceback
            st.finished_at = m.finished_at
            self.record_error(st, m.error, m.traceback)
            self.set_status(st, "error")
        elif st.status not in TERMINAL:
            st.finished_at = m.finished_at
            st.progress = 1.0
            if st.attempts > 1 and st.message.startswith(("retrying after", "rate limited")):
                st.message = f"done at attempt {st.attempts}"
            self.set_status(st, "done")

    def cancelled(self, m: TasksCancelled) -> None:
        """These tasks will not run, or will not finish."""
        for task_id in m.task_ids:
            st = self.state(task_id)
            if st.status not in TERMINAL:
                st.finished_at = m.finished_at
                st.message = m.reason
                self.set_status(st, "cancelled")

    def handler_failed(self, task_id: Any, what: str, tb: str) -> None:
        """A handler failed on one of the task's messages: the task is `error`, for good."""
        st = self.state(task_id)
        st.handler_failed = True
        st.message = what
        st.error = tb
        self.record_error(st, what, tb)
        self.set_status(st, "error")

    def record_error(self, st: TaskState, message: str, tb: str | None) -> None:
        """Keep an error for the display and the summary."""
        self.stats.add_error(TaskError(st.task_id, st.name, message, tb))
