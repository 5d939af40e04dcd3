"""Terminal progress with Rich: a sticky overall bar and bars for the tasks in flight only."""

from __future__ import annotations

import threading
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ..core.summary import RunSummary
from ..rlog import get_console
from .plain import PlainWait
from .snapshot import StatsSnapshot
from .words import duration, eta_text, outcome_text, resumed_text

__all__ = [
    "RichDisplay",
    "make_overall_progress",
    "make_task_progress",
    "preregister_task_bars",
]


def make_overall_progress(console: Console | None = None, remaining: bool = True) -> Progress:
    """The sticky overall bar: M/N, percent, elapsed and (`remaining`) Rich's own ETA."""
    columns = [
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        *([TimeRemainingColumn()] if remaining else []),
        TextColumn("{task.fields[extra]}"),
    ]
    return Progress(*columns, console=console or get_console(), auto_refresh=False)


def make_task_progress(console: Console | None = None) -> Progress:
    """Per-task bars (transient: they vanish when the run ends)."""
    return Progress(
        TextColumn("  {task.description}", markup=False),
        BarColumn(bar_width=30),
        TaskProgressColumn(),
        TextColumn("{task.fields[message]}", markup=False),
        console=console or get_console(),
        transient=True,
        auto_refresh=False,
    )


def preregister_task_bars(progress: Progress, n: int) -> dict[int, TaskID]:
    """Create `n` hidden bars up front (pipeloom 0.0.x); TaskID 0 is valid, test `is not None`."""
    return {
        i: progress.add_task(f"task {i}", total=100, visible=False, message="")
        for i in range(1, n + 1)
    }


class RichDisplay(PlainWait):
    """A `Display` for terminals: reuses a fixed pool of bars for the tasks in flight.

    The overall bar counts this run's tasks; skipped ones, the ETA (from this run's rate)
    and the outcome are said beside it.
    """

    def __init__(self, console: Console | None = None, max_bars: int = 8) -> None:
        self.console = console or get_console()
        self.max_bars = max_bars
        self.overall = make_overall_progress(self.console, remaining=False)
        self.tasks = make_task_progress(self.console)
        self._live: Live | None = None
        self._overall_id: TaskID | None = None
        self.task_bars: list[TaskID] = []
        """The reused bars for tasks in flight (as many as workers, up to `max_bars`)."""

    def start(
        self, snapshot: StatsSnapshot, *, name: str, workers: int, cancel: threading.Event
    ) -> None:
        """Open the live area."""
        self._overall_id = self.overall.add_task(escape(name), total=_total(snapshot), extra="")
        self.task_bars = [
            self.tasks.add_task("", total=100, visible=False, message="")
            for _ in range(min(self.max_bars, max(1, workers)))
        ]
        self._live = Live(
            Group(self.overall, self.tasks),
            console=self.console,
            auto_refresh=False,
            transient=False,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._live.start()

    def update(self, snapshot: StatsSnapshot) -> None:
        """Move the bars to the snapshot and redraw once."""
        self._draw(snapshot)
        if self._live is not None:
            self._live.refresh()

    def _draw(self, snapshot: StatsSnapshot, status: str | None = None) -> None:
        self.overall.update(
            self._overall_id,
            total=_total(snapshot),
            completed=snapshot.completed - snapshot.skipped,
            extra=escape(_beside(snapshot, status)),
        )
        for tid, bar in zip(self.task_bars, _pad(snapshot.bars, len(self.task_bars)), strict=True):
            if bar is None:
                self.tasks.update(tid, visible=False)
            else:
                self.tasks.update(
                    tid,
                    description=bar.name,
                    completed=100 * bar.fraction,
                    message=f"{duration(bar.elapsed)} {bar.message}",
                    visible=True,
                )

    def finish(self, snapshot: StatsSnapshot, summary: RunSummary | None) -> None:
        """Draw the final state, drop the task bars, leave the overall bar."""
        self._draw(snapshot, summary.status if summary is not None else "failed")
        for tid in self.task_bars:
            self.tasks.update(tid, visible=False)
        if self._live is not None:
            self._live.refresh()
            self._live.stop()
            self._live = None


def _total(snapshot: StatsSnapshot) -> int | None:
    """The bar's total, this run's tasks: None (a pulsing bar) while they still come from an
    iterator."""
    return snapshot.total - snapshot.skipped if snapshot.total_known else None


def _beside(s: StatsSnapshot, status: str | None) -> str:
    """`4 error · 8 running · ETA ≥ 52s · resuming run 12: 2,996 done before`, or the outcome."""
    if status is not None:
        return " · ".join(filter(None, (outcome_text(status, s), resumed_text(s))))
    errors = s.counts.get("error", 0)
    return " · ".join(
        filter(
            None,
            (
                f"{errors:,} error" if errors else "",
                f"{s.in_flight:,} running" if s.in_flight else "",
                eta_text(s),
                resumed_text(s),
            ),
        )
    )


def _pad(items: list[Any], n: int) -> list[Any]:
    return (list(items) + [None] * n)[:n]
