"""Other writers on the same file are normal: the writer waits its turn, or says why not."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pipeloom import SQLiteWriter, WriterError
from pipeloom.core.control import WRITER_STOP

from .helpers import rows

ROOT = Path(__file__).resolve().parents[1]

HOLD_LOCK = textwrap.dedent("""
    import sqlite3, sys, time
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("CREATE TABLE IF NOT EXISTS other(x)")
    conn.execute("INSERT INTO other VALUES (1)")
    open(sys.argv[2], "w").close()
    time.sleep(float(sys.argv[3]))
    conn.execute("COMMIT")
""")


def hold_write_lock(db: Path, seconds: float, tmp_path: Path) -> subprocess.Popen:
    """Another process that holds BEGIN IMMEDIATE on `db` for `seconds`."""
    flag = tmp_path / "locked"
    proc = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(db), str(flag), str(seconds)])
    deadline = time.monotonic() + 20
    while not flag.exists():
        assert proc.poll() is None and time.monotonic() < deadline, "lock holder did not start"
        time.sleep(0.01)
    return proc


def start_writer(db: Path, **kw) -> tuple[SQLiteWriter, queue.Queue]:
    q = queue.Queue()
    w = SQLiteWriter(db, q, tasks=[(1, "one")], **kw)
    w.start()
    return w, q


def test_a_writer_that_cannot_get_the_lock_says_which_lock_and_how_long(db_path, tmp_path):
    holder = hold_write_lock(db_path, 5, tmp_path)
    try:
        t0 = time.monotonic()
        w, _ = start_writer(db_path, lock_timeout=0.5)
        assert w.closed.wait(20)
        w.join(5)
        assert time.monotonic() - t0 < 4
    finally:
        holder.kill()
        holder.wait(10)
    assert isinstance(w.error, WriterError)
    text = str(w.error)
    assert "write lock" in text and str(db_path) in text and "0.5s" in text


def test_the_writer_waits_for_another_writer_within_its_lock_timeout(db_path, tmp_path):
    holder = hold_write_lock(db_path, 1.0, tmp_path)
    try:
        w, q = start_writer(db_path, lock_timeout=15)
        q.put(WRITER_STOP)
        assert w.closed.wait(30)
        w.join(5)
    finally:
        holder.wait(20)
    assert w.error is None and holder.returncode == 0
    assert rows(db_path, "SELECT count(*) FROM other") == [(1,)]
    assert rows(db_path, "SELECT status FROM pipeline_runs") == [("error",)]


PIPELINE = textwrap.dedent("""
    import sys
    from dataclasses import dataclass
    from pipeloom import TaskDef, run_pipeline

    @dataclass(frozen=True)
    class Row:
        task_id: int
        who: str

    def insert(conn, msg):
        # read, then write: under a deferred BEGIN another writer's commit in between
        # makes the write fail at once ("database is locked")
        (n,) = conn.execute("SELECT count(*) FROM shared").fetchone()
        conn.execute("INSERT INTO shared(who, task, seen) VALUES (?, ?, ?)",
                     (msg.who, msg.task_id, n))

    def worker(task, q):
        for _ in range(20):
            q.put(Row(task.task_id, sys.argv[2]))

    summary = run_pipeline(
        sys.argv[1], [TaskDef(i, f"t{i}") for i in range(100)], workers=4, worker_fn=worker,
        handlers={Row: insert}, progress=False, name=sys.argv[2], max_latency=0.002,
        batch_size=20,
        schema="CREATE TABLE IF NOT EXISTS shared(who TEXT, task INTEGER, seen INTEGER)")
    print(summary.status, summary.errors[:1])
    sys.exit(0 if summary.ok else 1)
""")


@pytest.mark.timeout(90)
def test_two_processes_running_pipelines_into_one_file_both_finish(db_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PIPELINE, str(db_path), who],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for who in ("a", "b")
    ]
    outs = [p.communicate(timeout=80)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert rows(db_path, "SELECT who, count(*) FROM shared GROUP BY who") == [
        ("a", 2000),
        ("b", 2000),
    ]
    assert rows(db_path, "SELECT status FROM pipeline_runs") == [("done",), ("done",)]
