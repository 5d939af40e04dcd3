"""Closing a run: unfinished tasks settled, their rows written, the run's row closed.

A run whose tasks are not all finished is never `done`: each unfinished task becomes
`cancelled` if the run was cancelled, else `error` ("the run ended before this task
finished"), and the run's status follows from the counts (`core.status.run_status`).
"""

from __future__ import annotations

import sqlite3
import time

from ..core.clock import utc_now
from ..core.status import run_status
from . import record
from .loads import RowsLoader
from .savepoints import savepoint
from .tasks import TaskBook

__all__ = ["close_run", "finish_loads"]


def close_run(
    conn: sqlite3.Connection,
    book: TaskBook,
    run_id: int,
    *,
    store_task_status: bool,
    cancelled: bool,
    failed: bool,
    dropped_untasked: int = 0,
) -> str:
    """Settle and write the tasks, close the run's row; the run's status."""
    stats = book.stats
    with stats.lock:
        if dropped_untasked:
            book.run_error(
                "backlog",
                f"{dropped_untasked} message(s) without a task id were not written: the run "
                "gave up its backlog",
                None,
            )
        book.settle(cancelled, utc_now())
        record.write_batch(conn, run_id, book, store_task_status)
        stats.ended = time.monotonic()
        n_errors = len(stats.errors)
        status = run_status(stats.counts, cancelled=cancelled, failed=failed, errors=n_errors)
        run_errors = [e.message for e in stats.errors if e.task_id is None]
    record.finish_run(
        conn,
        run_id,
        status,
        stats.counts,
        stats.total,
        stats.ended - stats.started,
        "\n".join(run_errors) or None,
    )
    return status


def finish_loads(conn: sqlite3.Connection, loads: RowsLoader, book: TaskBook, ok: bool) -> None:
    """Swap in `replace` loads if the run ended well (else drop them), in a savepoint."""
    try:
        with savepoint(conn, "pipeloom_loads"):
            loads.finish(conn, ok)
    except sqlite3.Error as exc:
        book.run_error("replace", f"could not swap in replaced tables: {exc}", None)
