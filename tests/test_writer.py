"""The writer on its own: started, fed messages and SENTINEL, joined."""

from __future__ import annotations

import queue
import sqlite3
from dataclasses import dataclass

import pytest

from pipeloom import (
    SENTINEL,
    HandlerRegistry,
    MessageQueue,
    MsgTaskFinished,
    MsgTaskProgress,
    MsgTaskStarted,
    SQLiteWriter,
)

from .helpers import ITEMS_SCHEMA, MsgRows, insert_items, rows, run_cell


def run_writer(db, messages, q=None, **kw):
    q = q if q is not None else queue.Queue()
    w = SQLiteWriter(db, q, **kw)
    w.start()
    for m in messages:
        q.put(m)
    q.put(SENTINEL)
    w.join(10)
    assert not w.is_alive()
    return w


@pytest.mark.parametrize("make_q", [queue.Queue, MessageQueue])
def test_standalone_writer_records_task_lifecycle(db_path, make_q):
    w = run_writer(
        db_path,
        [
            MsgTaskStarted(7, "seven", "2026-01-01T00:00:00+00:00"),
            MsgTaskProgress(7, 1, 4, "a quarter"),
            MsgTaskProgress(7, 3, 4, "three quarters"),
            MsgTaskFinished(7, "done", "2026-01-01T00:00:01+00:00", result=42, message="ok"),
        ],
        q=make_q(),
    )
    assert w.error is None
    got = rows(db_path, "SELECT id, name, status, progress, message, result FROM task_runs")
    assert got == [(7, "seven", "done", 1.0, "ok", "42")]
    assert rows(db_path, "SELECT status, tasks, done FROM pipeline_runs") == [("done", 1, 1)]


def test_progress_is_coalesced_to_the_latest_value(db_path):
    msgs = [MsgTaskStarted(1, "one", "t0")]
    msgs += [MsgTaskProgress(1, i, 1000, f"step {i}") for i in range(1, 1000)]
    run_writer(db_path, msgs)
    assert rows(db_path, "SELECT status, progress, message FROM task_runs") == [
        ("error", 0.999, "the run ended before this task finished")
    ]


def test_handler_is_applied_and_its_commit_is_deferred(db_path):
    commits = []

    def handler(conn, msg):
        conn.executemany("INSERT INTO items(k, v) VALUES (?, ?)", msg.rows)
        conn.commit()
        commits.append(conn.in_transaction)

    w = run_writer(
        db_path,
        [MsgRows(1, [(i, "x")]) for i in range(100)],
        handlers={MsgRows: handler},
        schema=ITEMS_SCHEMA,
    )
    assert w.error is None
    assert rows(db_path, "SELECT count(*) FROM items") == [(100,)]
    assert all(commits), "a handler's commit() must not end the writer's batch"


def test_a_failing_handler_loses_only_its_own_message(db_path):
    def half_then_fail(conn, msg):
        conn.execute("INSERT INTO items(k, v) VALUES (?, 'first')", (msg.rows[0][0],))
        if msg.task_id == 2:
            raise ValueError("bad row")
        conn.execute("INSERT INTO items(k, v) VALUES (?, 'second')", (msg.rows[0][0] + 1000,))

    msgs = [MsgRows(i, [(i, "x")]) for i in range(1, 4)]
    w = run_writer(db_path, msgs, handlers={MsgRows: half_then_fail}, schema=ITEMS_SCHEMA)
    assert rows(db_path, "SELECT k FROM items ORDER BY k") == [(1,), (3,), (1001,), (1003,)]
    status = dict(rows(db_path, "SELECT id, status FROM task_runs"))
    assert status[2] == "error"
    assert "ValueError: bad row" in w.stats.errors[0].message


def test_a_message_type_without_handler_is_reported_by_name(db_path):
    @dataclass(frozen=True)
    class Stray:
        value: int

    w = run_writer(db_path, [Stray(1)])
    assert len(w.stats.errors) == 1
    assert "no handler for message type" in w.stats.errors[0].message
    assert "Stray" in w.stats.errors[0].message
    assert rows(db_path, "SELECT status FROM pipeline_runs") == [("error",)]
    assert set(w.stats.counts) <= {"queued", "running", "done", "error", "cancelled", "skipped"}


