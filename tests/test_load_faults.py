"""Loads under faults: a rolled-back batch, a failed load, replace with resume, name case."""

from __future__ import annotations

import pytest

from pipeloom import Rows, WriterError, run_pipeline

from .helpers import rows

pytestmark = pytest.mark.workers(1)


def test_a_failed_load_does_not_poison_the_next_items_of_that_table(loom, db_path):
    loom.schema("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
    result = loom.map(lambda i: {"id": i, "v": None if i == 0 else "x", "extra": i}, [0, 1, 2], "t")
    assert result.status == "error" and result.counts == {"done": 2, "error": 1}
    assert rows(db_path, "SELECT id, extra FROM t ORDER BY id") == [(1, 1), (2, 2)]


def test_replace_cannot_resume_and_leaves_the_table_as_it_was(loom, db_path):
    fail = {3}

    def fn(i):
        if i in fail:
            raise ValueError("boom")
        return {"i": i, "gen": 2}

    assert loom.map(lambda i: {"i": i, "gen": 1}, range(5), "t", mode="replace", name="seed").ok
    assert loom.map(fn, range(5), "t", mode="replace").status == "error"
    fail.clear()
    resumed = loom.map(fn, range(5), "t", mode="replace", resume=True)
    assert resumed.counts == {"done": 1, "skipped": 4}
    assert not resumed.ok and "cannot resume" in resumed.summary.errors[0].message
    assert rows(db_path, "SELECT i, gen FROM t ORDER BY i") == [(i, 1) for i in range(5)]


def test_a_batch_rolled_back_by_a_failing_writer_leaves_no_task_done(loom, db_path):
    loom.schema(
        "CREATE TABLE IF NOT EXISTS t (id INTEGER, v INTEGER, UNIQUE(id) ON CONFLICT ROLLBACK)"
    )
    with pytest.raises(WriterError):
        loom.map(lambda i: {"id": i % 5, "v": i}, range(6), "t")
    landed = {i for (i,) in rows(db_path, "SELECT v FROM t")}
    done = {i for (i,) in rows(db_path, "SELECT id FROM task_runs WHERE status = 'done'")}
    assert done <= landed, (done, landed)


def test_replace_into_one_table_spelled_two_ways_keeps_both_rows(db_path):
    def worker(task, q):
        table = "Items" if task["task_id"] == 0 else "items"
        q.put(Rows(table, {"k": task["task_id"]}, mode="replace", task_id=task["task_id"]))

    summary = run_pipeline(
        db_path, [{"task_id": 0}, {"task_id": 1}], worker_fn=worker, workers=1, progress=False
    )
    assert summary.ok
    assert rows(db_path, "SELECT k FROM items ORDER BY k") == [(0,), (1,)]
    names = {n for (n,) in rows(db_path, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert not [n for n in names if n.startswith("_pipeloom_stage")]


def test_every_put_that_returned_is_written_or_counted_as_not_written(db_path):
    import re
    import threading
    import time
    from dataclasses import dataclass

    from pipeloom import RunEnded

    @dataclass(frozen=True)
    class Mark:
        i: int

    ok, ended = [], threading.Event()

    def worker(task, q):
        if task["task_id"] == 1:
            return
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # ignores q.cancelled: a straggler
            try:
                q.put(Mark(len(ok)))
            except RunEnded:
                ended.set()
                return
            ok.append(1)
            time.sleep(0.0005)

    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    run_pipeline(
        db_path,
        [{"task_id": 0}, {"task_id": 1}],
        worker_fn=worker,
        handlers={Mark: lambda conn, m: conn.execute("INSERT INTO x VALUES (?)", (m.i,))},
        schema="CREATE TABLE x (i)",
        cancel_event=cancel,
        cancel_grace=0.2,
        workers=2,
        progress=False,
    )
    assert ended.wait(5), "the straggler's put() never raised RunEnded"
    landed = rows(db_path, "SELECT count(*) FROM x")[0][0]
    (error,) = rows(db_path, "SELECT error FROM pipeline_runs")[0]
    found = re.search(r"(\d+) message\(s\) without a task id were not written", error or "")
    dropped = int(found.group(1)) if found else 0
    assert landed + dropped == len(ok)
