"""The run record: a `pipeline_runs` row per run, and the tasks a resumed run skips."""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from itertools import chain
from typing import Any

from ..core.clock import utc_now
from .inserts import RowsStatement, insert_many, rows_per_statement
from .owner import Owner
from .task_row import row_values
from .tasks import TaskBook, TaskState

__all__ = [
    "add_params",
    "added_in_refresh",
    "done_before",
    "finish_run",
    "insert_attempts",
    "insert_run",
    "insert_tasks",
    "latest_refresh",
    "update_counts",
    "upsert_tasks",
    "write_batch",
]

_UPSERT_HEAD = """
INSERT INTO task_runs
  (run_id, id, name, status, progress, message, started_at, finished_at, result, error, attempts,
   worker)
VALUES """
_UPSERT_TAIL = """
ON CONFLICT(run_id, id) DO UPDATE SET
  name=excluded.name, status=excluded.status, progress=excluded.progress,
  message=excluded.message, started_at=excluded.started_at, finished_at=excluded.finished_at,
  result=excluded.result, error=excluded.error, attempts=excluded.attempts,
  worker=excluded.worker
"""

TASK_ROW_WIDTH = 11
"""Parameters per task row (its `run_id` is written into the statement)."""


@functools.lru_cache(maxsize=32)
def task_upsert(run_id: int) -> RowsStatement:
    """The upsert of task rows of run `run_id` (an int, written into the statement)."""
    return RowsStatement(_UPSERT_HEAD, f"({run_id:d},?,?,?,?,?,?,?,?,?,?,?)", _UPSERT_TAIL)


def upsert_task_sql(run_id: int, n_rows: int) -> str:
    """The upsert of `n_rows` task rows of run `run_id`."""
    return task_upsert(run_id).sql(n_rows)


_INSERT_ATTEMPT = """
INSERT OR REPLACE INTO task_attempts
  (run_id, task_id, attempt, worker, started_at, finished_at, outcome, error, traceback,
   retry_after)
VALUES (?,?,?,?,?,?,?,?,?,?)
"""


def insert_run(
    conn: sqlite3.Connection,
    name: str,
    workers: int | None,
    params: Mapping[str, Any],
    owner: Owner | None = None,
    resumed_from: int | None = None,
) -> int:
    """Record a run as `running`, with its owner process; its run id."""
    host, pid, start = (None, None, None) if owner is None else (owner.host, owner.pid, owner.start)
    cur = conn.execute(
        "INSERT INTO pipeline_runs (name, status, started_at, workers, params, host, pid, "
        "pid_start, resumed_from) VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?)",
        (
            name,
            utc_now(),
            workers,
            json.dumps(dict(params), default=str),
            host,
            pid,
            start,
            resumed_from,
        ),
    )
    return cur.lastrowid


def latest_refresh(conn: sqlite3.Connection, name: str) -> int | None:
    """The last run of `name` started without `resume=True`: what a resume continues."""
    row = conn.execute(
        "SELECT max(run_id) FROM pipeline_runs WHERE name = ? AND resumed_from IS NULL", (name,)
    ).fetchone()
    return row[0]


def done_before(conn: sqlite3.Connection, name: str, since: int, run_id: int) -> frozenset:
    """Ids of tasks `done` in runs `since` .. `run_id` (excluded) of `name`: what resume skips.

    `since` is the latest refresh: items done only in older refreshes run again.
    """
    rows = conn.execute(
        "SELECT DISTINCT t.id FROM task_runs t JOIN pipeline_runs p ON p.run_id = t.run_id "
        "WHERE p.name = ? AND t.status = 'done' AND t.run_id >= ? AND t.run_id < ?",
        (name, since, run_id),
    )
    return frozenset(r[0] for r in rows)


def added_in_refresh(
    conn: sqlite3.Connection, name: str, since: int, run_id: int
) -> list[tuple[Any, str]]:
    """(parent, definition) of the tasks added in runs `since` .. `run_id` (excluded).

    What a resumed run re-creates: its first tasks may be done (skipped), and the pages
    or details they added either ran (skipped again) or still wait.
    """
    rows = conn.execute(
        "SELECT t.id, t.parent_id, t.definition FROM task_runs t "
        "JOIN pipeline_runs p ON p.run_id = t.run_id WHERE p.name = ? AND t.run_id >= ? "
        "AND t.run_id < ? AND t.definition IS NOT NULL ORDER BY t.run_id",
        (name, since, run_id),
    )
    latest = {task_id: (parent, text) for task_id, parent, text in rows}
    return list(latest.values())


