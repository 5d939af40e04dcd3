"""The messages workers put on the queue: small frozen dataclasses, applied by the writer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from .lane import CURRENT_TASK
from .slots_init import direct_init

__all__ = [
    "SENTINEL",
    "AddTasks",
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


@dataclass(frozen=True, slots=True)
class AddTasks:
    """Tasks a running task adds to its own run: the next page, the details of a listing.

    They are checked as the run's first tasks are (a duplicate id, an unusable task, or
    more than `max_tasks=` is the adding task's error), recorded with the adding task's id
    in `task_runs.parent_id`, and run by the same workers.
    """

    tasks: Any
    """The tasks to add (any iterable of tasks, as `run_pipeline` takes them)."""
    task_id: Any = None
    """The adding task; left out, the task running where the message is made."""
    skip_repeats: bool = False
    """Skip (and count) a task whose id the run already has, instead of refusing the batch:
    for tasks keyed by their content, where the same id is the same task."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "tasks", tuple(self.tasks))
        if self.task_id is None:
            object.__setattr__(self, "task_id", CURRENT_TASK.get())
