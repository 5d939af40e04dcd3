"""pipeloom's own tables: `pipeline_runs` (a row per run), `task_runs` (a row per task) and
`task_attempts` (a row per attempt of a task that failed at least once)."""

from __future__ import annotations

import sqlite3

from ..errors import ConfigError
from .script import run_script

__all__ = ["OWN_TABLES", "has_table", "init_schema"]

OWN_TABLES = frozenset({"pipeline_runs", "task_runs", "task_attempts"})
"""Tables a run keeps for itself; user code must not write them."""

# Files made by earlier versions have an index on `status`: it is dropped. pipeloom's
# queries all filter on `run_id` or `id` first, and every task row's write updated it.
_TASK_RUNS = """
CREATE TABLE IF NOT EXISTS task_runs (
  run_id      INTEGER NOT NULL DEFAULT 0,
  id          NOT NULL,
  name        TEXT NOT NULL,
  status      TEXT NOT NULL,            -- queued|running|done|error|cancelled|interrupted
  progress    REAL NOT NULL DEFAULT 0.0,
  message     TEXT,
  started_at  TEXT,
  finished_at TEXT,
  result      TEXT,
  error       TEXT,
  attempts    INTEGER NOT NULL DEFAULT 0,
  worker      TEXT,
  parent_id,
  definition  TEXT,
  PRIMARY KEY (run_id, id)
);
DROP INDEX IF EXISTS idx_task_runs_status;
CREATE INDEX IF NOT EXISTS idx_task_runs_id ON task_runs(id);
CREATE TABLE IF NOT EXISTS task_attempts (
  run_id      INTEGER NOT NULL,
  task_id     NOT NULL,
  attempt     INTEGER NOT NULL,
  worker      TEXT,
  started_at  TEXT,
  finished_at TEXT,
  outcome     TEXT NOT NULL,            -- done|error|retrying|timeout
  error       TEXT,
  traceback   TEXT,
  retry_after REAL,
  PRIMARY KEY (run_id, task_id, attempt)
);
"""

_PIPELINE_RUNS = """
CREATE TABLE IF NOT EXISTS pipeline_runs (
  run_id      INTEGER PRIMARY KEY AUTOINCREMENT,
  name        TEXT NOT NULL,
  status      TEXT NOT NULL,            -- running|done|error|cancelled|failed|interrupted
  started_at  TEXT NOT NULL,
  finished_at TEXT,
  workers     INTEGER,
  tasks       INTEGER NOT NULL DEFAULT 0,
  done        INTEGER NOT NULL DEFAULT 0,
  errors      INTEGER NOT NULL DEFAULT 0,
  cancelled   INTEGER NOT NULL DEFAULT 0,
  skipped     INTEGER NOT NULL DEFAULT 0,
  elapsed_s   REAL,
  params      TEXT
);
"""

_ADDED_RUN_COLUMNS = {
    "host": "TEXT",  # the owner: host name, pid and process start (owner.py)
    "pid": "INTEGER",
    "pid_start": "TEXT",
    "error": "TEXT",  # run-level errors (protocol, dropped backlog, orphaned)
    "resumed_from": "INTEGER",  # resume=True: the refresh it continues (record.latest_refresh)
}
"""Columns added after pipeloom 0.1; older files get them with ALTER TABLE."""

_ADDED_TASK_COLUMNS = {
    "worker": "TEXT",  # the lane of the task's last attempt
    "parent_id": "",  # the task that added this one (AddTasks), any type as task ids
    "definition": "TEXT",  # an added task as JSON, to re-create it on resume
}


def init_schema(conn: sqlite3.Connection, *, store_task_status: bool = True) -> None:
    """Create `pipeline_runs`, and `task_runs` when task status is stored.

    Runs in the caller's transaction (no `executescript`, which would commit it).
    """
    run_script(conn, _PIPELINE_RUNS + (_TASK_RUNS if store_task_status else ""))
    _add_missing_columns(conn)
    _refuse_legacy_task_runs(conn)


def has_table(conn: sqlite3.Connection, name: str) -> bool:
    """True if the database has a table called `name`."""
    sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    return conn.execute(sql, (name,)).fetchone() is not None


def _add_missing_columns(conn: sqlite3.Connection) -> None:
    for table, added in (("pipeline_runs", _ADDED_RUN_COLUMNS), ("task_runs", _ADDED_TASK_COLUMNS)):
        cols = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        for name, decl in added.items():
            if cols and name not in cols:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}".rstrip())


def _refuse_legacy_task_runs(conn: sqlite3.Connection) -> None:
    """Refuse a `task_runs` table from an older layout rather than misreading it."""
    cols = {row[1] for row in conn.execute("PRAGMA table_info(task_runs)")}
    if cols and "run_id" not in cols:
        raise ConfigError(
            "this database has a task_runs table without run history (pipeloom 0.0.x); "
            "rename it (ALTER TABLE task_runs RENAME TO task_runs_old) or use a new file"
        )
