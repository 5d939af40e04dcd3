"""Messages the engine itself sends to the writer, around each task and at the end of a run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "WRITER_STOP",
    "AddRefused",
    "LatestProgress",
    "RunClosing",
    "SourceFailed",
    "TaskClosed",
    "TasksCancelled",
    "TasksQueued",
]


@dataclass(slots=True)
class TaskClosed:
    """The worker function returned or raised; closes the task unless the worker already did.

    Not frozen: one is built per attempt, on the hot path of every task, and a frozen
    dataclass's `__init__` costs twice as much. Nothing changes one after it is sent.
    """

    task_id: Any
    name: str
    started_ns: int
    """When the attempt started, as `time.time_ns()` (formatted by the writer if recorded)."""
    finished_ns: int
    """When it ended, likewise."""
    error: str | None = None
    traceback: str | None = None
    retrying: bool = False
    retry_after: float | None = None
    """Seconds the server asked to wait (`Retry-After`, `RetryAfter`), if it pushed back."""
    timed_out: bool = False
    """The attempt ran past `timeout=`."""
    abandoned: bool = False
    """The timed-out attempt's thread could not be stopped and runs on."""
    worker: str = ""
    """Which worker ran the attempt: a thread, a coroutine slot, a process (see `lane`)."""

    def __reduce__(self) -> tuple[type, tuple]:
        """Pickled as its fields in order: one per task from pool processes, five times
        cheaper than a slotted dataclass's default state (a `fields()` call each way)."""
        return (
            TaskClosed,
            (
                self.task_id,
                self.name,
                self.started_ns,
                self.finished_ns,
                self.error,
                self.traceback,
                self.retrying,
                self.retry_after,
                self.timed_out,
                self.abandoned,
                self.worker,
            ),
        )


@dataclass(slots=True)
class LatestProgress:
    """A task's latest `MsgTaskProgress`, standing in for `superseded` earlier ones.

    While the writer is busy, the queue keeps only each task's newest progress message
    (see `MessageQueue.put`): the writer would overwrite the older ones anyway.
    """

    msg: Any
    superseded: int


@dataclass(frozen=True, slots=True)
class TasksQueued:
    """Tasks taken from the caller's tasks, put before any worker is handed one of them."""

    tasks: tuple[tuple[Any, str], ...]
    """(task_id, name) of each task to run."""
    skipped: tuple[tuple[Any, str], ...] = ()
    """(task_id, name) of tasks `resume=True` skips (done in an earlier run)."""
    last: bool = False
    """The caller's tasks are exhausted: the run's total is known."""
    parent: Any = None
    """The task that added these (`AddTasks`); None for the caller's own tasks."""
    definitions: tuple[str | None, ...] = ()
    """Added tasks only: each as JSON (None if it has no JSON form), to re-create on resume."""


@dataclass(frozen=True, slots=True)
class SourceFailed:
    """Taking the next task failed (the caller's iterable raised, or a task was unusable)."""

    error: str
    traceback: str | None = None


@dataclass(frozen=True, slots=True)
class AddRefused:
    """A task's `AddTasks` could not be taken (a duplicate id, `max_tasks`): its error."""

    task_id: Any
    error: str


@dataclass(frozen=True, slots=True)
class TasksCancelled:
    """These tasks will not run (cancel, Ctrl-C, or the grace period ran out)."""

    task_ids: tuple
    finished_at: str
    reason: str = "cancelled"


@dataclass(frozen=True, slots=True)
class RunClosing:
    """The run ends: cancelled, or None for a run that went to its end."""

    status: str | None
    facts: tuple[tuple[str, int], ...] = ()
    """Counts the engine keeps (push-backs obeyed, attempts timed out), added to `params`."""


class _WriterStop:
    """The type of `WRITER_STOP` (one instance)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "WRITER_STOP"


WRITER_STOP: Final = _WriterStop()
"""The engine's own stop marker: the writer always stops at it.

A worker's `SENTINEL` stops a writer only if it was made with `sentinel_stops=True` (the
default, for pipeloom 0.0.7's stand-alone use); the engine makes it with False.
"""
