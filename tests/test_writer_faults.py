"""The writer survives bad messages and bad handlers: one bad message fails only its task."""

from __future__ import annotations

import contextlib
import queue
import sqlite3
import time
from dataclasses import dataclass

import pytest

from pipeloom import (
    SENTINEL,
    ConfigError,
    MsgTaskFinished,
    MsgTaskProgress,
    MsgTaskStarted,
    SQLiteWriter,
    TaskDef,
    run_pipeline,
)
from pipeloom.core.control import WRITER_STOP, TaskClosed

from .helpers import ITEMS_SCHEMA, MsgRows, insert_items, rows, statuses

T0, T1 = "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:01+00:00"
NS0, NS1 = 1_767_225_600 * 10**9, 1_767_225_601 * 10**9  # T0 and T1 as time.time_ns()
TASKS = [(1, "one"), (2, "two"), (3, "three")]


def run_writer(db, messages, *, stop=WRITER_STOP, **kw):
    """Queue `messages` and a stop marker, then run a writer over them; wait for `closed`."""
    kw.setdefault("tasks", TASKS)
    kw.setdefault("schema", ITEMS_SCHEMA)
    q = queue.Queue()
    for m in [*messages, stop]:
        q.put(m)
    w = SQLiteWriter(db, q, **kw)
    w.start()
    assert w.closed.wait(20), "the writer did not stop"
    w.join(5)
    return w


def closed(task_id):
    return TaskClosed(task_id, f"t{task_id}", NS0, NS1)


def three_tasks_one_bad(bad):
    """Tasks 1 and 3 write rows; task 2's message is `bad`; all three close."""
    return [MsgRows(1, [(1, "a")]), bad, MsgRows(3, [(3, "c")]), *map(closed, (1, 2, 3))]


@pytest.mark.parametrize(
    "bad",
    [
        MsgTaskProgress(2, 1, 2, "half \ud800"),
        MsgTaskStarted(2, "two \udcff", T0),
        MsgTaskFinished(2, "done", T1, result="r \ud800", message="m \udc80"),
        TaskClosed(2, "two", NS0, NS1, error="E: \ud800", traceback="tb \ud800"),
    ],
    ids=["progress", "started", "finished", "closed"],
)
def test_a_lone_surrogate_in_a_message_fails_nothing_else(db_path, bad):
    w = run_writer(db_path, three_tasks_one_bad(bad), handlers={MsgRows: insert_items})
    assert w.error is None
    assert rows(db_path, "SELECT k FROM items ORDER BY k") == [(1,), (3,)]
    assert statuses(db_path)[1] == statuses(db_path)[3] == "done"
    text = " ".join(str(v) for v in rows(db_path, "SELECT * FROM task_runs WHERE id = 2")[0])
    assert "\\ud800" in text or "\\udcff" in text or "\\udc80" in text


def _sql_handler(sql):
    def handler(conn, msg):
        insert_items(conn, msg)
        if msg.task_id == 2:
            conn.execute(sql)

    return handler


def _script_handler(conn, msg):
    insert_items(conn, msg)
    if msg.task_id == 2:
        conn.executescript("INSERT INTO items VALUES (99, 'z');")


def _swallowing_handler(conn, msg):
    insert_items(conn, msg)
    if msg.task_id == 2:
        with contextlib.suppress(sqlite3.DatabaseError):
            conn.execute("COMMIT")


@pytest.mark.parametrize(
    ("handler", "refused"),
    [
        (_sql_handler("COMMIT"), "COMMIT"),
        (_sql_handler("ROLLBACK"), "ROLLBACK"),
        (_sql_handler("RELEASE pipeloom_msg"), "RELEASE pipeloom_msg"),
        (_sql_handler("BEGIN"), "BEGIN"),
        (_script_handler, "COMMIT"),
        (_swallowing_handler, "COMMIT"),
    ],
    ids=["commit", "rollback", "release", "begin", "executescript", "swallowed"],
)
def test_a_handler_cannot_end_the_writers_transaction(db_path, handler, refused):
    w = run_writer(
        db_path, three_tasks_one_bad(MsgRows(2, [(2, "b")])), handlers={MsgRows: handler}
    )
    assert w.error is None
    assert rows(db_path, "SELECT k FROM items ORDER BY k") == [(1,), (3,)]
    assert statuses(db_path) == {1: "done", 2: "error", 3: "done"}
    message = rows(db_path, "SELECT message FROM task_runs WHERE id = 2")[0][0]
    assert f"may not run {refused}" in message


class Boom(BaseException):
    """Not an Exception."""


