"""Terminal and log displays, driven by the engine's one ticker thread."""

from __future__ import annotations

import io
import logging

from rich.console import Console

from pipeloom import TaskDef, run_pipeline
from pipeloom.demo import demo_worker
from pipeloom.progress import LogDisplay, RichDisplay, choose_display


def test_rich_display_draws_overall_and_in_flight_bars(db_path):
    out = io.StringIO()
    display = RichDisplay(Console(file=out, force_terminal=True, width=100), max_bars=3)
    summary = run_pipeline(
        db_path,
        [TaskDef(i, f"job-{i}", steps=5) for i in range(6)],
        workers=3,
        worker_fn=demo_worker,
        progress=display,
    )
    text = out.getvalue()
    assert summary.ok
    assert "6/6" in text
    assert "job-" in text
    assert len(display.task_bars) == 3


def test_log_display_logs_the_summary(db_path, caplog):
    with caplog.at_level(logging.INFO, logger="pipeloom.progress"):
        run_pipeline(
            db_path,
            [TaskDef(1, "one")],
            worker_fn=lambda t, q: None,
            progress=LogDisplay(every=0.0),
        )
    assert any("done 1" in r.getMessage() for r in caplog.records)


def test_auto_display_is_log_lines_when_not_a_terminal():
    assert isinstance(choose_display("auto"), LogDisplay)
