"""pipeloom: threaded pipelines whose workers send messages to one SQLite writer."""

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
from .core.page import Page
from .core.queue import MessageQueue, WorkerQueue
from .core.rows import Rows
from .core.summary import RunSummary
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
from .progress import Display, StatsSnapshot, TaskError, choose_display
from .rlog import setup_logging
from .run.engine import run_pipeline
from .store.handlers import HandlerRegistry
from .store.writer import SQLiteWriter

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
