"""Which worker runs the current attempt: recorded per attempt, drawn as a timeline lane."""

from __future__ import annotations

import contextvars
import threading

__all__ = ["CURRENT_TASK", "LANE", "current_lane"]

LANE: contextvars.ContextVar[str] = contextvars.ContextVar("pipeloom_lane", default="")
"""Set by runners whose workers share a thread (coroutine slots) or live elsewhere (pids)."""


def current_lane() -> str:
    """The lane set for this context, else the current thread's name."""
    return LANE.get() or threading.current_thread().name


CURRENT_TASK: contextvars.ContextVar[object] = contextvars.ContextVar("pipeloom_task", default=None)
"""The id of the task this context runs: the parent of the tasks an `AddTasks` adds."""
