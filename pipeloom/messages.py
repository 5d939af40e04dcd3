"""The messages workers put on the queue: small frozen dataclasses, applied by the writer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from .slots_init import direct_init

__all__ = [
    "SENTINEL",
    "Msg",
    "MsgTaskFinish",
    "MsgTaskFinished",
    "MsgTaskProgress",
    "MsgTaskStart",
    "MsgTaskStarted",
    "TaskDef",
]


@dataclass(frozen=True, slots=True)
class TaskDef:
    """One unit of work: an id unique within a run, a display name and a step count."""

    task_id: Any
    """Unique within a run (int or str); the `id` column of `task_runs`."""
    name: str
    """Shown on progress bars and stored in `task_runs.name`."""
    steps: int = 1
    """How many progress steps the worker reports (for display only)."""
    params: Any = None
    """Free-form parameters for the worker."""

    def __reduce__(self) -> tuple[type, tuple]:
        """Pickled as its fields in order (sent to pool processes by the thousand): five times
        cheaper than a slotted dataclass's default state."""
        return (TaskDef, (self.task_id, self.name, self.steps, self.params))


@direct_init
@dataclass(frozen=True, slots=True)
class MsgTaskStarted:
    """The worker began a task."""

    task_id: Any
    """The task's id."""
    name: str
    """The task's display name."""
    started_at: str
    """ISO-8601 timestamp."""


@direct_init
@dataclass(frozen=True, slots=True)
class MsgTaskProgress:
    """The worker finished `step` of `total` steps."""

    task_id: Any
    """The task's id."""
    step: int
    """Steps completed so far."""
    total: int
    """Steps in all."""
    message: str = ""
    """A short status line."""


@direct_init
@dataclass(frozen=True, slots=True)
class MsgTaskFinished:
    """The worker ended a task with a status: `done`, `error` or `cancelled`."""

    task_id: Any
    """The task's id."""
    status: str
    """`done`, `error` or `cancelled`."""
    finished_at: str
    """ISO-8601 timestamp."""
    result: Any = None
    """A small result stored in `task_runs.result` (str() of it)."""
    message: str = ""
    """A short final status line or the error text."""
    traceback: str | None = None
    """The formatted traceback of an error, if any."""


SENTINEL: Final = object()
"""Put on the queue to tell a stand-alone writer to flush and stop."""

Msg = MsgTaskStarted | MsgTaskProgress | MsgTaskFinished
"""The built-in task messages; domain messages are any other object."""

MsgTaskStart = MsgTaskStarted
MsgTaskFinish = MsgTaskFinished
