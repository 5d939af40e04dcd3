"""run_pipeline: workers, handlers, errors and validation, on real files and threads."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from pipeloom import (
    ConfigError,
    MsgTaskFinished,
    MsgTaskProgress,
    MsgTaskStarted,
    TaskDef,
    run_pipeline,
)
from pipeloom.demo import demo_tasks

from .helpers import ITEMS_SCHEMA, MsgRows, insert_items, rows, statuses


def now() -> str:
    return datetime.now(UTC).isoformat()


def tasks(n: int) -> list[TaskDef]:
    return [TaskDef(i, f"t{i}") for i in range(1, n + 1)]


def test_returns_a_summary_and_records_every_task(db_path):
    summary = run_pipeline(db_path, demo_tasks(6, steps=3), workers=3, progress=False)
    assert summary.ok and summary.status == "done"
    assert summary.counts == {"done": 6} and summary.total == 6
    # 5 worker messages and 1 TaskClosed per task, 1 RunClosing
    assert summary.run_id == 1 and summary.messages == 6 * 6 + 1
    assert statuses(db_path) == {i: "done" for i in range(1, 7)}


def test_keyword_call_and_default_demo_worker(db_path):
    summary = run_pipeline(db_path=db_path, tasks=demo_tasks(2, steps=1), workers=1, progress=False)
    assert summary.done == 2


def test_a_worker_that_sends_nothing_is_still_recorded(db_path):
    summary = run_pipeline(
        db_path, tasks(5), workers=2, worker_fn=lambda t, q: None, progress=False
    )
    assert summary.done == 5
    got = rows(
        db_path,
        "SELECT count(*) FROM task_runs WHERE started_at IS NOT NULL "
        "AND finished_at IS NOT NULL AND status='done'",
    )
    assert got == [(5,)]


def test_a_worker_that_raises_is_an_error_with_traceback_and_others_finish(db_path):
    def worker(task, q):
        q.put(MsgTaskStarted(task.task_id, task.name, now()))
        if task.task_id == 3:
            raise KeyError("missing column")
        q.put(MsgTaskFinished(task.task_id, "done", now()))

    summary = run_pipeline(db_path, tasks(6), workers=3, worker_fn=worker, progress=False)
    assert summary.status == "error" and summary.counts == {"done": 5, "error": 1}
    (err,) = summary.errors
    assert err.task_id == 3 and err.message == "KeyError: 'missing column'"
    assert "Traceback" in err.traceback and "raise KeyError" in err.traceback
    ((status, message, tb),) = rows(
        db_path, "SELECT status, message, error FROM task_runs WHERE id=3"
    )
    assert status == "error" and "KeyError" in message and "raise KeyError" in tb


def test_handler_error_marks_its_task_and_a_later_done_does_not_hide_it(db_path):
    def handler(conn, msg):
        if msg.task_id == 2:
            raise ValueError("bad data")
        insert_items(conn, msg)

    def worker(task, q):
        q.put(MsgRows(task.task_id, [(task.task_id, "v")]))
        q.put(MsgTaskFinished(task.task_id, "done", now()))

    summary = run_pipeline(
        db_path,
        tasks(4),
        workers=2,
        worker_fn=worker,
        handlers={MsgRows: handler},
        schema=ITEMS_SCHEMA,
        progress=False,
    )
    assert statuses(db_path)[2] == "error"
    assert summary.status == "error" and summary.counts == {"done": 3, "error": 1}
    assert "ValueError: bad data" in summary.errors[0].message
    assert rows(db_path, "SELECT k FROM items ORDER BY k") == [(1,), (3,), (4,)]


def test_unhandled_domain_message_is_an_error_naming_the_type(db_path):
    @dataclass(frozen=True)
    class MsgOrphan:
        task_id: int

    summary = run_pipeline(
        db_path,
        tasks(2),
        workers=1,
        progress=False,
        worker_fn=lambda t, q: q.put(MsgOrphan(t.task_id)),
    )
    assert summary.counts == {"error": 2}
    assert all("MsgOrphan" in e.message for e in summary.errors)


def test_many_domain_rows_land_exactly_once(db_path):
    def worker(task, q):
        base = task.task_id * 1000
        for chunk in range(5):
            q.put(MsgRows(task.task_id, [(base + chunk * 100 + i, "v") for i in range(100)]))

    summary = run_pipeline(
        db_path,
        tasks(40),
        workers=4,
        worker_fn=worker,
        handlers={MsgRows: insert_items},
        schema=ITEMS_SCHEMA,
        queue_size=16,
        progress=False,
    )
    assert summary.ok
    assert rows(db_path, "SELECT count(*), count(DISTINCT k) FROM items") == [(20000, 20000)]


def test_async_workers_run_concurrently(db_path):
    running = 0
    peak = 0

    async def worker(task, q):
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.05)
        q.put(MsgTaskProgress(task.task_id, 1, 1, "slept"))
        running -= 1

    summary = run_pipeline(db_path, tasks(20), workers=10, worker_fn=worker, progress=False)
    assert summary.done == 20
    assert peak == 10


def test_async_worker_error_is_recorded(db_path):
    async def worker(task, q):
        if task.task_id == 1:
            raise RuntimeError("async boom")

    summary = run_pipeline(db_path, tasks(3), workers=2, worker_fn=worker, progress=False)
    assert summary.counts == {"done": 2, "error": 1}
    assert "RuntimeError: async boom" in summary.errors[0].message


@pytest.mark.parametrize("workers", [0, -1, 1.5, "4", True])
def test_bad_worker_counts_are_refused_before_work(db_path, workers):
    with pytest.raises(ConfigError, match=r"workers must be"):
        run_pipeline(db_path, tasks(2), workers=workers, progress=False)
    assert not db_path.exists()


def test_duplicate_task_ids_are_refused_naming_them(db_path):
    dup = [TaskDef(1, "a"), TaskDef(2, "b"), TaskDef(1, "c")]
    with pytest.raises(ConfigError, match=r"duplicate task ids: 1"):
        run_pipeline(db_path, dup, workers=2, progress=False)
    assert not db_path.exists()


def test_tasks_without_ids_are_refused(db_path):
    with pytest.raises(ConfigError, match="no task_id"):
        run_pipeline(db_path, [object()], workers=1, progress=False)


def test_dict_tasks_work(db_path):
    summary = run_pipeline(
        db_path,
        [{"task_id": "a", "name": "first"}, {"task_id": "b"}],
        worker_fn=lambda t, q: None,
        workers=1,
        progress=False,
    )
    assert summary.done == 2
    assert rows(db_path, "SELECT id, name FROM task_runs ORDER BY id") == [
        ("a", "first"),
        ("b", "b"),
    ]


def test_unusable_paths_are_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        run_pipeline(tmp_path / "nope" / "x.db", tasks(1), progress=False)
    with pytest.raises(ConfigError, match="is a directory"):
        run_pipeline(tmp_path, tasks(1), progress=False)
    bad = tmp_path / "not-a-db.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ConfigError, match=r"not-a-db\.db"):
        run_pipeline(bad, tasks(1), progress=False)


def test_empty_task_list_is_a_done_run(db_path):
    summary = run_pipeline(db_path, [], workers=2, progress=False)
    assert summary.ok and summary.total == 0


def test_cancel_event_records_unstarted_tasks_as_cancelled(db_path):
    cancel = threading.Event()
    started = threading.Event()

    def worker(task, q):
        started.set()
        cancel.wait(5)

    def cancel_soon():
        started.wait(5)
        cancel.set()

    threading.Thread(target=cancel_soon).start()
    summary = run_pipeline(
        db_path, tasks(50), workers=2, worker_fn=worker, cancel_event=cancel, progress=False
    )
    assert summary.status == "cancelled"
    # one or both workers took a task before the cancel; none took another after it
    assert summary.done in (1, 2) and summary.counts["cancelled"] == 50 - summary.done
    assert set(statuses(db_path).values()) == {"done", "cancelled"}
    assert rows(db_path, "SELECT status FROM pipeline_runs") == [("cancelled",)]


def test_async_workers_on_the_loop_already_running(db_path):
    seen_loops = set()

    async def worker(task, q):
        seen_loops.add(id(asyncio.get_running_loop()))
        await asyncio.sleep(0.01)

    async def cell():
        # as in a notebook cell: a loop runs in this thread, and run_pipeline is called sync
        outer = id(asyncio.get_running_loop())
        summary = run_pipeline(db_path, tasks(6), workers=3, worker_fn=worker, progress=False)
        return outer, summary

    outer, summary = asyncio.run(cell())
    assert summary.done == 6
    assert seen_loops == {outer}


def test_async_loop_choices_are_checked_before_work(db_path):
    async def worker(task, q):
        pass

    with pytest.raises(ConfigError, match="needs an event loop running"):
        run_pipeline(db_path, tasks(1), worker_fn=worker, async_loop="current", progress=False)
    with pytest.raises(ConfigError, match="async_loop must be"):
        run_pipeline(db_path, tasks(1), worker_fn=worker, async_loop="nope", progress=False)
    assert not db_path.exists()
