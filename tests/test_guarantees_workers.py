"""Issue 12, section 2: any way a worker can end is recorded, and a run is `done` only if true."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from pipeloom import MsgTaskProgress, TaskDef, run_pipeline

from .helpers import rows, statuses


class Abort(BaseException):
    """A BaseException that is neither SystemExit nor KeyboardInterrupt."""


def _assert_only_task_2_failed_naming(db_path, summary, exc_name: str) -> None:
    assert statuses(db_path) == {1: "done", 2: "error", 3: "done", 4: "done", 5: "done"}
    message, error = rows(db_path, "SELECT message, error FROM task_runs WHERE id=2")[0]
    assert exc_name in f"{message} {error}"
    assert summary.status != "done" and not summary.ok
    assert rows(db_path, "SELECT status FROM pipeline_runs") != [("done",)]


@pytest.mark.parametrize(
    "exc", [SystemExit(3), KeyboardInterrupt(), Abort("boom")], ids=lambda e: type(e).__name__
)
def test_a_thread_worker_raising_a_baseexception_is_an_error_and_the_rest_still_run(db_path, exc):
    def worker(task, q):
        if task.task_id == 2:
            raise exc

    summary = run_pipeline(
        db_path,
        [TaskDef(i, f"t{i}") for i in range(1, 6)],
        workers=1,
        worker_fn=worker,
        progress=False,
    )
    _assert_only_task_2_failed_naming(db_path, summary, type(exc).__name__)


@pytest.mark.parametrize("exc_type", [SystemExit, asyncio.CancelledError, Abort])
def test_an_async_worker_raising_systemexit_or_its_own_cancellederror_is_an_error(
    db_path, exc_type
):
    async def worker(task, q):
        await asyncio.sleep(0)
        if task.task_id == 2:
            raise exc_type()

    summary = run_pipeline(
        db_path,
        [TaskDef(i, f"t{i}") for i in range(1, 6)],
        workers=1,
        worker_fn=worker,
        async_loop="private",
        progress=False,
    )
    _assert_only_task_2_failed_naming(db_path, summary, exc_type.__name__)


def test_a_run_with_tasks_not_in_a_terminal_state_is_never_done(db_path):
    def worker(task, q):
        if task.task_id == 1:
            raise SystemExit  # today: the only thread ends, tasks 2..3 stay queued

    summary = run_pipeline(
        db_path,
        [TaskDef(i, f"t{i}") for i in range(1, 4)],
        workers=1,
        worker_fn=worker,
        progress=False,
    )
    left = {s for s in statuses(db_path).values() if s not in {"done", "error", "cancelled"}}
    if left:
        assert summary.status != "done" and not summary.ok
        assert rows(db_path, "SELECT status FROM pipeline_runs") != [("done",)]
    assert not left, f"tasks left {left} at the end of the run"


def stuck_in_a_process(task, q):
    """Reports that it started, then never looks at the cancel flag."""
    q.put(MsgTaskProgress(task.task_id, 0, 1, "started"))
    time.sleep(60)


def test_cancelling_a_process_pool_with_stuck_workers_records_them_cancelled(db_path):
    cancel = threading.Event()
    gave_up = threading.Event()

    def stop_when_both_run():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not gave_up.is_set():
            try:
                running = rows(db_path, "SELECT count(*) FROM task_runs WHERE status='running'")
            except Exception:  # the file or table is not there yet
                running = [(0,)]
            if running[0][0] >= 2:
                break
            time.sleep(0.02)
        cancel.set()

    watcher = threading.Thread(target=stop_when_both_run)
    watcher.start()
    try:
        summary = run_pipeline(
            db_path,
            [TaskDef(i, f"t{i}") for i in range(1, 5)],
            workers=2,
            worker_fn=stuck_in_a_process,
            executor="processes",
            cancel_event=cancel,
            cancel_grace=0.5,
            progress=False,
        )
    finally:
        gave_up.set()
        watcher.join(5)
    assert statuses(db_path) == {1: "cancelled", 2: "cancelled", 3: "cancelled", 4: "cancelled"}
    texts = rows(db_path, "SELECT coalesce(message, '') || coalesce(error, '') FROM task_runs")
    assert not any("ShutdownExecutorError" in t for (t,) in texts), texts
    assert summary.status == "cancelled"
