"""SQLite connections: the writer's (pragmas, deferred commits) and read-only ones.

The writer thread opens the only read-write connection; readers use `connect_readonly`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from ..errors import ConfigError
from .holders import holders
from .inserts import executemany_in_chunks, insert_plan
from .lock import is_busy
from .savepoints import rollback_to

__all__ = [
    "MEMORY",
    "WriterConnection",
    "connect",
    "connect_readonly",
    "quote_identifier",
    "read_failed",
    "wal_checkpoint",
]

MEMORY = ":memory:"
"""SQLite's name for a private in-memory database (readable only by its own connection)."""

Synchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]


class WriterConnection(sqlite3.Connection):
    """The writer's connection: user code on it cannot end the writer's transaction.

    Handlers written for pipeloom call `conn.commit()` after each message; here that
    keeps working without breaking batching or per-message atomicity. `rollback()` inside
    a handler undoes only that message's effects. While user code runs (`guarded`), an
    authorizer refuses COMMIT, ROLLBACK, BEGIN and any statement on the writer's savepoint,
    and `close()` raises: the statement fails inside the handler, so only its message fails.
    """

    in_batch: bool = False
    savepoint: str | None = None
    guarded: bool = False
    """True while user code (a handler, a schema callable) runs on this connection."""
    refused: str | None = None
    """The transaction statement last refused to user code, if any."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_authorizer(self._authorize)

    def _authorize(self, action: int, arg1: Any, arg2: Any, _db: Any, _trigger: Any) -> int:
        if self.guarded and (
            action == sqlite3.SQLITE_TRANSACTION
            or (action == sqlite3.SQLITE_SAVEPOINT and str(arg2).lower() == self.savepoint)
        ):
            self.refused = f"{arg1} {arg2 or ''}".strip()
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> sqlite3.Cursor:
        """sqlite3's `executemany`, but a plain `INSERT ... VALUES (?, ...)` many rows a statement.

        Same rows, same errors, same `rowcount`, fewer GIL hand-offs (see `inserts`).
        """
        plan = insert_plan(sql) if type(sql) is str and self.in_transaction else None
        if plan is None:  # in autocommit each row commits alone: executemany keeps that
            return super().executemany(sql, parameters)
        return executemany_in_chunks(self, plan, sql, parameters, super().executemany)

    def commit(self) -> None:
        """Commit now, or at the end of the current batch when called from user code."""
        if not (self.in_batch or self.guarded):
            super().commit()

    def rollback(self) -> None:
        """Roll back the current message when called from a handler, else the transaction."""
        if self.savepoint and (self.in_batch or self.guarded):
            self.guarded, was = False, self.guarded
            try:
                rollback_to(self, self.savepoint)
            finally:
                self.guarded = was
        else:
            super().rollback()

    def close(self) -> None:
        """Close, unless user code asks: the writer owns this connection."""
        if self.guarded:
            raise sqlite3.ProgrammingError(
                "the writer's connection cannot be closed by a handler (the writer closes it)"
            )
        super().close()


BUSY_MAX = 1_000_000.0
"""The longest busy timeout handed to SQLite (it takes whole milliseconds in a C int); a
longer `lock_timeout` is waited for by retrying (`lock.begin_immediate`)."""

CACHE_KIB = 32_000
"""The writer's page cache (KiB). It only grows: a run of a million tasks fills any cache
with `task_runs` pages it never reads again, so more memory buys little (it was 100 MB)."""


def check_db_path(db_path: str | Path) -> str:
    """Return `db_path` as a string, or raise ConfigError if it cannot hold a database."""
    text = str(db_path)
    if text == MEMORY or text.startswith("file:"):
        return text
    path = Path(text)
    if path.is_dir():
        raise ConfigError(f"db_path {text!r} is a directory, not a database file")
    if not path.parent.exists():
        raise ConfigError(f"db_path {text!r}: folder {str(path.parent)!r} does not exist")
    return text


def connect(
    db_path: str | Path,
    *,
    wal: bool = True,
    synchronous: Synchronous = "NORMAL",
    factory: type[sqlite3.Connection] = sqlite3.Connection,
    timeout: float = 60.0,
) -> sqlite3.Connection:
    """Open a configured read-write connection (call it in the thread that will use it).

    `timeout` is SQLite's busy timeout: how long a statement waits for another
    connection's lock before it fails with "database is locked".
    """
    text = check_db_path(db_path)
    try:
        conn = sqlite3.connect(
            text,
            timeout=min(timeout, BUSY_MAX),
            factory=factory,
            uri=text.startswith("file:"),
            isolation_level=None,
        )
        mode = "MEMORY" if text == MEMORY else "WAL" if wal else "DELETE"
        _set_journal_mode(conn, mode, timeout)
    except sqlite3.Error as exc:
        raise ConfigError(f"cannot open database {text!r}: {exc}") from exc
    if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise ConfigError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, not {synchronous!r}")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    conn.execute("PRAGMA wal_autocheckpoint=1000")
    return conn


def _set_journal_mode(conn: sqlite3.Connection, mode: str, timeout: float) -> None:
    """Set the journal mode, retrying while another process holds the file (up to `timeout`)."""
    if conn.execute("PRAGMA journal_mode").fetchone()[0].upper() == mode:
        return
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute(f"PRAGMA journal_mode={mode}")
            return
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(0.02)


def connect_readonly(db_path: str | Path, timeout: float = 30.0) -> sqlite3.Connection:
    """Open a read-only connection that never blocks the writer (WAL readers see a snapshot).

    `timeout`: seconds a read waits for a connection that holds the whole file (a write
    in rollback-journal mode); `read_failed` turns what a read raises into a clear error.
    """
    text = check_db_path(db_path)
    if text == MEMORY:
        raise ConfigError("a ':memory:' database is private to its writer; use a file path")
    if not Path(text).exists():
        raise ConfigError(f"database {text!r} does not exist yet")
    uri = f"{Path(text).resolve().as_uri()}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)
    conn.execute("PRAGMA query_only=ON")
    return conn


def read_failed(db_path: str | Path, exc: sqlite3.Error) -> ConfigError:
    """The error for a read of `db_path` that failed: locked (and by whom), not a database."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    if is_busy(exc):
        who = holders(db_path)
        return ConfigError(
            f"{db_path} is locked{' by ' + ', '.join(who) if who else ''}: another connection "
            f"holds the whole file (a write in rollback-journal mode, or locking_mode="
            f"EXCLUSIVE); try again once it lets go ({exc})"
        )
    if code in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
        return ConfigError(f"{db_path} is not a SQLite database, or is damaged ({exc})")
    return ConfigError(f"cannot read {db_path}: {exc}")


def wal_checkpoint(
    conn: sqlite3.Connection,
    mode: Literal["PASSIVE", "FULL", "RESTART", "TRUNCATE"] = "TRUNCATE",
) -> None:
    """Commit, then checkpoint the WAL into the main file (TRUNCATE empties the -wal file)."""
    if conn.in_transaction:
        conn.commit()
    conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()


def quote_identifier(name: str) -> str:
    """Quote a table or column name for SQL; reject names SQLite cannot store."""
    if not isinstance(name, str) or not name or "\x00" in name:
        raise ConfigError(f"invalid SQL identifier: {name!r}")
    return '"' + name.replace('"', '""') + '"'
