"""How a run shows its progress: a small protocol, driven by one ticker thread at ~10 Hz.

The writer only updates counters (`RunStats`); a display reads snapshots of them. The
engine never imports Jupyter code: the notebook front end passes its own display.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any, Protocol, runtime_checkable

from .stats import RunStats, StatsSnapshot
from .summary import RunSummary

__all__ = ["Display", "LogDisplay", "NullDisplay", "Ticker", "choose_display"]

LOG = logging.getLogger("pipeloom.progress")


@runtime_checkable
class Display(Protocol):
    """A progress front end: `start` once, `update` at most ~10 times a second, `finish` once."""

    def start(self, snapshot: StatsSnapshot, *, name: str, workers: int) -> None:
        """The run begins."""

    def update(self, snapshot: StatsSnapshot) -> None:
        """Redraw from a snapshot."""

    def finish(self, snapshot: StatsSnapshot, summary: RunSummary | None) -> None:
        """The run ended; leave the final state visible."""


class NullDisplay:
    """Shows nothing."""

    def start(self, snapshot: StatsSnapshot, *, name: str, workers: int) -> None:
        """Nothing to show."""

    def update(self, snapshot: StatsSnapshot) -> None:
        """Nothing to show."""

    def finish(self, snapshot: StatsSnapshot, summary: RunSummary | None) -> None:
        """Nothing to show."""


class LogDisplay:
    """Plain log lines, for logs and pipes: one line every `every` seconds and one at the end."""

    def __init__(self, every: float = 5.0, logger: logging.Logger = LOG) -> None:
        self.every = every
        self.logger = logger
        self._last = 0.0

    def start(self, snapshot: StatsSnapshot, *, name: str, workers: int) -> None:
        """Log the start."""
        self.logger.info("run %s: %d tasks on %d workers", name, snapshot.total, workers)

    def update(self, snapshot: StatsSnapshot) -> None:
        """Log a progress line now and then."""
        if snapshot.elapsed - self._last >= self.every:
            self._last = snapshot.elapsed
            self.logger.info("%s", progress_line(snapshot))

    def finish(self, snapshot: StatsSnapshot, summary: RunSummary | None) -> None:
        """Log the summary."""
        self.logger.info("%s", summary if summary is not None else progress_line(snapshot))


def progress_line(s: StatsSnapshot) -> str:
    """`12/100 done 10 error 2 | 34.5 tasks/s | 3.1s elapsed | ETA 25s`."""
    eta = s.eta
    c = s.counts
    line = (
        f"{s.completed}/{s.total} done {c.get('done', 0)} error {c.get('error', 0)} "
        f"cancelled {c.get('cancelled', 0)} | {s.rate:.1f} tasks/s | {s.elapsed:.1f}s elapsed"
    )
    return line if eta is None else f"{line} | ETA {eta:.0f}s"


def choose_display(progress: Any) -> Any:
    """`True`/"auto": Rich on a terminal, log lines otherwise; `False`/None: nothing."""
    if progress is None or progress is False:
        return NullDisplay()
    if progress is True or progress == "auto":
        if sys.stderr.isatty() or sys.stdout.isatty():
            from .progress import RichDisplay

            return RichDisplay()
        return LogDisplay()
    if progress == "rich":
        from .progress import RichDisplay

        return RichDisplay()
    if progress == "log":
        return LogDisplay()
    if isinstance(progress, Display):
        return progress
    raise TypeError(
        f"progress must be True, False, 'auto', 'rich', 'log' or a Display, not {progress!r}"
    )


class Ticker(threading.Thread):
    """The one thread that redraws: calls `display.update` every `interval` seconds."""

    def __init__(self, display: Any, stats: RunStats, interval: float = 0.1, max_bars: int = 8):
        super().__init__(name="pipeloom-display", daemon=True)
        self.display = display
        self.stats = stats
        self.interval = interval
        self.max_bars = max_bars
        self._stop_event = threading.Event()
        self.updates = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        """Redraw until stopped; a failing display is logged once and stops redrawing."""
        while not self._stop_event.wait(self.interval):
            try:
                self.display.update(self.stats.snapshot(self.max_bars))
            except Exception as exc:
                self.error = exc
                LOG.warning("progress display failed: %s", exc, exc_info=True)
                return
            self.updates += 1

    def stop(self) -> None:
        """Stop redrawing and wait for the thread."""
        self._stop_event.set()
        if self.is_alive():
            self.join()
