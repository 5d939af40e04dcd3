"""Issue 12, section 1: Ctrl-C, Stop and kill -9 never lose handed-over data or report success.

Each test runs the pipeline in a child process and sends it real signals at a moment the
child announces on stdout.
"""

from __future__ import annotations

import re
import threading
import time

import pytest

from pipeloom import TaskDef, run_pipeline
from pipeloom_nb import Loom

from .children import Child, locker
from .helpers import ITEMS_SCHEMA, MsgRows, insert_items, rows, statuses

BACKLOG = """
    import sys, time
    from dataclasses import dataclass
    from pipeloom import TaskDef, run_pipeline

    N = int(sys.argv[2])

    @dataclass(frozen=True)
    class MsgItem:
        task_id: int
        k: int

    applied = 0

    def slow_insert(conn, msg):
        global applied
        conn.execute("INSERT INTO items(k) VALUES (?)", (msg.k,))
        time.sleep(0.001)
        applied += 1
        if applied % 200 == 0:
            print("applied", applied, flush=True)

    def worker(task, q):
        for k in range(N):
            q.put(MsgItem(task.task_id, k))
        print("handed", flush=True)

    run_pipeline(sys.argv[1], [TaskDef(1, "one")], workers=1, worker_fn=worker,
                 handlers={MsgItem: slow_insert}, progress=False,
                 schema="CREATE TABLE items(k INTEGER PRIMARY KEY)")
    print("returned", flush=True)
"""


@pytest.mark.parametrize("presses", [1, 3])
def test_ctrl_c_during_the_backlog_commits_every_handed_over_message(db_path, presses):
    n = 3000  # ~3 s of handler work queued behind the worker
    with Child(BACKLOG, db_path, n) as child:
        child.expect("handed")
        for _ in range(presses):
            # once the writer reports progress, the worker has long returned: the main
            # thread is waiting for the writer to apply the backlog
            child.expect("applied")
            child.interrupt()
        rc = child.finish(timeout=60)
        assert "returned" not in "".join(child.out), "Ctrl-C was swallowed"
        assert rc != 0 and "KeyboardInterrupt" in child.stderr, child.stderr
    assert rows(db_path, "SELECT count(*) FROM items") == [(n,)]
    assert rows(db_path, "SELECT status FROM pipeline_runs") == [("cancelled",)]


STARTUP = """
    import sqlite3, sys
    from pipeloom import TaskDef, run_pipeline
    from pipeloom.store.connection import WriterConnection

    def execute(self, sql, *args):
        if sql.startswith("BEGIN IMMEDIATE"):
            print("locking", flush=True)  # the writer now waits for the lock
        return sqlite3.Connection.execute(self, sql, *args)

    WriterConnection.execute = execute
    print("calling", flush=True)
    run_pipeline(sys.argv[1], [TaskDef(i, f"t{i}") for i in range(1, 6)], workers=1,
                 worker_fn=lambda task, q: None, progress=False, name="startup")
    print("returned", flush=True)
"""


def test_ctrl_c_while_the_writer_waits_for_the_lock_at_start_records_cancelled(db_path):
    run_pipeline(db_path, [], progress=False)  # the file exists, in WAL mode
    with locker(db_path) as other, Child(STARTUP, db_path) as child:
        other.send("lock")
        other.expect("locked")
        child.expect("calling")
        child.expect("locking")  # blocked on the lock (held until we release it)
        child.interrupt()
        time.sleep(0.2)
        other.send("release")
        other.expect("released")
        rc = child.finish(timeout=90)
        assert rc != 0 and "KeyboardInterrupt" in child.stderr, child.stderr
    got = rows(db_path, "SELECT run_id, status FROM pipeline_runs WHERE name='startup'")
    assert [status for _, status in got] == ["cancelled"]
    left = set(statuses(db_path, got[0][0]).values())
    assert not left & {"queued", "running"}, left


