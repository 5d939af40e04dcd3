"""Issue 12, section 3: the writer survives bad messages and bad handlers.

Most tests run three tasks on one worker: tasks 1 and 3 send rows, task 2 misbehaves.
The promise: task 2 fails with a clear text, tasks 1 and 3 are `done` with all their rows,
and the run ends normally (no WriterError), recorded `error`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from pipeloom import (
    SENTINEL,
    ConfigError,
    MsgTaskFinished,
    MsgTaskProgress,
    MsgTaskStarted,
    PipelineError,
    TaskDef,
    run_pipeline,
)

from .helpers import ITEMS_SCHEMA, MsgRows, insert_items, rows, statuses

NOW = "2026-01-01T00:00:00+00:00"


@dataclass(frozen=True)
class MsgEvil:
    """A domain message whose handler misbehaves."""

    task_id: int


def _rows_of(task_id: int) -> MsgRows:
    return MsgRows(task_id, [(task_id * 1000 + i, f"t{task_id}") for i in range(3)])


def _run_with_bad_task_2(db_path, bad_messages, **kw):
    """Tasks 1 and 3 send rows; task 2 sends rows and then `bad_messages`."""

    def worker(task, q):
        q.put(_rows_of(task.task_id))
        if task.task_id == 2:
            for m in bad_messages:
                q.put(m)

    handlers = {MsgRows: insert_items, **kw.pop("handlers", {})}
    return run_pipeline(
        db_path,
        [TaskDef(i, f"t{i}") for i in (1, 2, 3)],
        workers=1,
        worker_fn=worker,
        handlers=handlers,
        schema=ITEMS_SCHEMA,
        progress=False,
        **kw,
    )


def _assert_only_task_2_failed(db_path, summary) -> str:
    """Tasks 1 and 3 done with every row; returns task 2's message and error text."""
    assert statuses(db_path) == {1: "done", 2: "error", 3: "done"}
    got = {k for (k,) in rows(db_path, "SELECT k FROM items WHERE k < 2000 OR k >= 3000")}
    assert got == {1000, 1001, 1002, 3000, 3001, 3002}
    assert summary.status == "error"
    assert rows(db_path, "SELECT status FROM pipeline_runs") == [("error",)]
    return " ".join(
        t or "" for t in rows(db_path, "SELECT message, error FROM task_runs WHERE id=2")[0]
    )


def _transaction_sql(sql):
    def handler(conn, msg):
        conn.execute("INSERT INTO items(k, v) VALUES (2999, 'evil')")
        conn.execute(sql)

    return handler


def _raises(exc):
    def handler(conn, msg):
        conn.execute("INSERT INTO items(k, v) VALUES (2999, 'evil')")
        raise exc

    return handler


def _closes(conn, msg):
    conn.execute("INSERT INTO items(k, v) VALUES (2999, 'evil')")
    conn.close()


BAD_HANDLERS = {
    "COMMIT": _transaction_sql("COMMIT"),
    "ROLLBACK": _transaction_sql("ROLLBACK"),
    "RELEASE": _transaction_sql("RELEASE pipeloom_msg"),  # the writer's savepoint, by name
    "SystemExit": _raises(SystemExit(1)),
    "KeyboardInterrupt": _raises(KeyboardInterrupt()),
    "conn.close": _closes,
}


@pytest.mark.parametrize("how", list(BAD_HANDLERS))
def test_a_misbehaving_handler_fails_only_its_own_message_and_task(db_path, how):
    summary = _run_with_bad_task_2(db_path, [MsgEvil(2)], handlers={MsgEvil: BAD_HANDLERS[how]})
    _assert_only_task_2_failed(db_path, summary)
    assert rows(db_path, "SELECT count(*) FROM items WHERE k = 2999") == [(0,)], (
        "the bad message landed in part"
    )


def test_a_lone_surrogate_in_progress_text_is_stored_escaped_and_breaks_nothing(db_path):
    summary = _run_with_bad_task_2(db_path, [MsgTaskProgress(2, 1, 2, "half \ud800 way")])
    assert summary.ok and statuses(db_path) == {1: "done", 2: "done", 3: "done"}
    assert len(rows(db_path, "SELECT k FROM items")) == 9
    assert rows(db_path, "SELECT message FROM task_runs WHERE id=2") == [("half \\ud800 way",)]


def test_a_message_for_a_task_not_in_the_run_is_an_error_naming_it(db_path):
    summary = _run_with_bad_task_2(
        db_path, [MsgTaskStarted(999, "ghost", NOW), MsgTaskProgress(999, 1, 2, "boo")]
    )
    assert summary.status != "done" and not summary.ok
    assert any("999" in e.message for e in summary.errors), summary.errors
    assert rows(db_path, "SELECT count(*) FROM task_runs WHERE status IN ('running','queued')") == [
        (0,)
    ]
    assert rows(db_path, "SELECT status FROM pipeline_runs") != [("done",)]