def test_a_malformed_builtin_message_is_a_task_error_not_a_dead_writer(db_path):
    w = run_writer(db_path, [MsgTaskProgress(1, 1, "two"), MsgTaskProgress(2, 1, 2)])
    assert w.error is None
    status = dict(rows(db_path, "SELECT id, status FROM task_runs"))
    assert status[1] == "error" and "TypeError" in w.stats.errors[0].message


def test_put_nowait_raises_full_instead_of_waiting():
    q = MessageQueue(maxsize=2)
    q.put_nowait(1)
    q.put_nowait(2)
    with pytest.raises(queue.Full):
        q.put_nowait(3)


def test_rollback_in_a_handler_undoes_only_that_message(db_path):
    def maybe_undo(conn, msg):
        insert_items(conn, msg)
        if msg.task_id == 2:
            conn.rollback()

    run_writer(
        db_path,
        [MsgRows(i, [(i, "x")]) for i in (1, 2, 3)],
        handlers={MsgRows: maybe_undo},
        schema=ITEMS_SCHEMA,
    )
    assert rows(db_path, "SELECT k FROM items ORDER BY k") == [(1,), (3,)]


def test_subclass_override_point_replaces_the_isinstance_branch(db_path):
    class MyWriter(SQLiteWriter):
        def handle_message(self, item):
            if isinstance(item, MsgRows):
                self._conn.executemany("INSERT INTO items(k, v) VALUES (?, ?)", item.rows)
            else:
                super().handle_message(item)

    w = MyWriter(db_path, queue.Queue(), schema=ITEMS_SCHEMA)
    w.start()
    w.msg_q.put(MsgRows(1, [(1, "a"), (2, "b")]))
    w.msg_q.put(SENTINEL)
    w.join(10)
    assert rows(db_path, "SELECT v FROM items ORDER BY k") == [("a",), ("b",)]


def test_schema_forms_are_all_applied(db_path):
    def make_c(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE c(x)")

    run_writer(db_path, [], schema=["CREATE TABLE a(x)", "CREATE TABLE b(x)", make_c])
    names = {r[0] for r in rows(db_path, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"a", "b", "c", "task_runs", "pipeline_runs"} <= names


def test_store_task_status_off_leaves_no_task_runs(db_path):
    run_writer(db_path, [MsgTaskStarted(1, "one", "t")], store_task_status=False)
    names = {r[0] for r in rows(db_path, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert "task_runs" not in names


def test_redefined_message_class_finds_its_handler():
    reg = HandlerRegistry()
    old = run_cell("MsgRedefined")
    new = run_cell("MsgRedefined")  # the cell was run again
    assert old is not new
    reg.register(old, insert_items)
    assert reg.get(new) is insert_items
    reg.register(new, rows)
    assert reg.get(new) is rows and reg.get(old) is insert_items and len(reg) == 1


def test_a_slow_handler_does_not_freeze_the_display(db_path):
    """The stats the display reads stay readable while a handler runs."""
    import threading
    import time

    inside, release = threading.Event(), threading.Event()

    def slow(conn, msg):
        inside.set()
        release.wait(10)

    q = MessageQueue()
    w = SQLiteWriter(db_path, q, handlers={MsgRows: slow})
    w.start()
    q.put(MsgTaskStarted(1, "one", "t0"))
    q.put(MsgRows(1, [(1, "a")]))
    assert inside.wait(10)
    t0 = time.monotonic()
    snap = w.stats.snapshot()
    waited = time.monotonic() - t0
    release.set()
    q.put(SENTINEL)
    w.join(10)
    assert waited < 0.5
    assert snap.counts["running"] == 1
    assert w.error is None


def test_progress_after_a_tasks_end_leaves_its_record_as_it_ended(db_path):
    run_writer(
        db_path,
        [
            MsgTaskStarted(7, "seven", "t0"),
            MsgTaskFinished(7, "done", "t1", message="ok"),
            MsgTaskProgress(7, 1, 2, "late"),
        ],
    )
    got = rows(db_path, "SELECT status, progress, message FROM task_runs")
    assert got == [("done", 1.0, "ok")]
