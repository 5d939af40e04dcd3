"""pipeloom 0.0.7's import path for the messages; they live in `pipeloom.core.messages`."""

from __future__ import annotations

from .core.messages import (
    SENTINEL,
    AddTasks,
    Msg,
    MsgTaskFinish,
    MsgTaskFinished,
    MsgTaskProgress,
    MsgTaskStart,
    MsgTaskStarted,
    TaskDef,
)

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
