"""Many rows per INSERT statement: the same table contents as `executemany`, in any chunking."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import pandas as pd
import pytest

from pipeloom import Rows, TaskDef, run_pipeline
from pipeloom.store.connection import WriterConnection
from pipeloom.store.inserts import ManyRowsCursor, chunk_sizes, insert_columns, rows_per_statement

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


# --- the writer's executemany ------------------------------------------------------------------
def _pair(tmp_path, schema):
    """The writer's connection and a plain one, each on its own file, in a transaction."""
    conns = []
    for name, factory in (("writer", WriterConnection), ("plain", sqlite3.Connection)):
        conn = sqlite3.connect(tmp_path / f"{name}.db", factory=factory, isolation_level=None)
        conn.executescript(schema)
        conn.execute("BEGIN")
        conns.append(conn)
    return conns


def _outcome(conn, sql, params):
    try:
        cur = conn.executemany(sql, params)
        result = ("ok", cur.rowcount, cur.lastrowid)
    except sqlite3.Error as exc:
        result = (type(exc).__name__, str(exc))
    tables = ("SELECT rowid, * FROM t ORDER BY rowid", "SELECT rowid, * FROM u ORDER BY rowid")
    return result, [conn.execute(q).fetchall() for q in tables]


SCHEMA = (
    "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT CHECK (v != 'bad'), x REAL);"
    "CREATE TABLE u (k INTEGER NOT NULL ON CONFLICT FAIL);"
)


@pytest.mark.parametrize(
    ("sql", "params"),
    [
        ("INSERT INTO t (k, v, x) VALUES (?, ?, ?)", [(i, f"v{i}", i / 7) for i in range(1000)]),
        ("insert into t values (?,?,?);", ((i, None, i) for i in range(300))),
        (
            "INSERT INTO t (k, v, x) VALUES (?, ?, ?)",
            [(i, "bad" if i == 600 else "", 0) for i in range(900)],
        ),
        ("INSERT INTO t (k, v, x) VALUES (?, ?, ?)", [(i % 500, "", 0) for i in range(900)]),
        (
            "INSERT OR IGNORE INTO t (k, v, x) VALUES (?, ?, ?)",
            [(i % 500, str(i), 0) for i in range(900)],
        ),
        (
            "INSERT INTO t (k, v, x) VALUES (?, ?, ?) "
            "ON CONFLICT(k) DO UPDATE SET v = v || excluded.v",
            [(i % 300, str(i), 0) for i in range(900)],
        ),
        (
            "INSERT OR FAIL INTO t (k, v, x) VALUES (?, ?, ?)",
            [(i, "bad" if i == 600 else "", 0) for i in range(900)],
        ),
        ("INSERT INTO u (k) VALUES (?)", [(None if i == 600 else i,) for i in range(900)]),
        ("INSERT INTO t (k, v, x) VALUES (?, ?, ?)", [(1, "a", 0), (2, "b"), (3, "c", 0)]),
        (
            "INSERT INTO t (k, v, x) VALUES (?, ?, ?)",
            [(i, [i], 0) if i == 400 else (i, "", 0) for i in range(500)],
        ),
        ("INSERT INTO t (k, v, x) VALUES (?, ?, ?)", [{"k": 1}, (2, "b", 0)]),
        ("INSERT INTO t (k, v) VALUES (?, ?) RETURNING k", [(1, "a"), (2, "b")]),
    ],
    ids=[
        "plain",
        "generator",
        "check-fails",
        "duplicate-key",
        "or-ignore",
        "upsert",
        "or-fail",
        "table-fail",
        "short-row",
        "bad-type",
        "dict-row",
        "returning",
    ],
)
def test_the_writers_executemany_does_what_executemany_does(tmp_path, sql, params):
    params = list(params)
    writer, plain = _pair(tmp_path, SCHEMA)
    assert _outcome(writer, sql, params) == _outcome(plain, sql, params)
    writer.close()
    plain.close()


def test_in_autocommit_every_row_before_a_failing_one_is_kept(tmp_path):
    writer, plain = _pair(tmp_path, SCHEMA)
    sql = "INSERT INTO t (k, v, x) VALUES (?, ?, ?)"
    params = [(i, "bad" if i == 600 else "", 0) for i in range(900)]
    for conn in (writer, plain):
        conn.execute("COMMIT")
    assert _outcome(writer, sql, params) == _outcome(plain, sql, params)
    assert writer.execute("SELECT count(*) FROM t").fetchone() == (600,)
    writer.close()
    plain.close()


def test_a_plain_insert_takes_many_rows_per_statement(tmp_path):
    writer, plain = _pair(tmp_path, SCHEMA)
    statements = []
    writer.set_trace_callback(statements.append)
    cur = writer.executemany(
        "INSERT INTO t (k, v, x) VALUES (?, ?, ?)", [(i, "", 0) for i in range(300)]
    )
    assert isinstance(cur, ManyRowsCursor) and cur.rowcount == 300
    inserts = [sql.count("), (") + 1 for sql in statements if sql.startswith("INSERT")]
    assert inserts == [256, 32, 8, 4]
    writer.close()
    plain.close()


def test_a_handler_that_catches_a_failed_row_keeps_the_rows_before_it(db_path):
    @dataclass(frozen=True)
    class Batch:
        rows: list

    def handler(conn, msg):
        try:
            conn.executemany("INSERT INTO t (k, v, x) VALUES (?, ?, ?)", msg.rows)
        except sqlite3.IntegrityError:
            conn.execute("INSERT INTO t (k, v, x) VALUES (-1, 'caught', 0)")

    def worker(task, q):
        q.put(Batch([(i, "bad" if i == 700 else "ok", 0) for i in range(1000)]))

    s = run_pipeline(
        db_path,
        [TaskDef(0, "t0")],
        worker_fn=worker,
        handlers={Batch: handler},
        schema=SCHEMA,
        progress=False,
    )
    assert s.status == "done"
    assert rows(db_path, "SELECT count(*), max(k) FROM t WHERE v = 'ok'") == [(700, 699)]
    assert rows(db_path, "SELECT v FROM t WHERE k = -1") == [("caught",)]
