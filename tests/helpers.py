"""Small helpers for reading what a run wrote."""

from __future__ import annotations

import sqlite3
import sys
import time
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeloom import MsgTaskProgress, TaskDef


def tasks(n: int, start: int = 0) -> list[TaskDef]:
    """`n` tasks with ids from `start` and names `t<id>`."""
    return [TaskDef(i, f"t{i}") for i in range(start, start + n)]


def rows(db: Path, sql: str, params: tuple = ()) -> list[tuple[Any, ...]]:
    """Run a query on a fresh connection and return all rows."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def statuses(db: Path, run_id: int | None = None) -> dict[Any, str]:
    """task id -> status for one run (the latest when run_id is None)."""
    if run_id is None:
        run_id = rows(db, "SELECT max(run_id) FROM task_runs")[0][0]
    return dict(rows(db, "SELECT id, status FROM task_runs WHERE run_id=?", (run_id,)))


@dataclass(frozen=True)
class MsgRows:
    """A domain message carrying rows for table `items`."""

    task_id: int
    rows: list[tuple[int, str]]


def insert_items(conn: sqlite3.Connection, msg: MsgRows) -> None:
    """Handler: insert the rows into `items`."""
    conn.executemany("INSERT INTO items(k, v) VALUES (?, ?)", msg.rows)


ITEMS_SCHEMA = "CREATE TABLE IF NOT EXISTS items(k INTEGER PRIMARY KEY, v TEXT)"


def quiet_worker(task: Any, q: Any) -> None:
    """Sends two progress messages and nothing else."""
    q.put(MsgTaskProgress(task.task_id, 1, 2, "half"))
    q.put(MsgTaskProgress(task.task_id, 2, 2, "all"))


CELL = """
from dataclasses import dataclass

@dataclass(frozen=True)
class {name}:
    rows: list
    task_id: int = 1
"""


def run_cell(name: str, module: str = "fake_notebook") -> type:
    """Define class `name` as a notebook cell does, in `module` (run it again: a new class)."""
    mod = sys.modules.get(module)
    if mod is None:
        mod = sys.modules[module] = types.ModuleType(module)
    exec(CELL.format(name=name), mod.__dict__)
    return getattr(mod, name)


def wait_for(cond: Callable[[], bool], timeout: float) -> bool:
    """Poll `cond` every 50 ms until it is true (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False