def insert_tasks(conn: sqlite3.Connection, run_id: int, tasks: Iterable[TaskState]) -> None:
    """A `task_runs` row for each task, as it stands (queued or skipped)."""
    conn.executemany(
        "INSERT INTO task_runs (run_id, id, name, status) VALUES (?, ?, ?, ?)",
        [(run_id, st.task_id, st.name, st.status) for st in tasks],
    )


def upsert_tasks(conn: sqlite3.Connection, run_id: int, tasks: Sequence[TaskState]) -> None:
    """Write the tasks' rows as they stand now, many rows per statement.

    One statement per row costs SQLite a step per row, and the sqlite3 module a release
    and re-acquisition of the GIL for each: a third more CPU, and with busy worker threads
    the writer waits for the GIL at every row. Chunks are sized as `inserts` sizes them
    (up to 256 rows, then falling powers of two); values come from `row_values`, in C.
    """
    statement = task_upsert(run_id)
    per = rows_per_statement(conn, TASK_ROW_WIDTH)
    insert_many(conn, statement, len(tasks), per, lambda s, n: _task_values(tasks[s : s + n]))


def _task_values(tasks: Sequence[TaskState]) -> list[Any]:
    """The tasks' `task_runs` values, row after row (`row_values` runs in C)."""
    return list(chain.from_iterable(map(row_values, tasks)))


_ADDED_TASK = """
INSERT INTO task_runs (run_id, id, name, status, parent_id, definition)
VALUES (?, ?, ?, 'queued', ?, ?)
ON CONFLICT(run_id, id) DO UPDATE SET parent_id=excluded.parent_id,
  definition=excluded.definition
"""


def write_batch(conn: sqlite3.Connection, run_id: int, book: TaskBook, store: bool) -> list:
    """Write what a batch changed: task rows, attempts, the run's counts; the rows written."""
    dirty = book.take_dirty()
    if store:
        if dirty:
            upsert_tasks(conn, run_id, dirty)
        if book.added_rows:
            rows, book.added_rows = book.added_rows, []
            conn.executemany(_ADDED_TASK, [(run_id, *row) for row in rows])
        attempts = book.take_attempts()
        if attempts:
            insert_attempts(conn, run_id, attempts)
    if dirty:
        update_counts(conn, run_id, book.stats.counts, book.stats.total)
    return dirty


def insert_attempts(conn: sqlite3.Connection, run_id: int, rows: list[tuple]) -> None:
    """Record attempts (of tasks that failed at least once) in `task_attempts`."""
    conn.executemany(_INSERT_ATTEMPT, [(run_id, *row) for row in rows])


def update_counts(
    conn: sqlite3.Connection, run_id: int, counts: Mapping[str, int], total: int
) -> None:
    """The run's live counts, so `loom.runs()` and `pipeloom status` show a run in progress."""
    conn.execute(
        "UPDATE pipeline_runs SET tasks=?, done=?, errors=?, cancelled=?, skipped=? "
        "WHERE run_id=? -- pipeloom writer",
        (
            total,
            counts.get("done", 0),
            counts.get("error", 0),
            counts.get("cancelled", 0),
            counts.get("skipped", 0),
            run_id,
        ),
    )


def finish_run(
    conn: sqlite3.Connection,
    run_id: int,
    status: str,
    counts: Mapping[str, int],
    total: int,
    elapsed: float,
    error: str | None = None,
) -> None:
    """Close the run's row: final status, counts, elapsed seconds and run-level errors."""
    conn.execute(
        "UPDATE pipeline_runs SET status=?, finished_at=?, tasks=?, done=?, errors=?, "
        "cancelled=?, skipped=?, elapsed_s=?, error=? WHERE run_id=?",
        (
            status,
            utc_now(),
            total,
            counts.get("done", 0),
            counts.get("error", 0),
            counts.get("cancelled", 0),
            counts.get("skipped", 0),
            elapsed,
            error,
            run_id,
        ),
    )


def add_params(conn: sqlite3.Connection, run_id: int, facts: Mapping[str, Any]) -> None:
    """Merge `facts` into the run's `params` JSON (counts known only at the end)."""
    conn.execute(
        "UPDATE pipeline_runs SET params = json_patch(coalesce(params, '{}'), ?) WHERE run_id=?",
        (json.dumps(dict(facts)), run_id),
    )
