"""Issue 12, section 4: other writers on the same file are normal.

The other writer is a real second process (`children.LOCKER`) holding `BEGIN IMMEDIATE`
plus a write, as a second notebook, `pandas.to_sql` or the sqlite3 shell would.
"""

from __future__ import annotations

import re
import time

import pytest

from pipeloom import PipelineError, TaskDef, run_pipeline

from .children import Child, locker
from .helpers import ITEMS_SCHEMA, MsgRows, insert_items, rows


def read_then_insert(conn, msg):
    """A handler that reads before it writes (a lookup, a dedupe check)."""
    conn.execute("SELECT count(*) FROM items").fetchone()
    insert_items(conn, msg)


def _rows_of(task_id: int) -> MsgRows:
    return MsgRows(task_id, [(task_id * 1000 + i, "v") for i in range(3)])


@pytest.mark.parametrize("handler", [insert_items, read_then_insert], ids=lambda f: f.__name__)
def test_a_run_waits_for_another_writer_holding_the_lock_and_keeps_every_row(db_path, handler):
    run_pipeline(db_path, [], schema=ITEMS_SCHEMA, progress=False)
    with locker(db_path) as other:

        def worker(task, q):
            q.put(_rows_of(task.task_id))
            if task.task_id == 2:
                other.send("lock 1.0")  # held ~1 s, then committed
                other.expect("locked")

        summary = run_pipeline(
            db_path,
            [TaskDef(i, f"t{i}") for i in range(1, 11)],
            workers=1,
            worker_fn=worker,
            handlers={MsgRows: handler},
            schema=ITEMS_SCHEMA,
            progress=False,
        )
        other.expect("released")
    assert summary.ok, summary
    assert rows(db_path, "SELECT count(*) FROM items") == [(30,)]
    assert rows(db_path, "SELECT count(*) FROM other") == [(1,)]


TWO_RUNS = """
    import sys, time
    from dataclasses import dataclass
    from pipeloom import TaskDef, run_pipeline

    db, who, base = sys.argv[1], sys.argv[2], int(sys.argv[3])

    @dataclass(frozen=True)
    class MsgItem:
        task_id: int
        k: int

    def read_then_insert(conn, msg):
        conn.execute("SELECT count(*) FROM items").fetchone()
        conn.execute("INSERT INTO items(k, v) VALUES (?, ?)", (msg.k, who))

    def worker(task, q):
        for i in range(50):
            q.put(MsgItem(task.task_id, base + task.task_id * 1000 + i))
            if i % 10 == 9:
                time.sleep(0.005)  # spread the run over many batches

    print("ready", flush=True)
    sys.stdin.readline()
    s = run_pipeline(db, [TaskDef(i, f"t{i}") for i in range(40)], workers=2,
                     worker_fn=worker, handlers={MsgItem: read_then_insert}, name=who,
                     schema="CREATE TABLE IF NOT EXISTS items(k INTEGER PRIMARY KEY, v TEXT)",
                     progress=False)
    print("status", s.status, flush=True)
"""


def test_two_processes_running_pipelines_into_one_file_both_finish_with_every_row(db_path):
    run_pipeline(db_path, [], schema=ITEMS_SCHEMA, progress=False)
    a, b = Child(TWO_RUNS, db_path, "a", 0), Child(TWO_RUNS, db_path, "b", 1_000_000)
    with a, b:
        a.expect("ready")
        b.expect("ready")
        a.send("go")
        b.send("go")
        rc_a, rc_b = a.finish(timeout=60), b.finish(timeout=60)
        assert (rc_a, rc_b) == (0, 0), (a.stderr[-1500:], b.stderr[-1500:])
        assert "status done" in "".join(a.out) and "status done" in "".join(b.out)
    assert rows(db_path, "SELECT v, count(*) FROM items GROUP BY v ORDER BY v") == [
        ("a", 2000),
        ("b", 2000),
    ]
    runs = rows(db_path, "SELECT name, status FROM pipeline_runs WHERE name IN ('a','b')")
    assert sorted(runs) == [("a", "done"), ("b", "done")]


@pytest.mark.parametrize("when", ["at_start", "mid_run"])
def test_a_lock_held_longer_than_the_timeout_is_an_error_naming_the_lock_and_the_wait(
    db_path, when
):
    """`lock_timeout=` (seconds) is the parameter name a user would look for; new API."""
    run_pipeline(db_path, [], schema=ITEMS_SCHEMA, progress=False)
    with locker(db_path) as other:
        if when == "at_start":
            other.send("lock")
            other.expect("locked")

        def worker(task, q):
            if when == "mid_run" and task.task_id == 1:
                other.send("lock")  # held until the test releases it
                other.expect("locked")
            q.put(_rows_of(task.task_id))

        t0 = time.monotonic()
        try:
            with pytest.raises(PipelineError) as info:
                run_pipeline(
                    db_path,
                    [TaskDef(i, f"t{i}") for i in range(1, 4)],
                    workers=1,
                    worker_fn=worker,
                    handlers={MsgRows: insert_items},
                    schema=ITEMS_SCHEMA,
                    lock_timeout=1.0,
                    progress=False,
                )
        finally:
            other.send("release")
        elapsed = time.monotonic() - t0
    assert elapsed < 1.0 + 4, f"gave up after {elapsed:.1f}s"
    text = str(info.value).lower()
    assert "lock" in text, text
    assert re.search(r"\b1(\.0+)?\s*(s\b|sec)", text), text
