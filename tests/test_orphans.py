"""A run whose process was killed (`kill -9`) is marked `interrupted` by the next run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil

from pipeloom import TaskDef, run_pipeline
from pipeloom.store.owner import process_start

from .helpers import rows, statuses

ROOT = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent("""
    import os, sys, time
    from pipeloom import MsgTaskStarted, TaskDef, run_pipeline

    release = sys.argv[2]

    def worker(task, q):
        if task.task_id == 0:
            return
        q.put(MsgTaskStarted(task.task_id, task.name, "2026-01-01T00:00:00+00:00"))
        deadline = time.monotonic() + 30
        while not os.path.exists(release) and time.monotonic() < deadline:
            time.sleep(0.02)

    run_pipeline(sys.argv[1], [TaskDef(i, f"t{i}") for i in range(4)], workers=2,
                 worker_fn=worker, progress=False, name=sys.argv[3])
""")


def start_child(db: Path, release: Path, name: str) -> subprocess.Popen:
    """A process running a pipeline whose tasks 1-3 wait for `release` to exist."""
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db), str(release), name],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def wait_running(db: Path, name: str, proc: subprocess.Popen) -> int:
    """The child's run id, once task 0 is done and tasks 1 and 2 are running."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the child ended early"
        try:
            got = rows(
                db,
                "SELECT t.run_id, t.id, t.status FROM task_runs t JOIN pipeline_runs p "
                "USING (run_id) WHERE p.name = ?",
                (name,),
            )
        except sqlite3.OperationalError:
            got = []
        status = {task: st for _, task, st in got}
        if status.get(0) == "done" and status.get(1) == status.get(2) == "running":
            return got[0][0]
        time.sleep(0.05)
    raise AssertionError("the child's run did not get going")


def test_a_killed_run_is_interrupted_by_the_next_and_a_live_one_is_not(db_path, tmp_path):
    release = tmp_path / "release"
    dead = start_child(db_path, release, "dead")
    live = start_child(db_path, release, "live")
    try:
        dead_id = wait_running(db_path, "dead", dead)
        live_id = wait_running(db_path, "live", live)
        os.kill(dead.pid, signal.SIGKILL)
        dead.wait(10)
        run_pipeline(db_path, [TaskDef(1, "x")], worker_fn=lambda t, q: None, progress=False)
        # task 3 had not started: rows are written when something happens to a task
        assert statuses(db_path, dead_id) == {0: "done", 1: "interrupted", 2: "interrupted"}
        assert rows(
            db_path, "SELECT status, tasks, done FROM pipeline_runs WHERE run_id=?", (dead_id,)
        ) == [("interrupted", 4, 1)]
        assert rows(db_path, "SELECT status FROM pipeline_runs WHERE run_id=?", (live_id,)) == [
            ("running",)
        ]
    finally:
        release.touch()
        live.wait(30)
        dead.kill()
        dead.wait(10)
    assert live.returncode == 0
    assert rows(db_path, "SELECT status FROM pipeline_runs WHERE run_id=?", (live_id,)) == [
        ("done",)
    ]


OLD_LAYOUT = """
CREATE TABLE pipeline_runs (
  run_id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, status TEXT NOT NULL,
  started_at TEXT NOT NULL, finished_at TEXT, workers INTEGER,
  tasks INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0,
  errors INTEGER NOT NULL DEFAULT 0, cancelled INTEGER NOT NULL DEFAULT 0,
  skipped INTEGER NOT NULL DEFAULT 0, elapsed_s REAL, params TEXT);
INSERT INTO pipeline_runs (name, status, started_at) VALUES ('old', 'running', '2026-01-01');
"""


def test_an_old_file_gains_the_owner_columns_and_its_unowned_runs_are_left_alone(db_path):
    conn = sqlite3.connect(db_path)
    conn.executescript(OLD_LAYOUT)
    conn.close()
    summary = run_pipeline(db_path, [TaskDef(1, "x")], worker_fn=lambda t, q: None, progress=False)
    assert summary.ok
    got = rows(db_path, "SELECT name, status, host, pid, pid_start FROM pipeline_runs")
    assert got[0] == ("old", "running", None, None, None)
    _, status, host, pid, start = got[1]
    me = psutil.Process()
    assert (status, pid) == ("done", me.pid) and host
    assert start == process_start(me.pid)


def test_a_reused_pid_does_not_keep_a_dead_run_alive(db_path):
    run_pipeline(db_path, [TaskDef(1, "x")], worker_fn=lambda t, q: None, progress=False)
    conn = sqlite3.connect(db_path)
    conn.execute(
        "INSERT INTO pipeline_runs (name, status, started_at, host, pid, pid_start) "
        "SELECT 'reused', 'running', started_at, host, pid, 'another-boot:1' FROM pipeline_runs"
    )
    conn.commit()
    conn.close()
    run_pipeline(db_path, [TaskDef(1, "x")], worker_fn=lambda t, q: None, progress=False)
    assert rows(db_path, "SELECT status FROM pipeline_runs WHERE name='reused'") == [
        ("interrupted",)
    ]
