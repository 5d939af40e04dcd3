"""The one thread that redraws a run's display, about ten times a second."""

from __future__ import annotations

import logging
import threading
from typing import Any

from .snapshot import RunStats

__all__ = ["Ticker"]

LOG = logging.getLogger("pipeloom.progress")


class Ticker(threading.Thread):
    """The one thread that redraws: calls `display.update` every `interval` seconds."""

    def __init__(self, display: Any, stats: RunStats, interval: float = 0.1, max_bars: int = 8):
        super().__init__(name="pipeloom-display", daemon=True)
        self.display = display
        self.stats = stats
        self.interval = interval
        self.max_bars = max_bars
        self._stop_event = threading.Event()

    def run(self) -> None:
        """Redraw until stopped; a failing display is logged once and stops redrawing."""
        while not self._stop_event.wait(self.interval):
            try:
                self.display.update(self.stats.snapshot(self.max_bars))
            except Exception as exc:
                LOG.warning("progress display failed: %s", exc, exc_info=True)
                return

    def stop(self) -> None:
        """Stop redrawing and wait for the thread."""
        self._stop_event.set()
        if self.is_alive():
            self.join()
