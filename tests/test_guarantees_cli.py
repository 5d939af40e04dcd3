"""Issue 22, section 3: the CLI answers plainly, in a real `pipeloom` process.

Results go to stdout and diagnostics to stderr; a file that is not a database, or that
another process holds locked, is one line naming the file and the problem; run names are
printed as they are. `loom.compare` with a run that is not there says so.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time

import pytest
from rich.console import Console

from pipeloom import ConfigError, TaskDef, run_pipeline
from pipeloom.cli.status import recent_runs, watch
from pipeloom_nb import Loom

from .children import ROOT, Child, locker

NAMES = ["import [/data/in.csv]", "[bold]loud[/bold]", "[red]"]


def pipeloom(*args: str, cwd=None, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run the `pipeloom` command; its stdout and stderr apart."""
    env = dict(os.environ, COLUMNS="200", PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "pipeloom", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
    )


def recorded(db_path, names=("load",)) -> None:
    for name in names:
        run_pipeline(
            db_path, [TaskDef(1, "t1")], worker_fn=lambda t, q: None, name=name, progress=False
        )


@pytest.mark.parametrize(
    "args",
    [["status"], ["status", "--format", "json"], ["timeline", "-o", "run.svg"]],
    ids=["status", "status-json", "timeline"],
)
def test_results_go_to_stdout_and_nothing_to_stderr(db_path, args):
    recorded(db_path)
    done = pipeloom(*args, "--db", str(db_path), cwd=db_path.parent)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "load" in done.stdout or "wrote run.svg" in done.stdout


def test_status_can_be_redirected_to_a_file_and_grepped(db_path, tmp_path):
    recorded(db_path, ["nightly import", "other"])
    out = tmp_path / "runs.txt"
    shell = f"{sys.executable} -m pipeloom status --db {db_path} > {out}"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run(shell, shell=True, check=True, env=env, timeout=60)
    assert "nightly import" in out.read_text()
    grep = f"{sys.executable} -m pipeloom status --db {db_path} | grep nightly"
    found = subprocess.run(shell=True, args=grep, capture_output=True, text=True, env=env)
    assert found.returncode == 0 and "nightly import" in found.stdout


@pytest.mark.parametrize(
    "args",
    [["status"], ["status", "--format", "json"], ["timeline"], ["init-db"], ["demo", "-n", "2"]],
    ids=["status", "status-json", "timeline", "init-db", "demo"],
)
def test_a_file_that_is_not_a_database_is_one_line_naming_it(tmp_path, args):
    db = tmp_path / "notes.db"
    db.write_text("these are my notes, not a database\n" * 20)
    done = pipeloom(*args, "--db", str(db), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "notes.db" in last and "not a database" in last
    assert "Traceback" not in done.stderr and "╭" not in done.stderr


def test_names_with_brackets_are_printed_as_they_are(db_path):
    recorded(db_path, NAMES)
    done = pipeloom("status", "--db", str(db_path))
    assert done.returncode == 0, done.stderr
    for name in NAMES:
        assert name in done.stdout


def test_the_live_view_prints_names_as_they_are(db_path):
    recorded(db_path, NAMES)
    out = io.StringIO()
    watch(lambda: recent_runs(db_path, 5), Console(file=out, width=200), ticks=1)
    for name in NAMES:
        assert name in out.getvalue()


HOLDER = """
    import sqlite3, sys, time
    conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
    conn.execute("PRAGMA journal_mode=" + sys.argv[2])
    if sys.argv[3] == "exclusive-mode":
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE pipeline_runs SET name = name")
        conn.execute("COMMIT")
    else:
        conn.execute("BEGIN EXCLUSIVE")
    print("holding", flush=True)
    sys.stdin.readline()
"""
"""Holds the whole file: a write in rollback-journal mode, or WAL with locking_mode=EXCLUSIVE."""


@pytest.mark.parametrize(
    ("journal", "how"), [("DELETE", "exclusive"), ("WAL", "exclusive-mode")], ids=["delete", "wal"]
)
def test_status_on_a_locked_file_says_so_at_once_and_by_whom(db_path, journal, how):
    recorded(db_path)
    with Child(HOLDER, db_path, journal, how) as holder:
        holder.expect("holding")
        t0 = time.monotonic()
        done = pipeloom("status", "--db", str(db_path))
        took = time.monotonic() - t0
        holder.send("")
        assert holder.finish() == 0
    assert done.returncode == 2 and took < 10, (took, done.stderr)
    line = done.stderr.strip()
    assert "is locked by pid " + str(holder.pid) in line and "has no pipeloom" not in line


def test_status_reads_through_wal_while_a_writer_holds_the_lock(db_path):
    recorded(db_path)
    with locker(db_path) as other:
        other.send("lock")
        other.expect("locked")
        t0 = time.monotonic()
        done = pipeloom("status", "--db", str(db_path))
        took = time.monotonic() - t0
        other.send("release")
        other.expect("released")
    assert done.returncode == 0 and "load" in done.stdout and took < 10


def test_compare_with_a_run_that_is_not_there_names_it(db_path):
    recorded(db_path, ["a", "b"])
    loom = Loom(db_path, progress=False)
    assert len(loom.compare(1, 2).tasks) == 1
    with pytest.raises(ConfigError, match=r"no run 99 in .*test\.db"):
        loom.compare(1, 99)
    with pytest.raises(ConfigError, match=r"no run 7 and run 99"):
        loom.compare(7, 99)
