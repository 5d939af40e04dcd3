"""Taking SQLite's write lock up front, waiting for other writers, failing with a clear text."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from ..errors import WriterError

__all__ = ["BEGIN", "COMMIT", "ROLLBACK", "begin_immediate", "is_busy"]

# The writer's own statements carry a marker, so the statement cache never hands a
# handler's identical "COMMIT" a statement the authorizer allowed for the writer.
BEGIN = "BEGIN IMMEDIATE -- pipeloom writer"
COMMIT = "COMMIT -- pipeloom writer"
ROLLBACK = "ROLLBACK -- pipeloom writer"

_RETRY_PAUSE = 0.05


def is_busy(exc: BaseException) -> bool:
    """True for SQLite's "database is locked" / "busy" errors."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def begin_immediate(conn: sqlite3.Connection, db_path: Any, timeout: float) -> None:
    """BEGIN IMMEDIATE: take the write lock now, waiting up to `timeout` seconds for it.

    The connection's busy timeout does the waiting; SQLite may still answer busy at once
    (a WAL recovery, say), so the attempt is repeated until `timeout` has passed.
    """
    start = time.monotonic()
    while True:
        try:
            conn.execute(BEGIN)
            return
        except sqlite3.OperationalError as exc:
            waited = time.monotonic() - start
            if not is_busy(exc):
                raise
            if waited >= timeout:
                raise _lock_error(db_path, waited, exc) from exc
        time.sleep(min(_RETRY_PAUSE, max(0.0, timeout - waited)))


def _lock_error(db_path: Any, waited: float, exc: BaseException) -> WriterError:
    return WriterError(
        f"could not get the write lock on database {str(db_path)!r} after waiting "
        f"{waited:.1f}s (lock_timeout): another connection kept a write transaction open "
        f"({exc})"
    )
