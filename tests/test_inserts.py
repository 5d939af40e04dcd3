"""Many rows per INSERT statement: the same table contents as `executemany`, in any chunking."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

from pipeloom import Rows, TaskDef, run_pipeline
from pipeloom.store.inserts import chunk_sizes, insert_columns, rows_per_statement

from .helpers import rows


def test_chunks_are_full_then_falling_powers_of_two():
    assert chunk_sizes(0, 256) == []
    assert chunk_sizes(1000, 256) == [256, 256, 256, 128, 64, 32, 8]
    assert chunk_sizes(3, 1) == [1, 1, 1]
    assert sum(chunk_sizes(12_345, 64)) == 12_345


def test_rows_per_statement_stays_within_sqlites_parameter_limit(db_path):
    conn = sqlite3.connect(db_path)
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 10)
    assert rows_per_statement(conn, 3) == 2
    assert rows_per_statement(conn, 40) == 1
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 100_000)
    assert rows_per_statement(conn, 3) == 256
    conn.close()


@pytest.mark.parametrize("n", [0, 1, 255, 256, 257, 1001])
@pytest.mark.parametrize("limit", [7, 100_000])
def test_columns_land_as_executemany_lands_them(db_path, n, limit):
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, limit)
    cols = [
        list(range(n)),
        [f"v{i}" for i in range(n)],
        [i / 3 if i % 5 else None for i in range(n)],
    ]
    for table in ("a", "b"):
        conn.execute(f"CREATE TABLE {table} (k INTEGER, s TEXT, x REAL)")
    insert_columns(conn, "INSERT INTO a (k, s, x) VALUES ", "", cols)
    conn.executemany("INSERT INTO b (k, s, x) VALUES (?, ?, ?)", zip(*cols, strict=True))
    got = conn.execute("SELECT rowid, * FROM a").fetchall()
    assert got == conn.execute("SELECT rowid, * FROM b").fetchall()
    assert len(got) == n
    conn.close()


def test_a_merge_with_a_key_twice_in_one_message_keeps_the_last_row(db_path):
    df = pd.DataFrame({"k": [1, 2, 1, 3, 2], "v": ["a", "b", "c", "d", "e"]})

    def worker(task, q):
        q.put(Rows("t", df, key="k", mode="merge", task_id=task.task_id))

    s = run_pipeline(db_path, [TaskDef(0, "t0")], worker_fn=worker, progress=False)
    assert s.status == "done"
    assert rows(db_path, "SELECT k, v FROM t ORDER BY k") == [(1, "c"), (2, "e"), (3, "d")]


def test_a_constraint_failure_in_a_later_chunk_leaves_none_of_the_message(db_path):
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE t (k INTEGER CHECK (k < 900), v TEXT)")
    conn.commit()
    conn.close()
    df = pd.DataFrame({"k": range(1000), "v": "x"})

    def worker(task, q):
        q.put(Rows("t", df, task_id=task.task_id))

    s = run_pipeline(db_path, [TaskDef(0, "t0")], worker_fn=worker, progress=False)
    assert s.status == "error"
    assert rows(db_path, "SELECT count(*) FROM t") == [(0,)]
    (error,) = rows(db_path, "SELECT error FROM task_runs WHERE id = 0")[0]
    assert "CHECK constraint failed" in error
