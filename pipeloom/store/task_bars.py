"""pipeloom 0.0.7's `task_progress=`: bars registered up front, moved to their tasks' progress.

The bars are Rich's, reached only through their `update` method: the store imports no Rich.
"""

from __future__ import annotations

from typing import Any

from ..core.status import TERMINAL

__all__ = ["update_task_bars"]


def update_task_bars(progress: Any, bars: dict[Any, Any], tasks: list[Any]) -> None:
    """Move pre-registered bars (pipeloom 0.0.7's `task_progress=`) to the tasks' progress."""
    for st in tasks:
        tid = bars.get(st.task_id)
        if tid is None:
            continue
        progress.update(tid, completed=int(100 * st.progress))
        if st.status in TERMINAL:
            progress.update(tid, completed=100, visible=False)
            bars.pop(st.task_id, None)
