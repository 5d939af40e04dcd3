"""One task's row in `task_runs` (`TaskState`) and one attempt's in `task_attempts`."""

from __future__ import annotations

from operator import attrgetter
from typing import Any

from ..core.clock import iso_ns
from ..core.control import TaskClosed
from ..core.status import TaskStatus
from .text import storable

__all__ = ["TaskState", "attempt_row", "row_values"]


class TaskState:
    """The in-memory copy of one `task_runs` row."""

    __slots__ = (
        "attempts",
        "closed",
        "error",
        "final",
        "finished_at",
        "message",
        "name",
        "parent",
        "progress",
        "result",
        "started_at",
        "status",
        "task_id",
        "worker",
    )

    def __init__(self, task_id: Any, name: str, status: str = TaskStatus.QUEUED.value) -> None:
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
        self.final = False
        """Set when a failure or lost rows fixed the status; later messages do not change it."""
        self.worker: str | None = None
        self.parent: Any = None
        """The task that added this one (`AddTasks`), if any."""
        self.closed = False
        """Set when nothing more will happen to the task: its last attempt ended, it was
        cancelled, skipped or settled. Once its row is committed its state may be dropped."""


row_values = attrgetter(
    "task_id",
    "name",
    "status",
    "progress",
    "message",
    "started_at",
    "finished_at",
    "result",
    "error",
    "attempts",
    "worker",
)
"""A task's `task_runs` values after `run_id`, in `task_upsert`'s order (in C: no Python frame)."""


def attempt_row(st: TaskState, m: TaskClosed) -> tuple:
    """(task_id, attempt, worker, started, finished, outcome, error, traceback, retry_after)."""
    outcome = (
        "timeout" if m.timed_out else "retrying" if m.retrying else "error" if m.error else "done"
    )
    return (
        st.task_id,
        st.attempts,
        st.worker,
        iso_ns(m.started_ns),
        iso_ns(m.finished_ns),
        outcome,
        storable(m.error),
        storable(m.traceback),
        m.retry_after,
    )
