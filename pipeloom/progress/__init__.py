"""Progress: live counters, the `Display` protocol, its terminal, log and null forms, and
the registry where other packages put theirs (`register_display`).

`pipeloom.progress` is also pipeloom 0.0.7's home of the Rich helpers
(`make_overall_progress`, `make_task_progress`, `preregister_task_bars`); they live in
`terminal.py` and are re-exported here.
"""

from __future__ import annotations

from ..core.summary import TaskError
from .display import Display, LogDisplay, NullDisplay, choose_display
from .frontends import FrontEnd, register_display
from .snapshot import BarState, RunStats, StatsSnapshot
from .terminal import RichDisplay, make_overall_progress, make_task_progress, preregister_task_bars

__all__ = [
    "BarState",
    "Display",
    "FrontEnd",
    "LogDisplay",
    "NullDisplay",
    "RichDisplay",
    "RunStats",
    "StatsSnapshot",
    "TaskError",
    "choose_display",
    "make_overall_progress",
    "make_task_progress",
    "preregister_task_bars",
    "register_display",
]