@pytest.mark.parametrize("exc", [SystemExit(3), KeyboardInterrupt(), Boom("x"), GeneratorExit()])
def test_a_handler_raising_a_base_exception_fails_only_its_message(db_path, exc):
    def handler(conn, msg):
        insert_items(conn, msg)
        if msg.task_id == 2:
            raise exc

    w = run_writer(
        db_path, three_tasks_one_bad(MsgRows(2, [(2, "b")])), handlers={MsgRows: handler}
    )
    assert w.error is None and w.status == "error"
    assert rows(db_path, "SELECT k FROM items ORDER BY k") == [(1,), (3,)]
    assert statuses(db_path) == {1: "done", 2: "error", 3: "done"}
    assert type(exc).__name__ in rows(db_path, "SELECT message FROM task_runs WHERE id=2")[0][0]


def test_a_handler_closing_the_connection_fails_only_its_message(db_path):
    def handler(conn, msg):
        insert_items(conn, msg)
        if msg.task_id == 2:
            conn.close()

    w = run_writer(
        db_path, three_tasks_one_bad(MsgRows(2, [(2, "b")])), handlers={MsgRows: handler}
    )
    assert w.error is None
    assert rows(db_path, "SELECT k FROM items ORDER BY k") == [(1,), (3,)]
    assert statuses(db_path) == {1: "done", 2: "error", 3: "done"}


def test_a_message_for_a_task_not_in_the_run_is_a_run_error_without_a_phantom(db_path):
    msgs = [MsgTaskStarted(99, "ghost", T0), MsgTaskProgress(99, 1, 2), *map(closed, (1, 2, 3))]
    w = run_writer(db_path, msgs)
    assert w.error is None
    assert statuses(db_path) == {1: "done", 2: "done", 3: "done"}
    assert rows(db_path, "SELECT status FROM pipeline_runs") == [("error",)]
    [err] = w.stats.errors
    assert err.task_id is None and "task id 99" in err.message
    assert "99" in rows(db_path, "SELECT error FROM pipeline_runs")[0][0]


def test_a_finished_message_with_an_unknown_status_makes_the_task_error(db_path):
    msgs = [MsgTaskFinished(2, "ok", T1), *map(closed, (1, 2, 3))]
    run_writer(db_path, msgs)
    assert statuses(db_path) == {1: "done", 2: "error", 3: "done"}
    message = rows(db_path, "SELECT message FROM task_runs WHERE id = 2")[0][0]
    assert "status 'ok'" in message


def test_a_workers_sentinel_does_not_stop_an_engine_writer(db_path):
    msgs = [closed(1), SENTINEL, closed(2), closed(3)]
    w = run_writer(db_path, msgs, sentinel_stops=False)
    assert statuses(db_path) == {1: "done", 2: "done", 3: "done"}
    assert w.status == "error" and "SENTINEL" in w.stats.errors[0].message


def test_sentinel_still_stops_a_standalone_writer(db_path):
    w = run_writer(db_path, [MsgTaskStarted(5, "five", T0)], stop=SENTINEL, tasks=None)
    assert w.error is None and statuses(db_path) == {5: "error"}


def _factory(tag):
    @dataclass(frozen=True)
    class Msg:
        task_id: int
        rows: list

    Msg.tag = tag
    return Msg


def test_same_named_classes_from_a_factory_each_reach_their_own_handler(db_path):
    a, b = _factory("a"), _factory("b")
    seen = []

    def handler_for(tag):
        return lambda conn, msg: seen.append((tag, type(msg).tag))

    msgs = [a(1, []), b(2, []), *map(closed, (1, 2, 3))]
    run_writer(db_path, msgs, handlers={a: handler_for("a"), b: handler_for("b")})
    assert seen == [("a", "a"), ("b", "b")]


def test_a_class_from_a_factory_without_a_handler_is_unhandled(db_path):
    a, b = _factory("a"), _factory("b")
    w = run_writer(db_path, [b(2, []), *map(closed, (1, 2, 3))], handlers={a: insert_items})
    assert statuses(db_path)[2] == "error"
    assert "no handler" in w.stats.errors[0].message


def test_a_schema_with_a_syntax_error_applies_nothing_and_names_the_statement(db_path):
    schema = "CREATE TABLE a(x);\nCREATE TABLE b(x;\nCREATE TABLE c(x);"
    with pytest.raises(ConfigError, match=r"statement 2 .*CREATE TABLE b\(x;"):
        run_pipeline(
            db_path, [TaskDef(1, "t")], worker_fn=lambda t, q: None, schema=schema, progress=False
        )
    names = {r[0] for r in rows(db_path, "SELECT name FROM sqlite_master")}
    assert "a" not in names and "pipeline_runs" not in names


