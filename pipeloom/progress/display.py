"""How a run shows its progress: the `Display` protocol, its plain forms, and the choice.

The writer only updates counters (`RunStats`); one ticker thread hands snapshots of them
to the display about ten times a second. `choose_display("auto")` picks the front end
registered for the notebook it runs in (see `frontends`: ipywidgets in a Jupyter kernel,
marimo's output in a marimo notebook), Rich on a terminal, and log lines otherwise.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any, Protocol, runtime_checkable

from ..core.summary import RunSummary
from ..errors import ConfigError
from .frontends import detected_front_end, front_end
from .plain import PlainWait
from .snapshot import StatsSnapshot
from .words import progress_line

__all__ = ["Display", "LogDisplay", "NullDisplay", "choose_display", "in_notebook", "on_terminal"]

LOG = logging.getLogger("pipeloom.progress")


@runtime_checkable
class Display(Protocol):
    """A progress front end: `start` once, `update` at most ~10 times a second, `finish` once.

    `wait` is how the engine waits while a run lasts: a display that must handle events
    meanwhile (a notebook's Stop button) does it there.
    """

    def start(
        self, snapshot: StatsSnapshot, *, name: str, workers: int, cancel: threading.Event
    ) -> None:
        """The run begins; setting `cancel` stops it (a Stop button sets it)."""

    def update(self, snapshot: StatsSnapshot) -> None:
        """Redraw from a snapshot."""

    def wait(self, seconds: float, until: threading.Event | None = None) -> None:
        """Wait up to `seconds`, returning early once `until` is set."""

    def finish(self, snapshot: StatsSnapshot, summary: RunSummary | None) -> None:
        """The run ended; leave the final state visible."""


class NullDisplay(PlainWait):
    """Shows nothing."""

    def start(
        self, snapshot: StatsSnapshot, *, name: str, workers: int, cancel: threading.Event
    ) -> None:
        """Nothing to show."""

    def update(self, snapshot: StatsSnapshot) -> None:
        """Nothing to show."""

    def finish(self, snapshot: StatsSnapshot, summary: RunSummary | None) -> None:
        """Nothing to show."""


class LogDisplay(PlainWait):
    """Plain log lines, for logs and pipes: one line every `every` seconds and one at the end."""

    def __init__(self, every: float = 5.0, logger: logging.Logger = LOG) -> None:
        self.every = every
        self.logger = logger
        self._last = 0.0

    def start(
        self, snapshot: StatsSnapshot, *, name: str, workers: int, cancel: threading.Event
    ) -> None:
        """Log the start."""
        tasks = snapshot.total if snapshot.total_known else "an iterator of"
        self.logger.info("run %s: %s tasks on %d workers", name, tasks, workers)

    def update(self, snapshot: StatsSnapshot) -> None:
        """Log a progress line now and then."""
        if snapshot.elapsed - self._last >= self.every:
            self._last = snapshot.elapsed
            self.logger.info("%s", progress_line(snapshot))

    def finish(self, snapshot: StatsSnapshot, summary: RunSummary | None) -> None:
        """Log the summary."""
        self.logger.info("%s", summary if summary is not None else progress_line(snapshot))


def on_terminal() -> bool:
    """True when stderr or stdout is a terminal (Rich draws there)."""
    return sys.stderr.isatty() or sys.stdout.isatty()


def in_notebook() -> bool:
    """True inside a notebook that a registered front end draws in (Jupyter, marimo)."""
    return detected_front_end(load=not on_terminal()) is not None


def choose_display(progress: Any = "auto") -> Display:
    """The display for `progress=`: a `Display` as it is, or made from a name.

    "auto" (or True): the notebook's front end (ipywidgets in a Jupyter kernel, marimo's
    output in marimo), Rich on a terminal, log lines otherwise; "widgets", "marimo",
    "rich", "log" choose one; False or None show nothing.
    """
    if isinstance(progress, Display):
        return progress
    if progress is None or progress is False:
        return NullDisplay()
    if progress is True or progress == "auto":
        found = detected_front_end(load=not on_terminal())
        if found is not None:
            return found.make()
        progress = "rich" if on_terminal() else "log"
    if progress == "rich":
        from .terminal import RichDisplay

        return RichDisplay()
    if progress == "log":
        return LogDisplay()
    named = front_end(progress) if isinstance(progress, str) else None
    if named is not None:
        return named.make()
    raise ConfigError(
        "progress must be True, False, None, 'auto', 'widgets', 'marimo', 'rich', 'log' or a "
        f"Display, not {progress!r}"
    )
