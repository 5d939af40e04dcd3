"""What `run_pipeline` returns: the run id, counts per status, elapsed time and errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .status import RunStatus, TaskStatus

__all__ = ["RunSummary", "TaskError"]


@dataclass(frozen=True, slots=True)
class TaskError:
    """A failed task: what went wrong and where."""

    task_id: Any
    """The task's id."""
    name: str
    """The task's name."""
    message: str
    """The exception type and text."""
    traceback: str | None = None
    """The formatted traceback, when there is one."""


@dataclass(frozen=True)
class RunSummary:
    """The outcome of one run; the same facts are in the `pipeline_runs` table."""

    run_id: int
    """The run's id in `pipeline_runs` and `task_runs.run_id`."""
    name: str
    """The pipeline name (used by `resume=True` to find earlier runs)."""
    db_path: str
    """The database written."""
    status: str
    """`done`, `error` (some tasks failed), `cancelled` or `failed` (the writer failed)."""
    total: int
    """Tasks in the run."""
    counts: dict[str, int] = field(default_factory=dict)
    """Tasks per final status: done, error, cancelled, skipped."""
    elapsed: float = 0.0
    """Wall-clock seconds."""
    messages: int = 0
    """Messages the writer applied."""
    errors: list[TaskError] = field(default_factory=list)
    """Failed tasks (and failed handlers), with tracebacks."""
    workers: int = 0
    """Worker threads (or concurrent coroutines)."""
    throttled: int = 0
    """Server push-backs obeyed (HTTP 429/503 `Retry-After`, `RetryAfter`): retried after
    the server's delay, the whole run slowed down."""
    timed_out: int = 0
    """Attempts that ran past `timeout=` (recorded as `TimeoutError`, retried if allowed)."""
    abandoned: int = 0
    """Of those, attempts whose thread could not be stopped and was left running."""
    repeated: int = 0
    """Tasks added again though the run had them (the same item on two pages): run once."""

    @property
    def ok(self) -> bool:
        """True when every task is done (or was skipped as done before)."""
        return self.status == RunStatus.DONE

    @property
    def done(self) -> int:
        """Tasks that finished with status `done`."""
        return self.counts.get(TaskStatus.DONE, 0)

    @property
    def failed(self) -> int:
        """Tasks that finished with status `error`."""
        return self.counts.get(TaskStatus.ERROR, 0)

    @property
    def cancelled(self) -> int:
        """Tasks that were cancelled."""
        return self.counts.get(TaskStatus.CANCELLED, 0)

    @property
    def tasks_per_second(self) -> float:
        """Completed tasks per second."""
        finished = self.done + self.failed
        return finished / self.elapsed if self.elapsed > 0 else 0.0

    def __str__(self) -> str:
        parts = ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items()) if v)
        extra = "".join(
            f", {n} {what}"
            for n, what in (
                (self.throttled, "push-backs obeyed"),
                (self.timed_out, "attempts timed out"),
                (self.abandoned, "threads abandoned"),
                (self.repeated, "repeated items mapped once"),
            )
            if n
        )
        return (
            f"run {self.run_id} ({self.name}): {self.status}; {self.total} tasks: "
            f"{parts or 'none'}; {self.elapsed:.2f}s, {self.messages} messages{extra}"
        )
