"""Every attempt of a task that failed is kept; each task knows its worker; counts are live."""

from __future__ import annotations

import asyncio
import threading
import time

from pipeloom import TaskDef, run_pipeline

from .helpers import rows


def test_every_attempt_of_a_retried_task_is_kept_with_its_error(db_path):
    calls: dict[int, int] = {}

    def worker(task, q):
        calls[task.task_id] = calls.get(task.task_id, 0) + 1
        if task.task_id == 1 and calls[1] < 3:
            raise ConnectionError(f"flaky {calls[1]}")

    summary = run_pipeline(
        db_path,
        [TaskDef(i, f"t{i}") for i in range(3)],
        workers=2,
        worker_fn=worker,
        retries=2,
        retry_backoff=0.01,
        progress=False,
    )
    assert summary.ok
    got = rows(
        db_path,
        "SELECT task_id, attempt, outcome, error, worker, traceback IS NOT NULL "
        "FROM task_attempts ORDER BY attempt",
    )
    assert [(t, a, o, e) for t, a, o, e, _, _ in got] == [
        (1, 1, "retrying", "ConnectionError: flaky 1"),
        (1, 2, "retrying", "ConnectionError: flaky 2"),
        (1, 3, "done", None),
    ]
    assert all(w.startswith("pipeloom-worker-") for *_, w, _ in got)
    assert [tb for *_, tb in got] == [1, 1, 0]
    assert rows(db_path, "SELECT attempts FROM task_runs WHERE id = 1") == [(3,)]


def test_a_final_failure_is_an_attempt_too(db_path):
    def worker(task, q):
        raise ValueError("bad input")

    run_pipeline(db_path, [TaskDef(1, "a")], worker_fn=worker, progress=False)
    assert rows(db_path, "SELECT attempt, outcome, error FROM task_attempts") == [
        (1, "error", "ValueError: bad input")
    ]


def test_each_task_records_the_lane_that_ran_it(db_path):
    async def worker(task, q):
        await asyncio.sleep(0.01)

    run_pipeline(
        db_path,
        [TaskDef(i, f"t{i}") for i in range(12)],
        workers=3,
        worker_fn=worker,
        progress=False,
    )
    lanes = {w for (w,) in rows(db_path, "SELECT worker FROM task_runs")}
    assert lanes == {"coroutine-0", "coroutine-1", "coroutine-2"}


def test_pipeline_runs_counts_are_live_while_the_run_goes_on(db_path):
    release, seen = threading.Event(), []

    def worker(task, q):
        if task.task_id == 9:
            release.wait(10)

    def watch():
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not release.is_set():
            try:
                got = rows(db_path, "SELECT status, tasks, done FROM pipeline_runs")
            except Exception:
                got = []
            if got and got[0][2] == 9:
                seen.append(got[0])
                release.set()
            time.sleep(0.01)
        release.set()

    watcher = threading.Thread(target=watch)
    watcher.start()
    summary = run_pipeline(
        db_path,
        [TaskDef(i, f"t{i}") for i in range(10)],
        workers=2,
        worker_fn=worker,
        progress=False,
    )
    watcher.join()
    assert seen == [("running", 10, 9)]
    assert summary.ok and rows(db_path, "SELECT done FROM pipeline_runs") == [(10,)]


def test_failures_make_one_log_line_per_run_and_the_rest_is_at_debug(db_path, caplog):
    def worker(task, q):
        raise ValueError(f"bad {task.task_id}")

    with caplog.at_level("DEBUG", logger="pipeloom"):
        run_pipeline(
            db_path, [TaskDef(i, f"t{i}") for i in range(5)], worker_fn=worker, progress=False
        )
    loud = [r for r in caplog.records if r.levelname in ("WARNING", "ERROR")]
    assert len(loud) == 1 and "5 error(s)" in loud[0].getMessage()
