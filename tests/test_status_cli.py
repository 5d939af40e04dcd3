"""`pipeloom status` at 80 columns, its live line, and `pipeloom timeline -o`."""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime, timedelta

from rich.console import Console
from typer.testing import CliRunner

from pipeloom import TaskDef, run_pipeline
from pipeloom.cli import app
from pipeloom.cli.status import live_line, recent_runs, watch

runner = CliRunner()
LONG = "__main__:load_orders_from_the_warehouse"


def run(db_path, n=4, name=LONG, worker=lambda t, q: None):
    return run_pipeline(
        db_path,
        [TaskDef(i, f"t{i}") for i in range(n)],
        worker_fn=worker,
        name=name,
        progress=False,
    )


def test_status_at_80_columns_keeps_names_and_dates_whole(db_path):
    run(db_path)
    result = runner.invoke(app, ["status", "--db", str(db_path)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "…" not in result.output
    started = recent_runs(db_path, 1)[0]["started_at"]
    assert started[5:19].replace("T", " ") in result.output
    head = lines[0]
    left, right = head.index("name"), head.index("status")
    assert "".join(line[left:right].strip() for line in lines[2:]) == LONG  # wrapped, whole


def test_status_when_wide_shows_every_count_and_the_year(db_path):
    run(db_path)
    result = runner.invoke(app, ["status", "--db", str(db_path)], env={"COLUMNS": "140"})
    assert "cancelled" in result.output and "started (UTC)" in result.output
    assert recent_runs(db_path, 1)[0]["started_at"][:10] in result.output


def test_live_line_gives_rate_and_eta():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    row = {
        "run_id": 3,
        "name": "load",
        "started_at": start.isoformat(),
        "elapsed_s": None,
        "tasks": 1000,
        "done": 240,
        "errors": 10,
        "cancelled": 0,
        "skipped": 0,
    }
    line = live_line(row, now=start + timedelta(seconds=10))
    assert "250/1,000 finished" in line and "25.0 tasks/s" in line and "ETA 30.0s" in line


def test_watch_shows_a_running_run_with_its_eta(db_path):
    release, began = threading.Event(), threading.Event()

    def worker(task, q):
        if task.task_id == 0:
            began.set()
            release.wait(10)

    t = threading.Thread(target=run, args=(db_path, 3, "live", worker))
    t.start()
    try:
        assert began.wait(10)
        out = io.StringIO()
        console = Console(file=out, width=80, force_terminal=False)
        watch(lambda: recent_runs(db_path, 5), console, interval=0.01, ticks=2)
    finally:
        release.set()
        t.join(10)
    assert "running" in out.getvalue() and "ETA" in out.getvalue()


def test_timeline_command_writes_png_and_svg(db_path, tmp_path):
    run(db_path, n=6)
    run(db_path, n=3)
    png, svg = tmp_path / "run.png", tmp_path / "run.svg"
    result = runner.invoke(app, ["timeline", "--db", str(db_path), "--run", "1", "-o", str(png)])
    assert result.exit_code == 0, result.output
    assert "run 1" in result.output and "6 tasks" in result.output
    assert png.read_bytes()[:4] == b"\x89PNG"
    result = runner.invoke(app, ["timeline", "--db", str(db_path), "-o", str(svg)])
    assert "run 2" in result.output and "<svg" in svg.read_text()


def test_timeline_command_errors_are_one_line(db_path, tmp_path):
    run(db_path)
    result = runner.invoke(app, ["timeline", "--db", str(db_path), "--run", "7"])
    assert result.exit_code == 2 and "no run 7" in result.output
    result = runner.invoke(app, ["timeline", "--db", str(db_path), "-o", str(tmp_path / "x.gif")])
    assert result.exit_code == 2 and "cannot save" in result.output
