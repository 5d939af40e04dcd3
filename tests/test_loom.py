"""The notebook session object, used cell by cell."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass

import pandas as pd
import pytest

from pipeloom import MsgTaskProgress, NoSuchTable, TaskDef
from pipeloom_nb import Loom, RunResult

from .helpers import run_cell

USERS = "CREATE TABLE IF NOT EXISTS users(key TEXT PRIMARY KEY, name TEXT, active INTEGER)"


def define_msg():
    """Stands for a notebook cell that defines the message class (run again, a new class)."""

    @dataclass(frozen=True)
    class MsgUpsertUsersBatch:
        rows: list

    return MsgUpsertUsersBatch


def test_run_with_inline_handler_and_schema(loom):
    Msg = define_msg()
    loom.schema(USERS)
    loom.schema(USERS)  # the cell ran twice

    @loom.handler(Msg)
    def upsert(conn, msg):
        conn.executemany(
            "INSERT INTO users VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE "
            "SET name=excluded.name, active=excluded.active",
            msg.rows,
        )

    def worker(task, q):
        q.put(Msg([(f"k{task.task_id}", task.name, 1)]))
        q.put(MsgTaskProgress(task.task_id, 1, 1, "loaded"))

    result = loom.run([TaskDef(i, f"user {i}") for i in range(5)], worker)
    assert isinstance(result, RunResult) and result.ok
    assert len(loom.schemas) == 1
    assert sorted(result.tables) == ["users"]
    assert len(result.tables["users"]) == 5
    df = result.task_runs
    assert len(df) == 5 and set(df.status) == {"done"}
    assert str(df.started_at.dtype).startswith("datetime64") and df.progress.dtype == float
    view = result._repr_html_()  # no display showed it: the whole view
    assert "run 1 · " in view and "done: 5 tasks" in view and "pipeloom-bar" in view


def test_rerun_handler_cell_replaces_and_redefined_class_still_matches(loom):
    calls = []
    old_cls = run_cell("MsgUsers")

    @loom.handler(old_cls)
    def first(conn, msg):
        calls.append("first")

    new_cls = run_cell("MsgUsers")  # the message cell was run again
    loom.run([TaskDef(1, "a")], lambda t, q: q.put(new_cls([])))
    assert calls == ["first"]

    @loom.handler(new_cls)  # the handler cell was run again
    def second(conn, msg):
        calls.append("second")

    loom.run([TaskDef(1, "a"), TaskDef(2, "b")], lambda t, q: q.put(new_cls([])))
    assert calls == ["first", "second", "second"]
    assert len(loom.handlers) == 1


def test_sql_tables_runs_and_clear_errors(loom):
    loom.run([TaskDef(1, "a")], lambda t, q: None)
    assert loom.sql("SELECT count(*) AS n FROM task_runs").n[0] == 1
    assert loom.sql("SELECT id FROM task_runs WHERE name = ?", ("a",)).id.tolist() == [1]
    assert {"task_runs", "pipeline_runs"} <= set(loom.table_names())
    assert "task_runs" not in loom.tables
    runs = loom.runs()
    assert runs.status.tolist() == ["done"]
    assert str(runs.started_at.dtype).startswith("datetime64")
    with pytest.raises(
        NoSuchTable, match="no table 'nope'; tables: pipeline_runs, task_attempts, task_runs"
    ):
        loom.table("nope")
    with pytest.raises(KeyError, match="no table 'nope'"):
        loom.tables["nope"]
    with pytest.raises(Exception, match=r"readonly|read-only|attempt to write"):
        loom.sql("DELETE FROM task_runs")


def test_map_persists_dicts_lists_and_frames_with_odd_names(loom):
    def fetch(item):
        if item == 0:
            return {"id": 0, "weird name": "x"}
        if item == 1:
            return [{"id": 1, "weird name": "y"}, {"id": 11, 'extra "col"': 5}]
        if item == 2:
            return pd.DataFrame({"id": [2], "weird name": ["z"]})
        raise ValueError("item 3 is bad")

    result = loom.map(fetch, range(4), table='my "table"')
    assert result.counts == {"done": 3, "error": 1}
    df = loom.table('my "table"')
    assert sorted(df.id) == [0, 1, 2, 11]
    assert list(df.columns) == ["id", "weird name", 'extra "col"']
    assert "ValueError: item 3 is bad" in result.errors.message[0]


def test_start_returns_at_once_and_can_be_queried_and_cancelled(loom):
    gate = threading.Event()

    def worker(task, q):
        gate.wait(5)

    handle = loom.start([TaskDef(i, f"t{i}") for i in range(30)], worker)
    assert not handle.done()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            if loom.sql("SELECT count(*) AS n FROM task_runs").n[0] == 30:
                break
        except Exception:
            time.sleep(0.02)
    handle.cancel()
    gate.set()
    result = handle.result(timeout=10)
    assert result.status == "cancelled"
    assert result.counts["cancelled"] >= 20


def test_start_reads_a_generator_as_tasks_start_not_up_front(loom):
    gate, read = threading.Event(), []

    def tasks():
        for i in range(10_000):
            read.append(i)
            yield TaskDef(i, f"t{i}")

    def worker(task, q):
        gate.wait(10)

    handle = loom.start(tasks(), worker)
    deadline = time.monotonic() + 5
    while not read and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    ahead = len(read)
    gate.set()
    result = handle.result(timeout=60)
    assert 0 < ahead <= 3 * 64 + 64  # a chunk per worker and one more, not 10,000
    assert result.status == "done" and result.counts["done"] == 10_000


def test_await_a_handle(loom):
    async def main():
        handle = loom.start([TaskDef(i, f"t{i}") for i in range(4)], lambda t, q: None)
        return await handle

    result = asyncio.run(main())
    assert result.ok and result.counts == {"done": 4}


def test_async_worker_in_loom(loom):
    async def worker(task, q):
        await asyncio.sleep(0.01)
        q.put(MsgTaskProgress(task.task_id, 1, 1, "ok"))

    result = loom.run([TaskDef(i, f"t{i}") for i in range(10)], worker)
    assert result.counts == {"done": 10}


def test_without_a_widget_front_end_progress_falls_back_to_text(db_path, capsys):
    from IPython.testing.globalipapp import start_ipython

    from pipeloom.progress import LogDisplay, choose_display
    from pipeloom_nb import WidgetDisplay
    from pipeloom_nb.where import in_kernel

    start_ipython()  # plain IPython: a shell, but no kernel and so no widget front end
    assert not in_kernel()
    assert isinstance(choose_display("auto"), LogDisplay)
    assert isinstance(choose_display("widgets"), WidgetDisplay)
    result = Loom(db_path, workers=2).run([TaskDef(1, "a")], lambda t, q: None)
    assert result.ok
