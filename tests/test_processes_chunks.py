"""executor="processes" sends chunks of tasks per pool call: every task still gets its own
attempts, and a Stop or a dead process loses no task and counts none twice."""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass

import pytest

from pipeloom import RetryAfter, run_pipeline
from pipeloom.execution.chunks import ChunkSizer

from .helpers import ITEMS_SCHEMA, MsgRows, insert_items, rows, statuses, tasks, wait_for


@dataclass(frozen=True)
class MsgStart:
    """When an attempt at a task began (wall clock, comparable across processes)."""

    task_id: int
    at: float


STARTS_SCHEMA = "CREATE TABLE IF NOT EXISTS starts(task_id INTEGER, at REAL)"


def record_start(conn, msg: MsgStart) -> None:
    conn.execute("INSERT INTO starts VALUES (?, ?)", (msg.task_id, msg.at))


def nothing(task, q):
    """A tiny task."""


def one_row(task, q):
    q.put(MsgRows(task.task_id, [(task.task_id, f"v{task.task_id}")]))


def run(db_path, n: int, worker, **options):
    return run_pipeline(
        db_path,
        tasks(n),
        workers=2,
        worker_fn=worker,
        executor="processes",
        handlers={MsgRows: insert_items, MsgStart: record_start},
        schema=[ITEMS_SCHEMA, STARTS_SCHEMA],
        progress=False,
        **options,
    )


def done_ids(db_path) -> set[int]:
    return {i for i, s in statuses(db_path).items() if s == "done"}


def item_keys(db_path) -> list[int]:
    return [k for (k,) in rows(db_path, "SELECT k FROM items ORDER BY k")]


def test_the_chunk_size_grows_while_calls_are_short_and_drops_after_a_long_one():
    sizer = ChunkSizer(most=1000, target=0.1)
    seen = [sizer.size]
    for _ in range(12):
        sizer.record(sizer.size, sizer.size * 1e-5)  # 10 µs a task: calls far below 0.1 s
        seen.append(sizer.size)
    assert seen[:5] == [1, 2, 4, 8, 16] and seen[-1] == 1000
    sizer.record(1000, 1.0)  # ten times too long: a tenth
    assert sizer.size == 100
    sizer.record(1, 0.05)  # one slow task in a short call is not a trend
    assert sizer.size == 100
    assert sizer.take(left=80, calls=8) == 10 and sizer.take(left=0, calls=8) == 1
    assert sizer.take(left=None, calls=8) == 100  # from an iterator: no fair share yet


def test_a_list_feed_knows_what_is_left_and_a_generator_does_not():
    """The chunk's fair share counts the tasks not yet read, not only those read ahead."""
    from pipeloom.core.queue import MessageQueue
    from pipeloom.run.feed import TaskFeed

    feed = TaskFeed(tasks(1000), MessageQueue(), set())
    feed.take(64)
    assert feed.left() == 936
    generated = TaskFeed(iter(tasks(1000)), MessageQueue(), set())
    generated.take(64)
    assert generated.left() is None


@pytest.mark.parametrize("source", [list, iter])
def test_tiny_tasks_end_without_waiting_for_messages_already_heard(db_path, caplog, source):
    """A task can end in its process before the call that sent it returns: none is lost."""
    started = time.monotonic()
    summary = run_pipeline(
        db_path,
        source(tasks(20_000)),
        workers=2,
        worker_fn=nothing,
        executor="processes",
        progress=False,
    )
    assert summary.counts == {"done": 20_000}
    assert "ended without their last message" not in caplog.text
    assert time.monotonic() - started < 20  # the wait for unheard tasks is 30 s


def test_many_tiny_tasks_are_each_recorded_done_once(db_path):
    summary = run(db_path, 5000, one_row)
    assert summary.status == "done" and summary.counts == {"done": 5000}
    assert rows(db_path, "SELECT count(*), min(attempts), max(attempts) FROM task_runs") == [
        (5000, 1, 1)
    ]
    assert item_keys(db_path) == list(range(5000))
    assert rows(db_path, "SELECT count(*) FROM task_attempts") == [(0,)]


