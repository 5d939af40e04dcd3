"""pipeloom 0.0.7's import path for the writer; it lives in `pipeloom.store.writer`."""

from __future__ import annotations

from .errors import UnhandledMessage
from .store.writer import SQLiteWriter

__all__ = ["SQLiteWriter", "UnhandledMessage"]
