"""Progress held in the queue while the writer is busy: only the latest per task, never lost."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from pipeloom import MessageQueue, MsgTaskFinished, MsgTaskProgress, MsgTaskStarted
from pipeloom.core.control import LatestProgress

from .helpers import rows


def queued(q: MessageQueue) -> list:
    """Everything in the queue, in order (emptying it)."""
    out = []
    while not q.empty():
        out.append(q.get_nowait())
    return out


def test_an_idle_queue_hands_progress_straight_on():
    q = MessageQueue()
    q.put(MsgTaskProgress(1, 1, 2, "half"))
    assert queued(q) == [MsgTaskProgress(1, 1, 2, "half")]
    assert q.take_latest() == []


def test_a_busy_queue_keeps_only_each_tasks_latest_progress():
    q = MessageQueue()
    q.put(MsgTaskStarted(1, "one", "t0"))
    for step in (1, 2, 3):
        q.put(MsgTaskProgress(1, step, 3, f"step {step}"))
    q.put(MsgTaskProgress(2, 1, 9, "two"))
    assert q.qsize() == 1
    assert q.take_latest() == [
        LatestProgress(MsgTaskProgress(1, 3, 3, "step 3"), 2),
        MsgTaskProgress(2, 1, 9, "two"),
    ]
    assert q.take_latest() == []


def test_a_tasks_next_message_releases_its_held_progress_ahead_of_it():
    q = MessageQueue()
    q.put(MsgTaskStarted(1, "one", "t0"))
    q.put(MsgTaskProgress(1, 1, 2, "half"))
    q.put(MsgTaskProgress(1, 2, 2, "all"))
    q.put(MsgTaskFinished(1, "done", "t1"))
    assert queued(q) == [
        MsgTaskStarted(1, "one", "t0"),
        LatestProgress(MsgTaskProgress(1, 2, 2, "all"), 1),
        MsgTaskFinished(1, "done", "t1"),
    ]


def test_progress_with_an_unhashable_id_is_queued_for_the_writer_to_report():
    q = MessageQueue()
    q.put(MsgTaskStarted(1, "one", "t0"))
    q.put(MsgTaskProgress([1], 1, 2, "half"))
    assert len(queued(q)) == 2


@pytest.mark.parametrize("source", [list, iter])
def test_racing_workers_and_writer_lose_no_progress_and_count_every_message(tmp_path, source):
    """The last step each worker put before returning is its task's recorded message.

    From a generator, tasks are registered with the writer as they are taken: progress held
    for a task must wait for that, not be applied (and ignored) before it.
    """
    from pipeloom import TaskDef, run_pipeline

    steps = 40

    def worker(task, q):
        for i in range(1, steps + 1):
            q.put(MsgTaskProgress(task.task_id, i, steps, f"step {i}"))

    n = 600
    s = run_pipeline(
        tmp_path / "race.db",
        source([TaskDef(i, f"t{i}") for i in range(n)]),
        workers=4,
        worker_fn=worker,
        progress=False,
    )
    assert s.status == "done"
    assert s.messages == n * (steps + 1) + 1  # progress, each task's close, the run's close
    got = rows(tmp_path / "race.db", "SELECT message, count(*) FROM task_runs GROUP BY message")
    assert got == [(f"step {steps}", n)]


def test_a_slow_tasks_held_progress_shows_while_other_tasks_flood_the_writer(tmp_path):
    from pipeloom import TaskDef, run_pipeline

    db = tmp_path / "slow.db"
    seen, flooding = threading.Event(), threading.Event()

    def worker(task, q):
        if task.task_id == 0:
            flooding.wait(10)  # put while the queue is busy: the progress is held
            q.put(MsgTaskProgress(0, 1, 2, "half way"))
            seen.wait(10)
            return
        for _ in range(200):
            q.put(MsgTaskStarted(task.task_id, task.name, "t0"))
        flooding.set()

    tasks = [TaskDef(i, f"t{i}") for i in range(2000)]
    done = {}
    runner = threading.Thread(
        target=lambda: done.update(
            s=run_pipeline(db, tasks, workers=4, worker_fn=worker, progress=False)
        )
    )
    runner.start()
    deadline = time.monotonic() + 8
    message, finished = None, 0
    while time.monotonic() < deadline and message != "half way":
        time.sleep(0.02)
        try:
            found = rows(db, "SELECT message FROM task_runs WHERE id = 0")
            (finished,) = rows(db, "SELECT count(*) FROM task_runs WHERE status = 'done'")[0]
        except sqlite3.OperationalError:  # the tables are not there yet
            continue
        message = found[0][0] if found else None
    seen.set()
    runner.join(30)
    assert message == "half way"
    assert finished < len(tasks) - 1  # seen while the other tasks were still flooding
    assert done["s"].status == "done"