def test_each_task_of_a_chunk_fails_and_retries_on_its_own(db_path, tmp_path):
    def worker(task, q):
        i = task.task_id
        if i % 100 == 7:
            raise RuntimeError(f"always {i}")
        marker = tmp_path / f"failed-{i}"
        if i % 100 == 13 and not marker.exists():
            marker.touch()
            raise RuntimeError(f"once {i}")
        one_row(task, q)

    summary = run(db_path, 600, worker, retries=2, retry_backoff=0.001)
    always = {i for i in range(600) if i % 100 == 7}
    once = {i for i in range(600) if i % 100 == 13}
    assert summary.counts == {"done": 594, "error": 6}
    assert {e.task_id for e in summary.errors} == always
    attempts = dict(rows(db_path, "SELECT id, attempts FROM task_runs"))
    assert {i for i, a in attempts.items() if a == 3} == always
    assert {i for i, a in attempts.items() if a == 2} == once
    assert sum(attempts.values()) == 600 + 2 * 6 + 6
    logged = dict(rows(db_path, "SELECT task_id, count(*) FROM task_attempts GROUP BY task_id"))
    assert logged == {**dict.fromkeys(always, 3), **dict.fromkeys(once, 2)}
    assert item_keys(db_path) == sorted(set(range(600)) - always)


def test_stop_mid_run_leaves_every_task_done_or_cancelled(db_path):
    def worker(task, q):
        time.sleep(0.0005)
        one_row(task, q)

    cancel, out, n = threading.Event(), {}, 20_000

    def go():
        out["summary"] = run(db_path, n, worker, cancel_event=cancel)

    t = threading.Thread(target=go)
    t.start()
    try:
        assert wait_for(lambda: _count_done(db_path) >= 1000, 60)
    finally:
        cancel.set()
        t.join(60)
    assert not t.is_alive()
    summary = out["summary"]
    st = statuses(db_path)
    assert summary.status == "cancelled" and len(st) == n
    assert set(st.values()) == {"done", "cancelled"}
    assert sum(summary.counts.values()) == n
    assert summary.counts == {
        "done": len(done_ids(db_path)),
        "cancelled": n - len(done_ids(db_path)),
    }
    assert item_keys(db_path) == sorted(done_ids(db_path))  # every done task's row, once


def test_a_process_killed_mid_chunk_blames_one_task_and_runs_the_others_once(db_path):
    def worker(task, q):
        if task.task_id == 1000:
            os.kill(os.getpid(), signal.SIGKILL)
        one_row(task, q)

    summary = run(db_path, 2000, worker)
    st = statuses(db_path)
    assert st.pop(1000) == "error" and set(st.values()) == {"done"} and len(st) == 1999
    (error,) = summary.errors
    assert error.task_id == 1000 and "terminated" in error.message.lower()
    assert rows(db_path, "SELECT min(attempts), max(attempts) FROM task_runs") == [(1, 1)]
    assert item_keys(db_path) == [i for i in range(2000) if i != 1000]  # none twice
    again = run(db_path, 3, lambda t, q: None)
    assert again.counts == {"done": 3}


def test_a_timed_out_task_in_a_chunk_does_not_hold_back_the_others(db_path):
    def worker(task, q):
        if task.task_id == 150:
            time.sleep(5)
        one_row(task, q)

    t0 = time.monotonic()
    summary = run(db_path, 300, worker, timeout=0.5)
    assert time.monotonic() - t0 < 5
    assert summary.counts == {"done": 299, "error": 1} and summary.timed_out == 1
    assert item_keys(db_path) == [i for i in range(300) if i != 150]


def test_a_push_back_in_a_process_pauses_every_start(db_path, tmp_path):
    marker = tmp_path / "pushed-back"

    def worker(task, q):
        q.put(MsgStart(task.task_id, time.time()))
        if task.task_id == 40 and not marker.exists():
            marker.touch()
            raise RetryAfter(1.0)
        time.sleep(0.02)

    summary = run(db_path, 60, worker, retries=1)
    assert summary.counts == {"done": 60} and summary.throttled == 1
    starts = rows(db_path, "SELECT task_id, at FROM starts ORDER BY at")
    pushed = min(at for i, at in starts if i == 40)
    during = [i for i, at in starts if pushed + 0.45 < at < pushed + 0.9]
    assert during == [], during  # every process asks for its starts once told to
    assert len(starts) == 61


def _count_done(db_path) -> int:
    if not db_path.exists():
        return 0
    try:
        return rows(db_path, "SELECT count(*) FROM task_runs WHERE status='done'")[0][0]
    except Exception:
        return 0
