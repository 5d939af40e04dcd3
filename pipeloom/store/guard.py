"""User code on the writer's connection, inside a savepoint it cannot end.

A handler (or a `schema=` callable) runs with the connection `guarded`: its COMMIT,
ROLLBACK, BEGIN, RELEASE of the writer's savepoint and `close()` fail inside it, so only
its own message fails. Any exception it raises, BaseException included (`SystemExit`, a
`KeyboardInterrupt` it raises itself; real signals go to the main thread, never to the
writer), rolls the message back to its savepoint. The state is checked after each call:
if the writer's transaction or savepoint is gone anyway (a handler that went around the
connection object), the writer stops with a WriterError rather than guess what was kept.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from ..errors import WriterError
from .connection import WriterConnection
from .savepoints import begin, release, rollback_to

__all__ = ["SAVEPOINT", "HandlerRefused", "run_guarded"]

SAVEPOINT = "pipeloom_msg"


class HandlerRefused(sqlite3.DatabaseError):
    """User code ran a statement that would end the writer's transaction."""


def run_guarded(
    conn: WriterConnection, call: Callable[[], object], what: str
) -> BaseException | None:
    """Run `call` in a savepoint; the exception that failed it (rolled back), or None."""
    begin(conn, SAVEPOINT)
    conn.savepoint, conn.refused, conn.guarded = SAVEPOINT, None, True
    failure: BaseException | None = None
    try:
        call()
    except BaseException as exc:  # a handler's failure, of any kind, is its message's
        failure = exc
    finally:
        conn.guarded = False
    if conn.refused is not None:
        failure = _refusal(conn.refused, failure)
    _check_transaction(conn, what, failure)
    try:
        if failure is not None:
            rollback_to(conn, SAVEPOINT)
        release(conn, SAVEPOINT)
    except sqlite3.Error as exc:
        raise WriterError(f"{what} left the writer's savepoint unusable: {exc}") from exc
    finally:
        conn.savepoint = None
    return failure


def _refusal(statement: str, failure: BaseException | None) -> HandlerRefused:
    err = HandlerRefused(
        f"a handler may not run {statement} on the writer's connection: the writer commits "
        "each batch itself (conn.commit() is deferred, conn.rollback() undoes the message)"
    )
    err.__cause__ = failure
    return err


def _check_transaction(conn: WriterConnection, what: str, failure: BaseException | None) -> None:
    try:
        open_ = conn.in_transaction
    except sqlite3.ProgrammingError as exc:
        raise WriterError(f"{what} closed the writer's connection; the batch was lost") from exc
    if open_:
        return
    if isinstance(failure, sqlite3.Error):  # SQLITE_FULL, IOERR...: SQLite rolled it all back
        raise WriterError(f"{what} failed and SQLite rolled back the batch: {failure}") from failure
    raise WriterError(
        f"{what} ended the writer's transaction; the writer stops rather than guess "
        "which rows of the batch were kept"
    )
