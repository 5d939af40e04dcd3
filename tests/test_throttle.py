"""The run's `Throttle`: a push-back holds every start, then starts resume spaced, not at once."""

from __future__ import annotations

import io
import itertools

from rich.console import Console

from pipeloom import TaskDef, run_pipeline
from pipeloom.execution.throttle import Throttle
from pipeloom.progress.terminal import RichDisplay


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_starts_after_a_hold_are_spaced_at_the_slowed_rate():
    clock = Clock()
    throttle = Throttle(10.0, clock=clock)
    throttle.push_back(5.0)
    starts = [clock.now + throttle.reserve() for _ in range(4)]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert starts[0] == 105.0  # the hold
    assert all(g >= 0.19 for g in gaps), gaps  # half the rate: 5 a second, not all at once


def test_a_push_back_in_a_runs_first_moments_keeps_a_fair_rate():
    clock = Clock()
    throttle = Throttle(None, clock=clock)
    for _ in range(8):  # eight starts within 10 ms of the run's start
        throttle.reserve()
        clock.now += 0.00125
    throttle.push_back(0.0)
    assert throttle.rate >= 100  # 8 starts in 10 ms, not "8 a second"


def test_rich_prints_names_with_brackets_as_text(db_path):
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    tasks = [TaskDef(i, f"import [/data/in{i}.csv]") for i in range(2)]
    summary = run_pipeline(
        db_path, tasks, worker_fn=lambda t, q: None, progress=RichDisplay(console),
        name="import [/data/in.csv] [bold]",
    )  # fmt: skip
    assert summary.ok
    assert "import [/data/in.csv] [bold]" in out.getvalue()
