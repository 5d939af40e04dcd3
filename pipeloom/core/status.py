"""The statuses of a task and of a run, and the rule for a run's final status.

Each is a `StrEnum`: a member is the string SQLite stores (`TaskStatus.DONE == "done"`),
hashes and prints as it, so rows read back and counts keyed by either agree.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["FINISHED", "TERMINAL", "RunStatus", "TaskStatus", "run_status"]


class _Vocabulary(StrEnum):
    """A status: the string stored in SQLite; its `repr` is the string's, as it shows in counts."""

    def __repr__(self) -> str:
        return repr(self.value)


class TaskStatus(_Vocabulary):
    """Where a task stands, as `task_runs.status` records it."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    ERROR = "error"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


class RunStatus(_Vocabulary):
    """How a run stands or ended, as `pipeline_runs.status` records it."""

    RUNNING = "running"
    DONE = "done"
    ERROR = "error"
    CANCELLED = "cancelled"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


# The sets hold the members' plain text: they are tested on every task message, and a str
# key found by identity is cheaper than one compared with a str subclass. Members match too.
TERMINAL = frozenset(
    s.value for s in (TaskStatus.DONE, TaskStatus.ERROR, TaskStatus.CANCELLED, TaskStatus.SKIPPED)
)
"""The statuses a task keeps once it has them."""

FINISHED = tuple(s.value for s in (TaskStatus.DONE, TaskStatus.ERROR, TaskStatus.CANCELLED))
"""The statuses a worker may give in `MsgTaskFinished`."""


def run_status(
    counts: dict[str, int], *, cancelled: bool, failed: bool, errors: int = 0
) -> RunStatus:
    """The run's status: failed > cancelled > error > done.

    `errors` counts recorded errors, including a handler's on a message without a task.
    """
    if failed:
        return RunStatus.FAILED
    if cancelled:
        return RunStatus.CANCELLED
    if counts.get(TaskStatus.ERROR, 0) or errors:
        return RunStatus.ERROR
    return RunStatus.DONE
