"""pipeloom: threaded pipelines whose workers send messages to one SQLite writer."""

from __future__ import annotations

from .engine import run_pipeline
from .errors import ConfigError, PipelineError, WriterError
from .handlers import HandlerRegistry
from .messages import (
    SENTINEL,
    Msg,
    MsgTaskFinish,
    MsgTaskFinished,
    MsgTaskProgress,
    MsgTaskStart,
    MsgTaskStarted,
    TaskDef,
)
from .rlog import setup_logging
from .summary import RunSummary
from .writer import SQLiteWriter

__version__ = "0.1.0"

__all__ = [
    "SENTINEL",
    "ConfigError",
    "HandlerRegistry",
    "Msg",
    "MsgTaskFinish",
    "MsgTaskFinished",
    "MsgTaskProgress",
    "MsgTaskStart",
    "MsgTaskStarted",
    "PipelineError",
    "RunSummary",
    "SQLiteWriter",
    "TaskDef",
    "WriterError",
    "__version__",
    "run_pipeline",
    "setup_logging",
]