STOP_THEN_INTERRUPT = """
    import logging, sys, threading, time
    from pipeloom import TaskDef, run_pipeline

    logging.basicConfig(level=logging.WARNING)
    stop = threading.Event()

    def worker(task, q):
        stop.set()  # the Stop button
        print("stopping", flush=True)
        time.sleep(60)  # a task that does not look at q.cancelled

    run_pipeline(sys.argv[1], [TaskDef(1, "stuck"), TaskDef(2, "next")], workers=1,
                 worker_fn=worker, progress=False, cancel_event=stop, cancel_grace=20)
    print("returned", flush=True)
"""


def test_interrupt_during_the_stop_grace_period_propagates_and_reports_time_waited(db_path):
    with Child(STOP_THEN_INTERRUPT, db_path) as child:
        child.expect("stopping")
        time.sleep(0.5)  # the main thread is now in its 20 s grace wait
        child.interrupt()
        rc = child.finish(timeout=30)
        err = child.stderr
        assert "returned" not in "".join(child.out), "the interrupt was swallowed"
        assert rc != 0 and "KeyboardInterrupt" in err, err
    waited = re.findall(r"after ([0-9.]+) ?s", err)
    assert waited and all(float(w) < 10 for w in waited), err
    assert rows(db_path, "SELECT status FROM pipeline_runs") == [("cancelled",)]
    assert statuses(db_path) == {1: "cancelled", 2: "cancelled"}


def test_stop_with_a_slow_handler_backlog_returns_within_the_grace_period(db_path):
    stop = threading.Event()
    per_task = 200

    def worker(task, q):
        for k in range(per_task):
            q.put(MsgRows(task.task_id, [(task.task_id * 10_000 + k, "v")]))
        if task.task_id == 10:
            stop.set()  # ~2000 messages, several seconds of handler work, are queued

    def slow_insert(conn, msg):
        time.sleep(0.002)
        insert_items(conn, msg)

    t0 = time.monotonic()
    summary = run_pipeline(
        db_path,
        [TaskDef(i, f"t{i}") for i in range(1, 21)],
        workers=2,
        worker_fn=worker,
        handlers={MsgRows: slow_insert},
        schema=ITEMS_SCHEMA,
        cancel_event=stop,
        cancel_grace=0.5,
        progress=False,
    )
    elapsed = time.monotonic() - t0
    assert elapsed < 0.5 + 3, f"Stop took {elapsed:.1f}s"
    assert summary.status == "cancelled"
    landed = dict(rows(db_path, "SELECT k / 10000, count(*) FROM items GROUP BY k / 10000"))
    for task_id, status in statuses(db_path).items():
        assert status in {"done", "cancelled"}, (task_id, status)
        if status == "done":
            assert landed.get(task_id) == per_task, f"task {task_id} done with rows missing"


BLOCKED_RUN = """
    import sys
    from pipeloom import TaskDef, run_pipeline

    def worker(task, q):
        print("working", task.task_id, flush=True)
        sys.stdin.readline()

    run_pipeline(sys.argv[1], [TaskDef(i, f"t{i}") for i in range(1, 4)], workers=1,
                 worker_fn=worker, progress=False, name=sys.argv[2])
    print("returned", flush=True)
"""


def test_kill_9_orphan_is_marked_interrupted_by_the_next_run_but_a_live_run_is_not(db_path):
    run_pipeline(db_path, [], progress=False, name="first")
    orphan, live = Child(BLOCKED_RUN, db_path, "orphan"), Child(BLOCKED_RUN, db_path, "live")
    with orphan, live:
        orphan.expect("working 1")
        live.expect("working 1")
        orphan.kill9()

        run_pipeline(db_path, [TaskDef(1, "x")], progress=False, name="next")

        runs = Loom(db_path, progress=False).runs().set_index("name")
        assert runs.loc["orphan", "status"] == "interrupted"
        assert runs.loc["live", "status"] == "running"
        orphan_tasks = set(statuses(db_path, int(runs.loc["orphan", "run_id"])).values())
        assert not orphan_tasks & {"queued", "running"}, orphan_tasks

        for _ in range(3):
            live.send("go")
        assert live.finish(timeout=30) == 0, live.stderr
    assert rows(db_path, "SELECT status FROM pipeline_runs WHERE name='live'") == [("done",)]
