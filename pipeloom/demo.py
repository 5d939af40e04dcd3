"""The demo pipeline: tasks that sleep a little per step and report progress."""

from __future__ import annotations

import random
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .core.messages import MsgTaskFinished, MsgTaskProgress, MsgTaskStarted

__all__ = ["DemoTask", "demo_tasks", "demo_worker"]


@dataclass(frozen=True, slots=True)
class DemoTask:
    """A demo task with `steps` steps."""

    task_id: int
    name: str
    steps: int = 20


def demo_tasks(n: int, steps: int = 20) -> list[DemoTask]:
    """`n` demo tasks named `task-1` ... `task-n`."""
    return [DemoTask(i, f"task-{i}", steps) for i in range(1, n + 1)]


def demo_worker(task: Any, q: Any, *, delay: float = 0.02) -> None:
    """Report start, one progress message per step (sleeping ~`delay` s each), and done.

    An exception along the way is reported as the task's `error` (as in pipeloom 0.0.x), not raised.
    """
    q.put(MsgTaskStarted(task.task_id, task.name, datetime.now(UTC).isoformat()))
    try:
        steps = getattr(task, "steps", 1)
        for step in range(1, steps + 1):
            time.sleep(delay * (0.5 + random.random()))
            q.put(MsgTaskProgress(task.task_id, step, steps, f"step {step}/{steps}"))
    except Exception as exc:
        q.put(
            MsgTaskFinished(
                task.task_id,
                "error",
                datetime.now(UTC).isoformat(),
                message=str(exc) or type(exc).__name__,
                traceback=traceback.format_exc(),
            )
        )
        return
    q.put(
        MsgTaskFinished(
            task.task_id,
            "done",
            datetime.now(UTC).isoformat(),
            result=f"ok:{task.name}",
            message="completed",
        )
    )
