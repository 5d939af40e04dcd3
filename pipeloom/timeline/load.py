"""Read one run's tasks and attempts from the database (read-only, safe while it writes)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import ConfigError
from ..store.connection import connect_readonly
from ..store.tables import has_table

__all__ = ["RunRecord", "latest_run_id", "load_run", "parse_times"]

_TASKS = (
    "task_runs",
    "id AS task_id, name, status, started_at, finished_at, attempts, worker",
    "rowid",
)
_ATTEMPTS = (
    "task_attempts",
    "task_id, attempt, worker, started_at, finished_at, outcome, error",
    "task_id, attempt",
)
_RUN = "SELECT run_id, name, status, started_at, finished_at FROM pipeline_runs WHERE run_id = ?"


@dataclass(frozen=True)
class RunRecord:
    """What a run recorded: its row in `pipeline_runs`, its tasks and their attempts."""

    run_id: int
    name: str
    status: str
    started_at: pd.Timestamp
    finished_at: pd.Timestamp | None
    tasks: pd.DataFrame
    """task_id, name, status, started_at, finished_at, attempts, worker (times parsed)."""
    attempts: pd.DataFrame
    """task_id, attempt, worker, started_at, finished_at, outcome, error (times parsed)."""


def parse_times(df: pd.DataFrame) -> pd.DataFrame:
    """`started_at` and `finished_at` as datetime64 (UTC)."""
    for col in ("started_at", "finished_at"):
        df[col] = pd.to_datetime(df[col], utc=True, format="ISO8601")
    return df


def latest_run_id(conn: sqlite3.Connection) -> int:
    """The newest run's id; ConfigError when the database has none."""
    row = conn.execute("SELECT max(run_id) FROM pipeline_runs").fetchone()
    if row is None or row[0] is None:
        raise ConfigError("this database has no runs yet")
    return int(row[0])


def _run_row(conn: sqlite3.Connection, run_id: int) -> tuple:
    row = conn.execute(_RUN, (run_id,)).fetchone()
    if row is None:
        raise ConfigError(f"no run {run_id} in this database (see `pipeloom status`)")
    return row


def _frame(conn: sqlite3.Connection, query: tuple[str, str, str], run_id: int) -> pd.DataFrame:
    table, cols, order = query
    if not has_table(conn, table):  # a file written before that table existed
        names = [c.split(" AS ")[-1].strip() for c in cols.split(",")]
        return parse_times(pd.DataFrame(columns=names))
    sql = f"SELECT {cols} FROM {table} WHERE run_id = ? ORDER BY {order}"
    return parse_times(pd.read_sql_query(sql, conn, params=(run_id,)))


def load_run(db_path: str | Path, run_id: int | None = None) -> RunRecord:
    """Read run `run_id` (None: the latest) with its tasks and attempts."""
    conn = connect_readonly(db_path)
    try:
        if not has_table(conn, "pipeline_runs"):
            raise ConfigError(f"{db_path} has no pipeloom run history")
        run_id = latest_run_id(conn) if run_id is None else int(run_id)
        rid, name, status, started, finished = _run_row(conn, run_id)
        tasks = _frame(conn, _TASKS, rid)
        attempts = _frame(conn, _ATTEMPTS, rid)
    finally:
        conn.close()
    return RunRecord(
        rid,
        name,
        status,
        pd.Timestamp(started),
        None if finished is None else pd.Timestamp(finished),
        tasks,
        attempts,
    )
