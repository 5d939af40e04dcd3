"""Run history, resume and retries."""

from __future__ import annotations

import threading

from pipeloom import run_pipeline

from .helpers import rows, statuses, tasks


def fail_on(bad: set[int]):
    def worker(task, q):
        if task.task_id in bad:
            raise RuntimeError(f"task {task.task_id} failed")

    return worker


def test_every_run_is_recorded_and_earlier_task_history_stays(db_path):
    run_pipeline(db_path, tasks(3, start=1), worker_fn=fail_on({2}), name="p", progress=False)
    run_pipeline(db_path, tasks(3, start=1), worker_fn=fail_on(set()), name="p", progress=False)
    runs = rows(
        db_path,
        "SELECT run_id, name, status, tasks, done, errors, workers "
        "FROM pipeline_runs ORDER BY run_id",
    )
    assert [r[:6] for r in runs] == [(1, "p", "error", 3, 2, 1), (2, "p", "done", 3, 3, 0)]
    assert statuses(db_path, 1) == {1: "done", 2: "error", 3: "done"}
    assert statuses(db_path, 2) == {1: "done", 2: "done", 3: "done"}


def test_resume_reruns_only_what_did_not_finish(db_path):
    ran: list[int] = []
    lock = threading.Lock()
    source_down = True

    def worker(task, q):
        with lock:
            ran.append(task.task_id)
        if task.task_id in {2, 5} and source_down:
            raise ValueError("flaky source")

    first = run_pipeline(
        db_path, tasks(5, start=1), worker_fn=worker, name="etl", workers=1, progress=False
    )
    assert first.counts == {"done": 3, "error": 2}
    ran.clear()
    source_down = False
    second = run_pipeline(
        db_path,
        tasks(5, start=1),
        worker_fn=worker,
        name="etl",
        workers=1,
        resume=True,
        progress=False,
    )
    assert sorted(ran) == [2, 5]
    assert second.ok and second.counts == {"done": 2, "skipped": 3}
    assert statuses(db_path, second.run_id) == {
        1: "skipped",
        2: "done",
        3: "skipped",
        4: "skipped",
        5: "done",
    }


def test_resume_only_looks_at_runs_of_the_same_name(db_path):
    run_pipeline(db_path, tasks(2, start=1), worker_fn=fail_on(set()), name="a", progress=False)
    summary = run_pipeline(
        db_path, tasks(2, start=1), worker_fn=fail_on(set()), name="b", resume=True, progress=False
    )
    assert summary.counts == {"done": 2}


def test_retries_rerun_a_raising_worker_with_backoff(db_path):
    attempts: dict[int, int] = {}

    def worker(task, q):
        attempts[task.task_id] = attempts.get(task.task_id, 0) + 1
        if task.task_id == 1 and attempts[1] < 3:
            raise ConnectionError("try again")

    summary = run_pipeline(
        db_path, tasks(2, start=1), worker_fn=worker, retries=2, retry_backoff=0.01, progress=False
    )
    assert summary.ok and attempts == {1: 3, 2: 1}
    assert rows(db_path, "SELECT id, status, attempts FROM task_runs ORDER BY id") == [
        (1, "done", 3),
        (2, "done", 1),
    ]


def test_retries_give_up_with_the_last_error(db_path):
    summary = run_pipeline(
        db_path,
        tasks(1, start=1),
        worker_fn=fail_on({1}),
        retries=2,
        retry_backoff=0.01,
        progress=False,
    )
    assert summary.counts == {"error": 1}
    assert rows(db_path, "SELECT status, attempts FROM task_runs") == [("error", 3)]
