"""`make bench`: how long a 100,000-task run's timeline takes to read, shape and draw."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from benchmarks.common import fresh_db, run_tasks
from pipeloom.timeline import Timeline
from pipeloom.timeline.data import build
from pipeloom.timeline.load import load_run


def draw_time(tmp: Path, n_tasks: int) -> dict:
    """Seconds to load the run, to build the chart's data, and to draw it as a PNG."""
    db = run_tasks(fresh_db(tmp, "timeline"), n_tasks, lambda t, q: None, 4).db_path
    t0 = time.perf_counter()
    record = load_run(db)
    t1 = time.perf_counter()
    chart = Timeline(build(record, pd.Timestamp.now("UTC")))
    t2 = time.perf_counter()
    chart.to_png()
    t3 = time.perf_counter()
    return {"tasks": n_tasks, "load_s": t1 - t0, "build_s": t2 - t1, "draw_s": t3 - t2}
