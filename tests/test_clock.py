"""`utc_now` and `iso_ns`: the text of `datetime.now(UTC).isoformat()`, always with microseconds."""

from __future__ import annotations

import re
import sqlite3
import time
from datetime import UTC, datetime, timedelta

from pipeloom import MsgTaskFinished, MsgTaskStarted, TaskDef, run_pipeline
from pipeloom.core.clock import iso_ns, utc_now

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")


def test_utc_now_is_iso_utc_and_close_to_datetime():
    before = datetime.now(UTC)
    text = utc_now()
    after = datetime.now(UTC)
    assert ISO.match(text), text
    assert before - timedelta(milliseconds=1) <= datetime.fromisoformat(text) <= after


def test_utc_now_moves_on_across_seconds_and_never_goes_back():
    stamps = []
    end = time.monotonic() + 1.2  # crosses at least one second boundary
    while time.monotonic() < end:
        stamps.append(utc_now())
        time.sleep(0.001)
    parsed = [datetime.fromisoformat(s) for s in stamps]
    assert parsed == sorted(parsed)
    assert len({p.second for p in parsed}) >= 2


def test_iso_ns_formats_a_time_ns_as_utc_now_does():
    ns = time.time_ns()
    assert ISO.match(iso_ns(ns))
    assert datetime.fromisoformat(iso_ns(ns)) == datetime.fromtimestamp(ns // 1000 / 1e6, UTC)
    assert iso_ns(1_767_225_599_999_999_000) == "2025-12-31T23:59:59.999999+00:00"


def test_every_recorded_time_of_a_run_is_iso_utc_inside_the_run(tmp_path):
    """Times a worker stamps (ints) and times the writer records (text) agree, for tasks that
    send nothing, that send their own times, and that fail once before succeeding."""
    failed: set[int] = set()

    def worker(task, q):
        if task.task_id % 3 == 1:
            q.put(MsgTaskStarted(task.task_id, task.name, utc_now()))
            q.put(MsgTaskFinished(task.task_id, "done", utc_now()))
        elif task.task_id % 3 == 2 and task.task_id not in failed:
            failed.add(task.task_id)
            raise RuntimeError("once")

    db = tmp_path / "times.db"
    before = datetime.now(UTC)
    s = run_pipeline(
        db,
        [TaskDef(i, f"t{i}") for i in range(30)],
        workers=3,
        worker_fn=worker,
        progress=False,
        retries=1,
        retry_backoff=0,
    )
    after = datetime.now(UTC)
    conn = sqlite3.connect(db)
    spans = conn.execute("SELECT started_at, finished_at FROM task_runs").fetchall()
    spans += conn.execute("SELECT started_at, finished_at FROM task_attempts").fetchall()
    conn.close()
    assert s.counts == {"done": 30} and len(spans) == 30 + 2 * 10
    for start, end in spans:
        assert ISO.match(start) and ISO.match(end), (start, end)
        assert before <= datetime.fromisoformat(start) <= datetime.fromisoformat(end) <= after
