"""Issue 13 §1-2 against a real flaky HTTP API on 127.0.0.1: rate=, Retry-After, retry_on,
backoff, timeout= on threads, coroutines and processes."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
import urllib.request

import httpx
import pytest
import requests

from benchmarks.flaky_api import FlakyAPI
from pipeloom import MsgTaskProgress, RetryAfter, RunEnded, TaskDef, run_pipeline
from pipeloom.execution.retry import RetryPolicy, is_transient, server_delay

from .helpers import rows


def pages(n: int) -> list[TaskDef]:
    return [TaskDef(i, f"page {i}") for i in range(n)]


def fetch_with_requests(base: str):
    def worker(task, q):
        r = requests.get(f"{base}/page/{task.task_id}", timeout=10)
        r.raise_for_status()

    return worker


def test_rate_and_retry_after_load_every_page_with_no_429_failures(db_path):
    with FlakyAPI(limit=20, retry_after=0.3) as api:
        summary = run_pipeline(
            db_path,
            pages(60),
            workers=8,
            worker_fn=fetch_with_requests(api.url),
            rate=30,
            retries=3,
            retry_backoff=0.05,
            progress=False,
        )
    assert summary.ok and summary.done == 60
    assert api.counts["429"] >= 1, "the rate was above the server's limit: it pushed back"
    assert summary.throttled == api.counts["429"]
    assert api.counts["429"] < 20, "the run slowed down instead of hammering the server"
    (params,) = rows(db_path, "SELECT params FROM pipeline_runs")[0]
    assert json.loads(params)["throttled"] == summary.throttled


def test_push_back_is_shown_on_the_task_while_it_waits(db_path):
    seen = threading.Event()

    def worker(task, q):
        if task.task_id == 0 and not seen.is_set():
            seen.set()
            raise RetryAfter(0.4)

    def watch(db):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                got = rows(db, "SELECT message FROM task_runs WHERE id = 0")
            except sqlite3.OperationalError:
                got = []
            if got and got[0][0].startswith("rate limited: waiting 0.4 s"):
                return got[0][0]
            time.sleep(0.02)
        return None

    found: list = []
    t = threading.Thread(target=lambda: found.append(watch(db_path)))
    t.start()
    summary = run_pipeline(db_path, pages(3), worker_fn=worker, retries=1, progress=False)
    t.join(10)
    assert summary.ok and summary.throttled == 1
    assert found == ["rate limited: waiting 0.4 s"]


def test_rate_spaces_task_starts_on_threads(db_path):
    starts: list[float] = []

    def worker(task, q):
        starts.append(time.monotonic())

    run_pipeline(db_path, pages(11), workers=8, worker_fn=worker, rate=20, progress=False)
    starts.sort()
    assert starts[-1] - starts[0] >= 10 / 20 * 0.9


def test_q_throttle_takes_a_start_per_request_in_processes(db_path):
    with FlakyAPI(limit=1000) as api:
        base = api.url

        def worker(task, q):
            for i in range(3):
                if i:
                    q.throttle()
                urllib.request.urlopen(f"{base}/page/{task.task_id * 10 + i}", timeout=10).read()

        t0 = time.monotonic()
        summary = run_pipeline(
            db_path,
            pages(4),
            workers=2,
            worker_fn=worker,
            executor="processes",
            rate=20,
            progress=False,
        )
        elapsed = time.monotonic() - t0
    assert summary.ok and api.counts["200"] == 12
    assert elapsed >= 11 / 20 * 0.9


def test_server_errors_are_retried_and_client_errors_are_not(db_path):
    with FlakyAPI(limit=1000, fails=1) as api:

        async def worker(task, q):
            path = "/nope" if task.task_id == 3 else f"/fail/{task.task_id}"
            async with httpx.AsyncClient() as client:
                r = await client.get(api.url + path, timeout=10)
                r.raise_for_status()

        summary = run_pipeline(
            db_path, pages(4), worker_fn=worker, retries=2, retry_backoff=0.01, progress=False
        )
    assert summary.counts == {"done": 3, "error": 1}
    assert rows(db_path, "SELECT id, attempts FROM task_runs ORDER BY id") == [
        (0, 2),
        (1, 2),
        (2, 2),
        (3, 1),
    ]


def test_retry_on_and_what_the_default_retries():
    assert not is_transient(ValueError("bad row")) and not is_transient(KeyError("x"))
    assert is_transient(ConnectionError()) and is_transient(TimeoutError())
    assert is_transient(RuntimeError("flaky")) and is_transient(RetryAfter(1))
    assert is_transient(httpx.ConnectTimeout("slow")) and is_transient(requests.Timeout())
    r = requests.Response()
    r.status_code, r.headers["Retry-After"] = 429, "Wed, 21 Oct 2099 07:28:00 GMT"
    err = requests.HTTPError(response=r)
    assert is_transient(err) and server_delay(err) > 1e6
    r.status_code = 404
    assert not is_transient(err) and server_delay(err) is None
    assert RetryPolicy(retry_on=(KeyError,)).wants(KeyError())
    assert not RetryPolicy(retry_on=lambda e: False).wants(OSError())
    delays = [RetryPolicy(backoff=1, max_delay=5).delay(n) for n in (1, 2, 3, 10)]
    assert 1 <= delays[0] <= 2 and 2 <= delays[1] <= 3 and delays[3] == 5


def test_a_hanging_page_times_out_on_threads_and_its_thread_is_abandoned(db_path):
    with FlakyAPI(limit=1000) as api:

        def worker(task, q):
            path = "/hang" if task.task_id == 0 else f"/page/{task.task_id}"
            requests.get(api.url + path, timeout=30).raise_for_status()

        t0 = time.monotonic()
        summary = run_pipeline(
            db_path,
            pages(6),
            workers=2,
            worker_fn=worker,
            timeout=0.4,
            retries=1,
            retry_backoff=0.01,
            progress=False,
        )
        elapsed = time.monotonic() - t0
    assert elapsed < 0.8 + 1.5
    assert summary.counts == {"done": 5, "error": 1}
    assert (summary.timed_out, summary.abandoned) == (2, 2)
    ((status, attempts, error),) = rows(
        db_path, "SELECT status, attempts, error FROM task_runs WHERE id = 0"
    )
    assert (status, attempts) == ("error", 2) and "TimeoutError" in error


def test_a_timed_out_attempts_later_messages_are_refused_not_written(db_path):
    late_put = threading.Event()
    release = threading.Event()
    calls, refused = [], []

    def worker(task, q):
        calls.append(task.task_id)
        if calls.count(0) == 1 and task.task_id == 0:
            release.wait(10)
            try:
                q.put(MsgTaskProgress(0, 1, 1, "late"))
            except RunEnded as exc:
                refused.append(str(exc))
            late_put.set()
        elif task.task_id == 0:
            release.set()
            late_put.wait(5)

    summary = run_pipeline(
        db_path, pages(1), worker_fn=worker, timeout=0.3, retries=1, progress=False
    )
    assert summary.ok and late_put.is_set()
    assert rows(db_path, "SELECT message FROM task_runs") != [("late",)]
    assert refused and "abandoned" in refused[0]


def test_an_async_attempt_past_its_timeout_is_cancelled(db_path):
    async def worker(task, q):
        await asyncio.sleep(30 if task.task_id == 0 else 0)

    t0 = time.monotonic()
    summary = run_pipeline(db_path, pages(3), worker_fn=worker, timeout=0.3, progress=False)
    assert time.monotonic() - t0 < 3
    assert summary.counts == {"done": 2, "error": 1}
    assert (summary.timed_out, summary.abandoned) == (1, 0)
    assert "cancelled" in summary.errors[0].message


def test_a_process_attempt_past_its_timeout_fails_and_the_run_ends(db_path):
    def worker(task, q):
        time.sleep(20 if task.task_id == 0 else 0.01)

    t0 = time.monotonic()
    summary = run_pipeline(
        db_path,
        pages(4),
        workers=2,
        worker_fn=worker,
        executor="processes",
        timeout=0.5,
        progress=False,
    )
    assert time.monotonic() - t0 < 10
    assert summary.counts == {"done": 3, "error": 1} and summary.timed_out == 1
    again = run_pipeline(
        db_path, pages(2), worker_fn=lambda t, q: None, executor="processes", progress=False
    )
    assert again.ok


@pytest.mark.parametrize("bad", [{"rate": 0}, {"timeout": -1}, {"retry_on": 3}])
def test_bad_limits_are_config_errors(db_path, bad):
    from pipeloom import ConfigError

    with pytest.raises(ConfigError):
        run_pipeline(db_path, pages(1), worker_fn=lambda t, q: None, **bad)


def test_the_fanout_benchmark_loads_every_page_and_a_rerun_does_not_duplicate(tmp_path):
    """`python -m benchmarks.fanout` at 16 pages: the same map, run twice."""
    from benchmarks.fanout import measure

    res = measure(tmp_path / "fanout.db", pages=16)
    first, second = res["runs"]
    for run in (first, second):
        assert (run["loaded"], run["failed"]) == (16, 0)
        assert run["429_obeyed"] == run["429_received"]
        assert run["rows"] == run["distinct_ids"] == 16 * 3
    assert (first["hung"], first["timed_out"]) == (1, 1)
