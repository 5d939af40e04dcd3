"""Any way a worker can end is recorded: BaseExceptions too, on threads and coroutines."""

from __future__ import annotations

import asyncio
import sys

import pytest

from pipeloom import TaskDef, run_pipeline

from .helpers import rows, statuses

ENDINGS = [
    ("SystemExit", lambda: sys.exit(3)),
    ("KeyboardInterrupt", lambda: (_ for _ in ()).throw(KeyboardInterrupt("from the worker"))),
    ("GeneratorExit", lambda: (_ for _ in ()).throw(GeneratorExit)),
]


@pytest.mark.parametrize(("name", "end"), ENDINGS, ids=[e[0] for e in ENDINGS])
def test_a_thread_worker_ending_with_a_base_exception_is_an_error_and_the_rest_still_run(
    db_path, name, end
):
    def worker(task, q):
        if task.task_id == 2:
            end()

    summary = run_pipeline(
        db_path, [TaskDef(i, f"t{i}") for i in range(5)], workers=1, worker_fn=worker
    )
    assert statuses(db_path) == {0: "done", 1: "done", 2: "error", 3: "done", 4: "done"}
    assert summary.status == "error" and not summary.ok
    (message,) = rows(db_path, "SELECT message FROM task_runs WHERE id = 2")[0]
    assert message.startswith(name)


def test_a_retried_system_exit_is_retried_like_any_failure(db_path):
    calls = []

    def worker(task, q):
        calls.append(task.task_id)
        if len(calls) == 1:
            raise SystemExit("first attempt")

    summary = run_pipeline(
        db_path, [TaskDef(1, "a")], worker_fn=worker, retries=1, retry_backoff=0.01
    )
    assert summary.ok and calls == [1, 1]


def test_an_async_worker_ending_with_system_exit_is_an_error(db_path):
    async def worker(task, q):
        await asyncio.sleep(0)
        if task.task_id == 1:
            raise SystemExit(2)

    summary = run_pipeline(
        db_path, [TaskDef(i, f"t{i}") for i in range(3)], workers=1, worker_fn=worker
    )
    assert statuses(db_path) == {0: "done", 1: "error", 2: "done"}
    assert summary.status == "error"


def test_an_async_workers_own_cancelled_error_is_a_failure_not_a_cancel(db_path):
    async def worker(task, q):
        if task.task_id == 1:
            raise asyncio.CancelledError("gave up on its own")

    summary = run_pipeline(
        db_path, [TaskDef(i, f"t{i}") for i in range(3)], workers=2, worker_fn=worker
    )
    assert statuses(db_path) == {0: "done", 1: "error", 2: "done"}
    assert summary.status == "error"
    (message,) = rows(db_path, "SELECT message FROM task_runs WHERE id = 1")[0]
    assert "CancelledError" in message


def test_resume_without_task_status_is_refused_before_any_work(db_path):
    from pipeloom import ConfigError

    with pytest.raises(ConfigError, match="store_task_status"):
        run_pipeline(
            db_path,
            [TaskDef(1, "a")],
            worker_fn=lambda t, q: None,
            resume=True,
            store_task_status=False,
        )
    assert not db_path.exists()
