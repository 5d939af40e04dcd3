"""Every exception pipeloom raises on purpose: one hierarchy under `PipelineError`."""

from __future__ import annotations

from typing import Any

__all__ = [
    "ConfigError",
    "NoSuchTable",
    "PicklingFailed",
    "PipelineError",
    "RetryAfter",
    "RunEnded",
    "UnhandledMessage",
    "UnsupportedValue",
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


class UnsupportedValue(PipelineError, TypeError):
    """A value SQLite cannot store as it is; names the column, the type and the row."""

    def __init__(
        self,
        value_type: str,
        reason: str = "",
        *,
        column: str | None = None,
        row: int | None = None,
        item: str | None = None,
    ) -> None:
        self.value_type, self.reason = value_type, reason
        self.column, self.row, self.item = column, row, item
        super().__init__(str(self))

    def where(self, **kw: Any) -> UnsupportedValue:
        """A copy with more context (`column=`, `row=`, `item=`) filled in."""
        fields = {"column": self.column, "row": self.row, "item": self.item}
        fields.update({k: v for k, v in kw.items() if v is not None})
        return UnsupportedValue(self.value_type, self.reason, **fields)

    def __str__(self) -> str:
        parts = []
        if self.item is not None:
            parts.append(f"item {self.item}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        head = ", ".join(parts)
        text = f"cannot store a value of type {self.value_type}"
        if self.reason:
            text += f" ({self.reason})"
        return f"{head}: {text}" if head else text


class RetryAfter(PipelineError):
    """Raise in a worker to say "the server pushed back: retry in `seconds`".

    The task is retried after that delay (under `retries=`), and the whole run's starts
    pause and slow down, as for an HTTP 429 or 503 carrying `Retry-After`.
    """

    def __init__(self, seconds: float, message: str = "") -> None:
        super().__init__(message or f"retry after {seconds:g} s")
        self.seconds = max(0.0, float(seconds))
