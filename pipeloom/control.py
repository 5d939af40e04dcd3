"""Messages the engine itself sends to the writer, around each task and at the end of a run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .messages import SENTINEL

__all__ = ["WRITER_STOP", "RunClosing", "TaskClosed", "TasksCancelled"]


@dataclass(frozen=True, slots=True)
class TaskClosed:
    """The worker function returned or raised; closes the task unless the worker already did."""

    task_id: Any
    name: str
    started_at: str
    finished_at: str
    error: str | None = None
    traceback: str | None = None
    retrying: bool = False
    retry_after: float | None = None
    """Seconds the server asked to wait (`Retry-After`, `RetryAfter`), if it pushed back."""
    timed_out: bool = False
    """The attempt ran past `timeout=`."""
    abandoned: bool = False
    """The timed-out attempt's thread could not be stopped and runs on."""


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


WRITER_STOP = SENTINEL
"""Stand-in until the store branch lands: the engine's own stop for the writer."""
