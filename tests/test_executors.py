"""executor="processes" and a Dask cluster: other processes run the tasks, one writer here."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass

import psutil
import pytest

from pipeloom import ConfigError, MsgTaskProgress, PicklingFailed, run_pipeline
from pipeloom_nb import Loom

from .helpers import ITEMS_SCHEMA, MsgRows, insert_items, rows, statuses, tasks, wait_for

HERE = os.getpid()


@dataclass(frozen=True)
class MsgPid:
    """Which process ran a task."""

    task_id: int
    pid: int


def record_pid(conn, msg: MsgPid) -> None:
    conn.execute("INSERT INTO pids VALUES (?, ?)", (msg.task_id, msg.pid))


PIDS_SCHEMA = "CREATE TABLE IF NOT EXISTS pids(task_id INTEGER, pid INTEGER)"


def test_processes_run_an_inline_closure_in_other_processes(db_path):
    offset = 1000

    def worker(task, q):
        q.put(MsgTaskProgress(task.task_id, 1, 2))
        q.put(MsgRows(task.task_id, [(offset + task.task_id, f"v{task.task_id}")]))
        q.put(MsgPid(task.task_id, os.getpid()))

    summary = run_pipeline(
        db_path,
        tasks(40),
        workers=2,
        worker_fn=worker,
        executor="processes",
        handlers={MsgRows: insert_items, MsgPid: record_pid},
        schema=[ITEMS_SCHEMA, PIDS_SCHEMA],
        progress=False,
    )
    assert summary.status == "done" and summary.counts == {"done": 40}
    assert rows(db_path, "SELECT min(k), max(k), count(*) FROM items") == [(1000, 1039, 40)]
    pids = {p for (p,) in rows(db_path, "SELECT DISTINCT pid FROM pids")}
    assert pids and HERE not in pids


def test_processes_record_errors_with_tracebacks_and_retry(db_path, tmp_path):
    marker = tmp_path / "failed-once"

    def worker(task, q):
        if task.task_id == 3:
            raise ValueError("boom 3")
        if task.task_id == 5 and not marker.exists():
            marker.touch()
            raise RuntimeError("flaky")

    summary = run_pipeline(
        db_path,
        tasks(8),
        workers=2,
        worker_fn=worker,
        executor="processes",
        retries=1,
        retry_backoff=0.01,
        progress=False,
    )
    assert summary.counts == {"done": 7, "error": 1}
    (error,) = summary.errors
    assert error.task_id == 3 and "ValueError: boom 3" in error.traceback
    assert rows(db_path, "SELECT status, attempts FROM task_runs WHERE id=5") == [("done", 2)]


def test_progress_is_live_and_cancel_reaches_running_workers(db_path):
    def worker(task, q):
        q.put(MsgTaskProgress(task.task_id, 1, 2, "waiting"))
        deadline = time.monotonic() + 30
        while not q.cancelled.is_set() and time.monotonic() < deadline:
            time.sleep(0.02)

    summary = _cancel_when_two_run(db_path, worker, 50)
    assert summary.status == "cancelled"
    assert summary.counts["done"] == 2 and summary.counts["cancelled"] == 48
    assert "running" not in set(statuses(db_path).values())


def test_tasks_stuck_past_the_grace_period_are_cancelled_not_errors(db_path):
    def stuck(task, q):
        q.put(MsgTaskProgress(task.task_id, 1, 2, "stuck"))
        time.sleep(60)  # ignores q.cancelled: only killing its process stops it

    summary = _cancel_when_two_run(db_path, stuck, 6, cancel_grace=0.5)
    assert summary.status == "cancelled"
    assert set(statuses(db_path).values()) == {"cancelled"}
    messages = [m for (m,) in rows(db_path, "SELECT message FROM task_runs")]
    assert not [m for m in messages if "Shutdown" in m or "Error" in m]


def _cancel_when_two_run(db_path, worker, n: int, **options):
    """Run `n` tasks on 2 processes; cancel once two are running and halfway; the summary."""
    cancel, out = threading.Event(), {}

    def run():
        out["summary"] = run_pipeline(
            db_path,
            tasks(n),
            workers=2,
            worker_fn=worker,
            executor="processes",
            cancel_event=cancel,
            progress=False,
            **options,
        )

    t = threading.Thread(target=run)
    t.start()
    try:
        assert wait_for(lambda: _running_at_half(db_path) == 2, 30)
    finally:
        cancel.set()
        t.join(30)
    assert not t.is_alive()
    return out["summary"]


def _running_at_half(db_path) -> int:
    if not db_path.exists():
        return 0
    try:
        got = rows(
            db_path, "SELECT count(*) FROM task_runs WHERE status='running' AND progress=0.5"
        )
    except Exception:
        return 0
    return got[0][0]


def test_a_worker_that_cannot_be_pickled_fails_before_any_work(db_path):
    lock = threading.Lock()

    def holds_a_lock(task, q):
        with lock:
            pass

    with pytest.raises(PicklingFailed, match=r"worker .*holds_a_lock cannot be sent"):
        run_pipeline(db_path, tasks(3), worker_fn=holds_a_lock, executor="processes")
    assert not db_path.exists()


def test_a_message_that_cannot_be_pickled_is_a_task_error_naming_it(db_path):
    def worker(task, q):
        q.put(MsgRows(task.task_id, [(task.task_id, threading.Lock())]))

    summary = run_pipeline(
        db_path,
        tasks(2),
        workers=1,
        worker_fn=worker,
        executor="processes",
        handlers={MsgRows: insert_items},
        progress=False,
    )
    assert summary.counts == {"error": 2}
    assert "message MsgRows cannot be pickled" in summary.errors[0].message


def test_a_killed_worker_process_is_an_error_and_other_tasks_are_retried(db_path):
    def worker(task, q):
        if task.task_id == 1:
            os._exit(3)
        time.sleep(0.05)

    summary = run_pipeline(
        db_path,
        tasks(6),
        workers=2,
        worker_fn=worker,
        executor="processes",
        retries=1,
        retry_backoff=0.01,
        progress=False,
    )
    st = statuses(db_path)
    assert st.pop(1) == "error" and set(st.values()) == {"done"}
    assert "terminated" in summary.errors[0].message.lower()
    again = run_pipeline(db_path, tasks(3), worker_fn=lambda t, q: None, executor="processes")
    assert again.counts == {"done": 3}


def test_async_workers_run_in_processes(db_path):
    async def worker(task, q):
        import asyncio

        await asyncio.sleep(0.01)
        q.put(MsgPid(task.task_id, os.getpid()))

    summary = run_pipeline(
        db_path,
        tasks(6),
        workers=2,
        worker_fn=worker,
        executor="processes",
        handlers={MsgPid: record_pid},
        schema=PIDS_SCHEMA,
        progress=False,
    )
    assert summary.counts == {"done": 6}
    assert HERE not in {p for (p,) in rows(db_path, "SELECT pid FROM pids")}


def test_an_unknown_executor_is_a_clear_error(db_path):
    with pytest.raises(ConfigError, match="executor must be 'threads', 'processes' or a dask"):
        run_pipeline(db_path, tasks(1), executor="gpu")


SIGINT_SCRIPT = textwrap.dedent("""
    import os, sys, time
    from pipeloom import TaskDef, run_pipeline
    def worker(task, q):
        print("pid", os.getpid(), flush=True)
        time.sleep(0.2)
    if __name__ == "__main__":
        run_pipeline(sys.argv[1], [TaskDef(i, f"t{i}") for i in range(200)], workers=2,
                     worker_fn=worker, executor="processes", progress=False)
