"""Ctrl-C, a failing writer, kill -9 and concurrent readers: defined outcomes, never a hang."""

from __future__ import annotations

import _thread
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from pipeloom import MsgTaskProgress, TaskDef, WriterError, run_pipeline

from .helpers import ITEMS_SCHEMA, MsgRows, insert_items, rows, statuses


def test_ctrl_c_cancels_unstarted_tasks_closes_db_and_propagates(db_path):
    started = threading.Event()

    def worker(task, q):
        if task.task_id == 3:
            started.set()
            _thread.interrupt_main()
        time.sleep(0.05)

    with pytest.raises(KeyboardInterrupt):
        run_pipeline(
            db_path,
            [TaskDef(i, f"t{i}") for i in range(1, 101)],
            workers=2,
            worker_fn=worker,
            progress=False,
        )
    st = statuses(db_path)
    assert set(st.values()) <= {"done", "cancelled"}
    assert list(st.values()).count("cancelled") >= 90
    assert rows(db_path, "SELECT status FROM pipeline_runs") == [("cancelled",)]
    conn = sqlite3.connect(db_path, timeout=0)
    conn.execute("INSERT INTO pipeline_runs(name, status, started_at) VALUES ('x','done','t')")
    conn.commit()
    conn.close()


def test_ctrl_c_abandons_stuck_tasks_after_the_grace_period(db_path):
    release = threading.Event()

    def worker(task, q):
        if task.task_id == 1:
            _thread.interrupt_main()
            release.wait(10)

    try:
        with pytest.raises(KeyboardInterrupt):
            run_pipeline(
                db_path,
                [TaskDef(i, f"t{i}") for i in range(1, 5)],
                workers=1,
                worker_fn=worker,
                progress=False,
                cancel_grace=0.2,
            )
        assert statuses(db_path) == {1: "cancelled", 2: "cancelled", 3: "cancelled", 4: "cancelled"}
    finally:
        release.set()


SIGINT_SCRIPT = textwrap.dedent("""
    import sys, time
    from pipeloom import TaskDef, run_pipeline
    def worker(task, q):
        print("started", task.task_id, flush=True)
        time.sleep(0.2)
    run_pipeline(sys.argv[1], [TaskDef(i, f"t{i}") for i in range(200)], workers=2,
                 worker_fn=worker, progress=False)
""")


def test_sigint_to_a_script_exits_with_keyboardinterrupt(db_path):
    proc = subprocess.Popen(
        [sys.executable, "-c", SIGINT_SCRIPT, str(db_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().startswith("started")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode != 0 and "KeyboardInterrupt" in err
    counts = dict(rows(db_path, "SELECT status, count(*) FROM task_runs GROUP BY status"))
    assert counts.get("cancelled", 0) >= 190 and "running" not in counts
    assert "queued" not in counts


def test_a_failing_writer_stops_the_run_with_a_clear_error(db_path):
    def tiny_db(conn):
        conn.execute(ITEMS_SCHEMA)
        conn.execute("PRAGMA max_page_count=40")

    def worker(task, q):
        for i in range(50):
            q.put(MsgRows(task.task_id, [(task.task_id * 10_000 + i, "x" * 2000)]))
            q.put(MsgTaskProgress(task.task_id, i, 50, "x" * 500))

    t0 = time.monotonic()
    with pytest.raises(WriterError, match="full"):
        run_pipeline(
            db_path,
            [TaskDef(i, f"t{i}") for i in range(200)],
            workers=4,
            worker_fn=worker,
            handlers={MsgRows: insert_items},
            schema=tiny_db,
            queue_size=8,
            progress=False,
        )
    assert time.monotonic() - t0 < 20
    assert rows(db_path, "PRAGMA integrity_check") == [("ok",)]


KILL_SCRIPT = textwrap.dedent("""
    import sys
    from dataclasses import dataclass
    from pipeloom import TaskDef, run_pipeline

    @dataclass(frozen=True)
    class MsgPair:
        n: int

    def both(conn, msg):
        conn.execute("INSERT INTO a(n) VALUES (?)", (msg.n,))
        conn.executemany("INSERT INTO b(n, part) VALUES (?, ?)", [(msg.n, p) for p in range(5)])

    def worker(task, q):
        for i in range(100_000):
            q.put(MsgPair(task.task_id * 1_000_000 + i))

    run_pipeline(sys.argv[1], [TaskDef(i, f"t{i}") for i in range(100)], workers=2,
                 worker_fn=worker, handlers={MsgPair: both}, progress=False,
                 schema=["CREATE TABLE a(n INTEGER PRIMARY KEY)",
                         "CREATE TABLE b(n INTEGER, part INTEGER)"])
""")


def test_kill_9_keeps_every_committed_message_whole(db_path):
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(db_path)])
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(0.2)
            try:
                if rows(db_path, "SELECT count(*) FROM a")[0][0] > 20_000:
                    break
            except sqlite3.OperationalError:
                continue
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
    assert rows(db_path, "PRAGMA integrity_check") == [("ok",)]
    n_a = rows(db_path, "SELECT count(*) FROM a")[0][0]
    assert n_a > 20_000
    assert rows(db_path, "SELECT count(*) FROM b")[0][0] == 5 * n_a
    per_message = "SELECT count(*), sum(c != 5) FROM (SELECT n, count(*) c FROM b GROUP BY n)"
    assert rows(db_path, per_message) == [(n_a, 0)]
    assert rows(db_path, "SELECT count(*) FROM b WHERE n NOT IN (SELECT n FROM a)") == [(0,)]


def test_readers_are_never_locked_out_while_a_run_writes(db_path):
    def worker(task, q):
        for i in range(20):
            q.put(MsgRows(task.task_id, [(task.task_id * 100 + i, "v")]))
            time.sleep(0.001)

    errors: list[Exception] = []
    reads = 0
    done = threading.Event()

    def reader():
        nonlocal reads
        while not done.is_set():
            try:
                conn = sqlite3.connect(db_path)  # 5 s busy timeout, as pandas users have
                conn.execute("SELECT count(*) FROM items").fetchone()
                conn.execute("SELECT status, count(*) FROM task_runs GROUP BY status").fetchall()
                conn.close()
                reads += 1
            except sqlite3.OperationalError as exc:
                if "no such table" not in str(exc):
                    errors.append(exc)

    run_pipeline(db_path, [], schema=ITEMS_SCHEMA, progress=False)
    readers = [threading.Thread(target=reader) for _ in range(2)]
    for r in readers:
        r.start()
    try:
        summary = run_pipeline(
            db_path,
            [TaskDef(i, f"t{i}") for i in range(200)],
            workers=4,
            worker_fn=worker,
            handlers={MsgRows: insert_items},
            schema=ITEMS_SCHEMA,
            progress=False,
        )
    finally:
        done.set()
        for r in readers:
            r.join()
    assert summary.ok
    assert errors == []
    assert reads > 10