def test_a_schema_script_keeps_triggers_and_strings_with_semicolons(db_path):
    schema = """
        BEGIN;
        CREATE TABLE log(v TEXT DEFAULT 'a;b');  -- a comment; with a semicolon
        CREATE TABLE items(k INTEGER PRIMARY KEY, v TEXT);
        CREATE TRIGGER t AFTER INSERT ON items BEGIN INSERT INTO log(v) VALUES (new.v); END;
        COMMIT;
    """
    run_writer(
        db_path,
        [MsgRows(1, [(1, "x")]), *map(closed, (1, 2, 3))],
        schema=schema,
        handlers={MsgRows: insert_items},
    )
    assert rows(db_path, "SELECT v FROM log") == [("x",)]


@pytest.mark.parametrize(
    ("task", "named"),
    [
        (TaskDef(2**63, "big"), "9223372036854775808"),
        (TaskDef("a\ud800", "x"), "'a\\ud800'"),
        (TaskDef(7, "name \udcff"), "task 7"),
    ],
    ids=["int-too-big", "surrogate-id", "surrogate-name"],
)
def test_a_task_that_cannot_be_stored_is_a_config_error_before_any_work(db_path, task, named):
    started = []
    with pytest.raises(ConfigError, match="cannot be stored") as info:
        run_pipeline(
            db_path,
            [TaskDef(1, "ok"), task],
            worker_fn=lambda t, q: started.append(t),
            progress=False,
        )
    assert named in str(info.value)
    assert started == []


def test_unfinished_tasks_make_the_run_error_and_cancel_run_cancels_them(db_path, tmp_path):
    w = run_writer(db_path, [closed(1), MsgTaskStarted(2, "two", T0)])
    assert statuses(db_path) == {1: "done", 2: "error", 3: "error"}
    assert w.status == "error"
    msg = rows(db_path, "SELECT message FROM task_runs WHERE id = 3")[0][0]
    assert msg == "the run ended before this task finished"

    other = tmp_path / "cancelled.db"
    q = queue.Queue()
    w = SQLiteWriter(other, q, tasks=TASKS)
    w.start()
    q.put(closed(1))
    w.cancel_run()
    q.put(WRITER_STOP)
    assert w.closed.wait(20)
    w.join(5)
    assert statuses(other) == {1: "done", 2: "cancelled", 3: "cancelled"}
    assert rows(other, "SELECT status FROM pipeline_runs") == [("cancelled",)]


def test_closed_is_set_after_the_connection_is_closed(db_path):
    w = run_writer(db_path, [])
    assert w.closed.is_set() and w._conn is None


@dataclass(frozen=True)
class Note:
    """A domain message without a task."""

    text: str


def test_giving_up_the_backlog_cancels_the_tasks_that_lost_rows(db_path):
    def slow(conn, msg):
        time.sleep(0.05)
        insert_items(conn, msg)

    q = queue.Queue()
    for i in range(200):
        q.put(MsgRows(1 + i % 2, [(i, "x")]))
    q.put(Note("lost"))
    for m in [*map(closed, (1, 2, 3)), WRITER_STOP]:
        q.put(m)
    w = SQLiteWriter(
        db_path,
        q,
        tasks=TASKS,
        schema=ITEMS_SCHEMA,
        handlers={MsgRows: slow, Note: lambda c, m: None},
    )
    t0 = time.monotonic()
    w.give_up_backlog_at(t0 + 0.3)
    w.start()
    assert w.closed.wait(20)
    w.join(5)
    assert time.monotonic() - t0 < 3, "the writer kept handling its backlog"
    assert statuses(db_path) == {1: "cancelled", 2: "cancelled", 3: "done"}
    msg = rows(db_path, "SELECT message FROM task_runs WHERE id = 1")[0][0]
    assert "not written" in msg
    assert any("1 message(s) without a task id" in e.message for e in w.stats.errors)
    assert w.status == "error"


def test_a_handlers_own_savepoints_still_work(db_path):
    def handler(conn, msg):
        conn.execute("SAVEPOINT mine")
        insert_items(conn, msg)
        if msg.task_id == 2:
            conn.execute("ROLLBACK TO mine")
        conn.execute("RELEASE mine")

    msgs = three_tasks_one_bad(MsgRows(2, [(2, "b")]))
    w = run_writer(db_path, msgs, handlers={MsgRows: handler})
    assert w.error is None and w.status == "done"
    assert rows(db_path, "SELECT k FROM items ORDER BY k") == [(1,), (3,)]
