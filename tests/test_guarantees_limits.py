"""Issue 22, section 2: every limit is checked as a number; NaN never starts a run.

A comparison alone lets NaN through (each one is False): `timeout=nan` used to fail
every task, `rate=nan` ran unpaced, `timeout=inf` raised `OverflowError` after the
worker ran. NaN is now refused before any work; an infinite limit is no limit.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time

import pytest

from pipeloom import ConfigError, run_pipeline
from pipeloom_nb import Loom

from .children import locker
from .helpers import rows, statuses, tasks

NAN, INF = math.nan, math.inf

NUMERIC = [
    "timeout",
    "rate",
    "retry_backoff",
    "retry_max_delay",
    "max_retry_after",
    "cancel_grace",
    "lock_timeout",
    "max_latency",
    "workers",
    "queue_size",
    "batch_size",
]


@pytest.mark.parametrize("option", NUMERIC)
def test_nan_is_a_config_error_before_any_work(db_path, option):
    ran = []
    with pytest.raises(ConfigError, match=rf"{option} must be .*, not nan"):
        run_pipeline(
            db_path, tasks(3), worker_fn=lambda t, q: ran.append(t), progress=False, **{option: NAN}
        )
    assert not ran and not db_path.exists()


@pytest.mark.parametrize("option", ["queue_size", "batch_size", "cancel_grace", "lock_timeout"])
def test_a_limit_that_cannot_work_is_refused(db_path, option):
    with pytest.raises(ConfigError, match=option):
        run_pipeline(db_path, tasks(3), worker_fn=lambda t, q: None, progress=False, **{option: -1})
    assert not db_path.exists()


def test_an_infinite_backoff_is_refused_the_first_retry_would_never_come(db_path):
    with pytest.raises(ConfigError, match="retry_backoff must be a finite number"):
        run_pipeline(db_path, tasks(3), worker_fn=lambda t, q: None, retry_backoff=INF)


def test_a_loom_refuses_nan_when_it_is_made(db_path):
    for option in ("rate", "timeout", "workers"):
        with pytest.raises(ConfigError, match=option):
            Loom(db_path, **{option: NAN})
    with pytest.raises(ConfigError, match="timeout"):
        Loom(db_path, progress=False).run(tasks(3), lambda t, q: None, timeout=NAN)
    assert not db_path.exists()


def slow_sync(task, q):
    """Takes a little time, so a limit would have something to limit."""
    time.sleep(0.05)


async def slow_async(task, q):
    """`slow_sync` in a coroutine."""
    await asyncio.sleep(0.05)


@pytest.mark.parametrize(
    ("worker", "executor"),
    [(slow_sync, "threads"), (slow_async, "threads"), (slow_sync, "processes")],
    ids=["threads", "coroutines", "processes"],
)
@pytest.mark.parametrize("timeout", [INF, 1e12], ids=["inf", "1e12"])
def test_an_infinite_or_huge_timeout_is_no_limit(db_path, worker, executor, timeout):
    summary = run_pipeline(
        db_path,
        tasks(4),
        workers=2,
        worker_fn=worker,
        executor=executor,
        timeout=timeout,
        async_loop="private",
        progress=False,
    )
    assert summary.ok, summary.errors[:1]
    assert rows(db_path, "SELECT count(*) FROM task_attempts") == [(0,)]


def test_an_infinite_rate_and_max_delay_are_no_limit(db_path):
    calls = {}

    def worker(task, q):
        calls[task.task_id] = calls.get(task.task_id, 0) + 1
        if calls[task.task_id] == 1:
            raise ConnectionError("flaky")

    t0 = time.monotonic()
    summary = run_pipeline(
        db_path,
        tasks(20),
        worker_fn=worker,
        rate=INF,
        retries=1,
        retry_backoff=0.01,
        retry_max_delay=INF,
        progress=False,
    )
    assert summary.ok and time.monotonic() - t0 < 5


def test_an_infinite_lock_timeout_waits_for_the_other_writer(db_path):
    run_pipeline(db_path, tasks(1), worker_fn=lambda t, q: None, progress=False)
    with locker(db_path) as other:
        other.send("lock 0.5")
        other.expect("locked")
        summary = run_pipeline(
            db_path, tasks(2), worker_fn=lambda t, q: None, lock_timeout=INF, progress=False
        )
        other.expect("released")
    assert summary.ok


def test_an_infinite_grace_waits_for_tasks_in_flight_after_a_stop(db_path):
    cancel, started = threading.Event(), threading.Event()

    def worker(task, q):
        if task.task_id == 0:
            started.set()
            cancel.wait(10)
            time.sleep(0.2)

    threading.Timer(0, lambda: started.wait(10) and cancel.set()).start()
    summary = run_pipeline(
        db_path,
        tasks(4),
        workers=1,
        worker_fn=worker,
        cancel_event=cancel,
        cancel_grace=INF,
        progress=False,
    )
    assert summary.status == "cancelled"
    assert statuses(db_path) == {0: "done", 1: "cancelled", 2: "cancelled", 3: "cancelled"}
