"""pipeloom: threaded pipelines whose workers send messages to one SQLite writer."""

from __future__ import annotations

from .engine import run_pipeline
from .errors import (
    ConfigError,
    NoSuchTable,
    PicklingFailed,
    PipelineError,
    RetryAfter,
    RunEnded,
    UnhandledMessage,
    UnsupportedValue,
    WriterError,
)
from .execution.queue import MessageQueue, WorkerQueue
from .messages import (
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
from .page import Page
from .progress import Display, StatsSnapshot, TaskError, choose_display
from .rlog import setup_logging
from .rows import Rows
from .store.handlers import HandlerRegistry
from .store.writer import SQLiteWriter
from .summary import RunSummary

__version__ = "0.1.0"

__all__ = [
    "SENTINEL",
    "AddTasks",
    "ConfigError",
    "Display",
    "HandlerRegistry",
    "MessageQueue",
    "Msg",
    "MsgTaskFinish",
    "MsgTaskFinished",
    "MsgTaskProgress",
    "MsgTaskStart",
    "MsgTaskStarted",
    "NoSuchTable",
    "Page",
    "PicklingFailed",
    "PipelineError",
    "RetryAfter",
    "Rows",
    "RunEnded",
    "RunSummary",
    "SQLiteWriter",
    "StatsSnapshot",
    "TaskDef",
    "TaskError",
    "UnhandledMessage",
    "UnsupportedValue",
    "WorkerQueue",
    "WriterError",
    "__version__",
    "choose_display",
    "run_pipeline",
    "setup_logging",
]
