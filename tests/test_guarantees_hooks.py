"""Issue 22, section 1: nothing a worker, a server or a predicate does kills the workers.

Each user hook (the worker, `retry_on`, an exception's `__str__`, a handler) throws on
one task, on threads, coroutines, pool processes and Dask: that task fails naming what
happened, and the other tasks run, on one worker, so a dead worker would leave them.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from dataclasses import dataclass

import httpx
import pytest
import requests

from benchmarks.flaky_api import FlakyAPI
from pipeloom import MsgTaskProgress, RetryAfter, TaskDef, run_pipeline

from .helpers import rows, statuses, wait_for


class Unprintable(Exception):
    """An exception whose text cannot be made: its `__str__` raises `kind`."""

    kind: type[BaseException] = ValueError

    def __str__(self) -> str:
        raise self.kind("no text")


class UnprintableExit(Unprintable):
    """The same, raising `SystemExit`, which `traceback`'s own guard lets through."""

    kind = SystemExit


@dataclass(frozen=True)
class MsgBad:
    """A domain message whose handler raises an `UnprintableExit`."""

    task_id: int


def failing_handler(conn, msg: MsgBad) -> None:
    """Handler: fails with an exception whose text cannot be made."""
    raise UnprintableExit


def predicate_that_raises(exc: BaseException) -> bool:
    """A `retry_on` with a bug of its own."""
    raise ZeroDivisionError("the predicate's own bug")


HOOKS = {
    "worker raises KeyboardInterrupt": (KeyboardInterrupt, {}, "KeyboardInterrupt"),
    "retry_on raises": (
        ConnectionError,
        {"retries": 2, "retry_backoff": 0.01, "retry_on": predicate_that_raises},
        "retry_on raised ZeroDivisionError: the predicate's own bug",
    ),
    "__str__ raises": (Unprintable, {}, "<unprintable Unprintable: its __str__ raised ValueError>"),
    "__str__ raises SystemExit": (
        UnprintableExit,
        {},
        "<unprintable UnprintableExit: its __str__ raised SystemExit>",
    ),
    "handler raises": (
        MsgBad,
        {"handlers": {MsgBad: failing_handler}},
        "MsgBad: UnprintableExit: <unprintable UnprintableExit: its __str__ raised SystemExit>",
    ),
}


def act(task: TaskDef, q) -> None:
    """Task 1 does what its name says: raise an exception of that type, or put that message."""
    q.put(MsgTaskProgress(task.task_id, 1, 1, "ran"))
    if task.task_id != 1:
        return
    what = HOOKS[task.name][0]
    if what is MsgBad:
        q.put(MsgBad(task.task_id))
    else:
        raise what()


def sync_worker(task, q) -> None:
    """`act` on a thread or in a pool process."""
    act(task, q)


async def async_worker(task, q) -> None:
    """`act` in a coroutine."""
    await asyncio.sleep(0)
    act(task, q)


EXECUTORS = {
    "threads": {"worker_fn": sync_worker},
    "coroutines": {"worker_fn": async_worker, "async_loop": "private"},
    "processes": {"worker_fn": sync_worker, "executor": "processes"},
}


def run_watched(db_path, tasks, seconds: float = 30, **kw):
    """`run_pipeline`, stopped if it has not ended after `seconds`: a hang fails, never hangs."""
    cancel = threading.Event()
    watchdog = threading.Timer(seconds, cancel.set)
    watchdog.start()
    try:
        summary = run_pipeline(
            db_path, tasks, cancel_event=cancel, cancel_grace=2, progress=False, **kw
        )
    finally:
        watchdog.cancel()
    assert not cancel.is_set(), "the run hung: the watchdog stopped it"
    return summary


@pytest.mark.parametrize("executor", list(EXECUTORS))
@pytest.mark.parametrize("hook", list(HOOKS))
def test_a_hook_that_throws_fails_its_task_and_the_worker_goes_on(db_path, hook, executor):
    _, options, expected = HOOKS[hook]
    summary = run_watched(
        db_path,
        [TaskDef(i, hook) for i in range(4)],
        workers=1,
        **EXECUTORS[executor],
        **options,
    )
    assert statuses(db_path) == {0: "done", 1: "error", 2: "done", 3: "done"}
    ((message, error),) = rows(db_path, "SELECT message, error FROM task_runs WHERE id = 1")
    assert expected in message, message
    assert error, "the task keeps a traceback"
    assert summary.status == "error" and summary.counts == {"done": 3, "error": 1}


def test_a_thrown_hook_on_the_current_loop_fails_its_task_only(db_path):
    async def main():
        return run_watched(
            db_path,
            [TaskDef(i, "retry_on raises") for i in range(3)],
            workers=1,
            worker_fn=async_worker,
            async_loop="current",
            **HOOKS["retry_on raises"][1],
        )

    summary = asyncio.run(main())
    assert statuses(db_path) == {0: "done", 1: "error", 2: "done"}
    assert summary.counts == {"done": 2, "error": 1}


