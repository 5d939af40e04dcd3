"""pipeloom's own tables: `pipeline_runs` (one row per run) and `task_runs` (one per task)."""

from __future__ import annotations

import sqlite3

from ..errors import ConfigError

__all__ = ["OWN_TABLES", "init_schema"]

OWN_TABLES = frozenset({"pipeline_runs", "task_runs"})
"""Tables a run keeps for itself; user code must not write them."""

_TASK_RUNS = """
CREATE TABLE IF NOT EXISTS task_runs (
  run_id      INTEGER NOT NULL DEFAULT 0,
  id          NOT NULL,
  name        TEXT NOT NULL,
  status      TEXT NOT NULL,            -- queued|running|done|error|cancelled
  progress    REAL NOT NULL DEFAULT 0.0,
  message     TEXT,
  started_at  TEXT,
  finished_at TEXT,
  result      TEXT,
  error       TEXT,
  attempts    INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, id)
);
CREATE INDEX IF NOT EXISTS idx_task_runs_status ON task_runs(status);
CREATE INDEX IF NOT EXISTS idx_task_runs_id ON task_runs(id);
"""

_PIPELINE_RUNS = """
CREATE TABLE IF NOT EXISTS pipeline_runs (
  run_id      INTEGER PRIMARY KEY AUTOINCREMENT,
  name        TEXT NOT NULL,
  status      TEXT NOT NULL,            -- running|done|error|cancelled|failed
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


def init_schema(conn: sqlite3.Connection, *, store_task_status: bool = True) -> None:
    """Create `pipeline_runs`, and `task_runs` when task status is stored."""
    conn.executescript(_PIPELINE_RUNS + (_TASK_RUNS if store_task_status else ""))
    _refuse_legacy_task_runs(conn)


def _refuse_legacy_task_runs(conn: sqlite3.Connection) -> None:
    """Refuse a `task_runs` table from an older layout rather than misreading it."""
    cols = {row[1] for row in conn.execute("PRAGMA table_info(task_runs)")}
    if cols and "run_id" not in cols:
        raise ConfigError(
            "this database has a task_runs table without run history (pipeloom 0.0.x); "
            "rename it (ALTER TABLE task_runs RENAME TO task_runs_old) or use a new file"
        )
