"""Progress in marimo: the same view as the widget's, in the running cell's output.

marimo lets only the cell's own thread (or a `marimo.Thread` it started, as `Loom.start`
does) write the cell's output, so the ticker thread just hands over its latest snapshot,
and the thread that waits for the run in `wait` draws it (at most as often as the ticker
snapshots, ~10 times a second).
`mo.output.replace` puts the view where `mo.status.progress_bar` would put its bar: a
progress bar shows one fraction, and this view shows the run's parts, its tasks in
flight and its errors. marimo's Interrupt reaches the run as a `KeyboardInterrupt`,
which cancels it: it is recorded `cancelled`.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from pipeloom.core.summary import RunSummary
from pipeloom.progress.snapshot import StatsSnapshot

from .render import errors_block, progress_html

__all__ = ["PIP_MARIMO", "MarimoDisplay"]

PIP_MARIMO = "pip install 'pipeloom-nb[marimo]'"
"""The command that installs marimo."""


def _marimo() -> Any:
    try:
        import marimo
    except ImportError as exc:
        raise ImportError(f"the marimo display needs marimo: {PIP_MARIMO}") from exc
    return marimo


class MarimoDisplay:
    """A `pipeloom.Display` for marimo notebooks: the run's view as the cell's output."""

    shows_run = False
    """marimo shows a cell's value in place of what the cell drew: a `RunResult` shown as
    the cell's value says it all."""

    def __init__(self, max_bars: int = 8) -> None:
        self._mo = _marimo()
        self.max_bars = max_bars
        self.name = ""
        """The run's name, shown before its bar."""
        self.bars = 0
        """How many tasks in flight are shown (as many as workers, up to `max_bars`)."""
        self.html = ""
        """What the cell's output shows now."""
        self.redraws = 0
        """How many times the output was redrawn."""
        self._latest: StatsSnapshot | None = None
        self._drawn: StatsSnapshot | None = None

    def start(
        self, snapshot: StatsSnapshot, *, name: str, workers: int, cancel: threading.Event
    ) -> None:
        """Show the view in the cell's output (marimo's Interrupt is the way to stop)."""
        self.name = name
        self.bars = min(self.max_bars, max(1, workers))
        self._draw(snapshot)

    def update(self, snapshot: StatsSnapshot) -> None:
        """Keep the snapshot for the cell's thread to draw (called by the ticker's thread)."""
        self._latest = snapshot

    def wait(self, seconds: float, until: threading.Event | None = None) -> None:
        """Draw the latest snapshot if it is new, then wait up to `seconds` or until `until`."""
        latest = self._latest
        if latest is not None and latest is not self._drawn:
            self._draw(latest)
        if until is not None:
            until.wait(seconds)
        elif seconds > 0:
            time.sleep(seconds)

    def finish(self, snapshot: StatsSnapshot, summary: RunSummary | None) -> None:
        """The final view: the bar's parts, the outcome in words, the errors."""
        self._draw(snapshot, summary.status if summary is not None else "failed")

    def _draw(self, s: StatsSnapshot, status: str | None = None) -> None:
        self._drawn = s
        text = progress_html(s, self.name, self.bars, status)
        if s.errors:
            text += errors_block(s.errors)
        if text != self.html:
            self.html = text
            self.redraws += 1
            self._mo.output.replace(self._mo.Html(text))