""")


def test_ctrl_c_cancels_a_process_run_and_leaves_no_process_behind(db_path, tmp_path):
    script = tmp_path / "job.py"
    script.write_text(SIGINT_SCRIPT)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(db_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    worker_pid = int(proc.stdout.readline().split()[1])
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C or Jupyter's Interrupt do
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "KeyboardInterrupt" in err
    counts = dict(rows(db_path, "SELECT status, count(*) FROM task_runs GROUP BY status"))
    assert counts.get("cancelled", 0) >= 150 and not {"running", "queued"} & set(counts)
    assert wait_for(lambda: not psutil.pid_exists(worker_pid), 30)


def test_loom_runs_and_maps_on_processes(tmp_path):
    loom = Loom(tmp_path / "loom.db", workers=2, progress=False, executor="processes")
    scale = 10

    def transform(item):
        return {"item": item, "scaled": item * scale, "pid": os.getpid()}

    result = loom.map(transform, range(20), table="scaled")
    assert result.counts == {"done": 20}
    df = loom.table("scaled")
    assert sorted(df["scaled"]) == [i * 10 for i in range(20)]
    assert HERE not in set(df["pid"])


def test_a_dask_cluster_runs_the_tasks_and_the_writer_stays_here(db_path, dask_client):
    offset = 500

    def worker(task, q):
        if task.task_id == 7:
            raise KeyError("missing")
        q.put(MsgTaskProgress(task.task_id, 1, 1))
        q.put(MsgRows(task.task_id, [(offset + task.task_id, "x")]))
        q.put(MsgPid(task.task_id, os.getpid()))

    summary = run_pipeline(
        db_path,
        tasks(30),
        worker_fn=worker,
        executor=dask_client,
        handlers={MsgRows: insert_items, MsgPid: record_pid},
        schema=[ITEMS_SCHEMA, PIDS_SCHEMA],
        progress=False,
    )
    assert summary.counts == {"done": 29, "error": 1} and summary.workers == 2
    assert "KeyError: 'missing'" in summary.errors[0].traceback
    assert rows(db_path, "SELECT count(*), min(k) FROM items") == [(29, 500)]
    pids = {p for (p,) in rows(db_path, "SELECT DISTINCT pid FROM pids")}
    assert len(pids) == 2 and HERE not in pids


def test_a_dask_run_is_cancelled_in_order(db_path, dask_client):
    cancel = threading.Event()

    def worker(task, q):
        q.put(MsgTaskProgress(task.task_id, 0, 1, "waiting for the cancel"))
        deadline = time.monotonic() + 30
        while not q.cancelled.is_set() and time.monotonic() < deadline:
            time.sleep(0.02)

    out = {}

    def run():
        out["summary"] = run_pipeline(
            db_path,
            tasks(40),
            worker_fn=worker,
            executor=dask_client,
            cancel_event=cancel,
            progress=False,
        )

    t = threading.Thread(target=run)
    t.start()
    try:
        assert wait_for(lambda: _count(db_path, "running") == 2, 30)
    finally:
        cancel.set()
        t.join(30)
    assert not t.is_alive()
    summary = out["summary"]
    assert summary.status == "cancelled"
    assert summary.counts.get("cancelled", 0) >= 36
    assert "running" not in set(statuses(db_path).values())


def _count(db_path, status: str) -> int:
    if not db_path.exists():
        return 0
    try:
        return rows(db_path, "SELECT count(*) FROM task_runs WHERE status=?", (status,))[0][0]
    except Exception:
        return 0
