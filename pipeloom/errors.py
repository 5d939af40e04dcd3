"""Every exception pipeloom raises on purpose: one hierarchy under `PipelineError`."""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "MagicUsageError",
    "NoSuchTable",
    "PicklingFailed",
    "PipelineError",
    "RetryAfter",
    "RunEnded",
    "UnhandledMessage",
    "WriterError",
]


class PipelineError(Exception):
    """Base class for pipeloom errors."""


class ConfigError(PipelineError, ValueError):
    """A run was asked for with arguments that cannot work; raised before any work starts."""


class PicklingFailed(ConfigError):
    """A worker, task or message could not be sent to or from another process."""


class WriterError(PipelineError, RuntimeError):
    """The writer thread failed (a disk error, say); the run was stopped."""


class RunEnded(PipelineError, RuntimeError):
    """A message was put on the queue of a run that has already ended."""


class UnhandledMessage(PipelineError, LookupError):
    """A message type with no handler: that message's task fails; it is never dropped."""


class NoSuchTable(PipelineError, KeyError):
    """A table asked for by name is not in the database."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class MagicUsageError(PipelineError):
    """Bad `%pipeloom` arguments: shown as a usage message, not a traceback."""


class RetryAfter(PipelineError):
    """Raise in a worker to say "the server pushed back: retry in `seconds`".

    The task is retried after that delay (under `retries=`), and the whole run's starts
    pause and slow down, as for an HTTP 429 or 503 carrying `Retry-After`.
    """

    def __init__(self, seconds: float, message: str = "") -> None:
        super().__init__(message or f"retry after {seconds:g} s")
        self.seconds = max(0.0, float(seconds))