RETRY_AFTER_9999 = "Fri, 31 Dec 9999 23:59:59 GMT"
PUSH_BACKS = {
    "RetryAfter(1e10)": None,
    "Retry-After: 99999999999": "99999999999",
    "Retry-After: year 9999": RETRY_AFTER_9999,
}


def push_back_worker(base: str | None, is_async: bool):
    """Task 0 is pushed back for centuries (by `RetryAfter`, or by the API at `base`)."""

    def sync_worker(task, q):
        if task.task_id == 0:
            if base is None:
                raise RetryAfter(1e10)
            requests.get(f"{base}/page/0", timeout=10).raise_for_status()

    async def async_worker(task, q):
        if task.task_id == 0:
            if base is None:
                raise RetryAfter(1e10)
            async with httpx.AsyncClient() as client:
                (await client.get(f"{base}/page/0", timeout=10)).raise_for_status()

    return async_worker if is_async else sync_worker


@pytest.mark.parametrize("executor", list(EXECUTORS))
@pytest.mark.parametrize("form", list(PUSH_BACKS))
def test_a_far_future_push_back_fails_its_task_naming_it_and_the_run_goes_on(
    db_path, form, executor
):
    options = dict(EXECUTORS[executor])
    is_async = options.pop("worker_fn") is async_worker
    with FlakyAPI(limit=0, retry_after=PUSH_BACKS[form] or 0) as api:
        base = None if PUSH_BACKS[form] is None else api.url
        t0 = time.monotonic()
        summary = run_watched(
            db_path,
            [TaskDef(i, f"t{i}") for i in range(6)],
            workers=2,
            worker_fn=push_back_worker(base, is_async),
            retries=3,
            **options,
        )
    assert time.monotonic() - t0 < 15
    assert statuses(db_path) == {0: "error", **{i: "done" for i in range(1, 6)}}
    ((message,),) = rows(db_path, "SELECT message FROM task_runs WHERE id = 0")
    said = "RetryAfter" if base is None else f"Retry-After: {PUSH_BACKS[form]}"
    assert f"({said}), more than max_retry_after=3600 s" in message, message
    assert summary.throttled == 0 and summary.status == "error"


def test_a_push_back_over_max_retry_after_is_not_obeyed(db_path):
    def worker(task, q):
        if task.task_id == 0:
            raise RetryAfter(5)

    t0 = time.monotonic()
    summary = run_watched(
        db_path,
        [TaskDef(i, f"t{i}") for i in range(4)],
        worker_fn=worker,
        retries=2,
        max_retry_after=1,
    )
    assert time.monotonic() - t0 < 4, "nothing waited for the 5 s push-back"
    assert summary.counts == {"done": 3, "error": 1}
    expected = "asked to wait 5 s (RetryAfter), more than max_retry_after=1 s"
    assert expected in summary.errors[0].message


def test_with_no_bound_a_push_back_for_centuries_waits_and_stop_still_ends_the_run(db_path):
    heard = threading.Event()
    cancel = threading.Event()

    def worker(task, q):
        if task.task_id == 0:
            heard.set()
            raise RetryAfter(1e10)

    def stop_once_held():
        if heard.wait(10) and wait_for(lambda: _attempts(db_path) >= 1, 10):
            cancel.set()

    stopper = threading.Thread(target=stop_once_held)
    stopper.start()
    t0 = time.monotonic()
    summary = run_pipeline(
        db_path,
        [TaskDef(i, f"t{i}") for i in range(4)],
        workers=1,
        worker_fn=worker,
        retries=1,
        max_retry_after=math.inf,
        cancel_event=cancel,
        cancel_grace=5,
        progress=False,
    )
    stopper.join(15)
    assert cancel.is_set() and time.monotonic() - t0 < 15
    assert summary.status == "cancelled" and summary.throttled == 1
    assert set(statuses(db_path).values()) == {"cancelled"}


def _attempts(db_path) -> int:
    try:
        return rows(db_path, "SELECT count(*) FROM task_attempts")[0][0]
    except Exception:  # the table is not there yet
        return 0


def test_more_than_a_thousand_retries_never_overflow_the_backoff(db_path):
    calls = {"n": 0}

    def worker(task, q):
        calls["n"] += 1
        if calls["n"] <= 1100:
            raise ConnectionError(f"flaky {calls['n']}")

    summary = run_watched(
        db_path, [TaskDef(0, "t0")], worker_fn=worker, retries=1200, retry_backoff=0.0
    )
    assert summary.ok and rows(db_path, "SELECT attempts FROM task_runs") == [(1101,)]


@pytest.mark.parametrize("hook", list(HOOKS))
def test_a_hook_that_throws_on_a_dask_cluster_fails_its_task_only(db_path, hook, dask_client):
    _, options, expected = HOOKS[hook]
    summary = run_watched(
        db_path,
        [TaskDef(i, hook) for i in range(4)],
        worker_fn=sync_worker,
        executor=dask_client,
        **options,
    )
    assert statuses(db_path) == {0: "done", 1: "error", 2: "done", 3: "done"}
    ((message,),) = rows(db_path, "SELECT message FROM task_runs WHERE id = 1")
    assert expected in message, message
    assert summary.counts == {"done": 3, "error": 1}