def test_a_finished_message_with_an_unknown_status_is_an_error(db_path):
    summary = _run_with_bad_task_2(db_path, [MsgTaskFinished(2, "bogus", NOW)])
    text = _assert_only_task_2_failed(db_path, summary)
    assert "bogus" in text, text


def _wait_until_task_closed(db_path, task_id: int) -> None:
    """Poll the file (bounded) until the writer has committed `task_id` as done or error."""
    deadline = time.monotonic() + 5
    sql = "SELECT status FROM task_runs WHERE id=?"
    while time.monotonic() < deadline:
        if rows(db_path, sql, (task_id,)) in ([("done",)], [("error",)]):
            return
        time.sleep(0.01)


def test_sentinel_put_by_a_worker_does_not_stop_the_writer_early(db_path):
    def worker(task, q):
        if task.task_id == 1:
            q.put(SENTINEL)
        else:
            _wait_until_task_closed(db_path, 1)  # so these rows come in a later batch
        q.put(_rows_of(task.task_id))

    summary = run_pipeline(
        db_path,
        [TaskDef(i, f"t{i}") for i in (1, 2, 3)],
        workers=1,
        worker_fn=worker,
        handlers={MsgRows: insert_items},
        schema=ITEMS_SCHEMA,
        progress=False,
    )
    assert rows(db_path, "SELECT count(*) FROM items") == [(9,)]
    st = statuses(db_path)
    assert st[2] == "done" and st[3] == "done" and st[1] in {"done", "error"}, st
    assert any("sentinel" in e.message.lower() for e in summary.errors), summary.errors
    assert summary.status != "done"
    assert rows(db_path, "SELECT status FROM pipeline_runs") != [("done",)]


def test_put_after_the_run_ended_raises_a_clear_error(db_path):
    kept = []

    def worker(task, q):
        kept.append(q)

    run_pipeline(db_path, [TaskDef(1, "t1")], worker_fn=worker, progress=False)
    with pytest.raises(PipelineError, match=r"(?i)ended|finished|closed|over"):
        kept[0].put(MsgTaskProgress(1, 1, 1, "too late"))


def make_twin_class():
    """A factory: each call makes a new class with the same module and qualified name."""

    @dataclass(frozen=True)
    class MsgTwin:
        task_id: int
        k: int

    return MsgTwin


def _insert_as(tag):
    def handler(conn, msg):
        conn.execute("INSERT INTO items(k, v) VALUES (?, ?)", (msg.k, tag))

    return handler


def test_two_classes_with_the_same_name_each_reach_their_own_handler(db_path):
    a, b = make_twin_class(), make_twin_class()
    assert a is not b and (a.__module__, a.__qualname__) == (b.__module__, b.__qualname__)

    def worker(task, q):
        q.put(a(task.task_id, 1))
        q.put(b(task.task_id, 2))

    summary = run_pipeline(
        db_path,
        [TaskDef(1, "t1")],
        worker_fn=worker,
        handlers={a: _insert_as("a"), b: _insert_as("b")},
        schema=ITEMS_SCHEMA,
        progress=False,
    )
    assert rows(db_path, "SELECT k, v FROM items ORDER BY k") == [(1, "a"), (2, "b")]
    assert summary.ok


def test_schema_with_a_syntax_error_applies_nothing_and_names_the_statement(db_path):
    called = []
    schema = "CREATE TABLE a(x);\nCREATE TABLE b(y);\nCREATE TABLEE c(z);\n"
    with pytest.raises(ConfigError) as info:
        run_pipeline(
            db_path,
            [TaskDef(1, "t1")],
            worker_fn=lambda task, q: called.append(task),
            schema=schema,
            progress=False,
        )
    assert "CREATE TABLEE c(z)" in str(info.value)
    tables = {n for (n,) in rows(db_path, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert not tables & {"a", "b"}, tables
    assert not called


@pytest.mark.parametrize(
    ("task", "named"),
    [
        (TaskDef(2**64, "big"), str(2**64)),
        (TaskDef(-(2**63) - 1, "small"), str(-(2**63) - 1)),
        (TaskDef("bad-name", "x\ud800"), "bad-name"),
        (TaskDef("id\ud800", "bad-id"), "bad-id"),
    ],
    ids=["id>64bit", "id<64bit", "surrogate-name", "surrogate-id"],
)
def test_a_task_that_cannot_be_stored_is_a_config_error_naming_it_before_any_work(
    db_path, task, named
):
    called = []
    with pytest.raises(ConfigError) as info:
        run_pipeline(
            db_path,
            [TaskDef(1, "fine"), task],
            worker_fn=lambda t, q: called.append(t),
            progress=False,
        )
    assert named in str(info.value)
    assert "cannot open database" not in str(info.value)
    assert not called
    if db_path.exists():
        assert rows(db_path, "SELECT count(*) FROM pipeline_runs WHERE status='running'") == [(0,)]
