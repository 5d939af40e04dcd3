"""Progress as ipywidgets: an overall bar, reused bars for tasks in flight, errors, Stop.

The engine's one ticker thread calls `update` at most ~10 times a second; a trait set to
its current value sends nothing, so comm traffic stays far below what the server drops.
"""

from __future__ import annotations

import html
import threading

import ipywidgets as w

from pipeloom.progress.display import in_kernel, progress_line
from pipeloom.progress.snapshot import BarState, StatsSnapshot
from pipeloom.summary import RunSummary

from ..results import errors_html
from .kernel import UiEvents

__all__ = ["WidgetDisplay"]

_HIDDEN = "none"


class _TaskBar:
    """One reusable row: name, bar, message."""

    def __init__(self) -> None:
        self.bar = w.FloatProgress(value=0.0, min=0.0, max=1.0, layout=w.Layout(width="40%"))
        self.label = w.Label(layout=w.Layout(width="20%"))
        self.message = w.Label()
        self.box = w.HBox([self.label, self.bar, self.message], layout=w.Layout(display=_HIDDEN))

    def show(self, state: BarState | None) -> None:
        if state is None:
            self.box.layout.display = _HIDDEN
            return
        self.label.value = state.name
        self.bar.value = state.fraction
        self.message.value = state.message
        self.box.layout.display = None


class WidgetDisplay:
    """A `pipeloom.Display` for notebooks; `widget` is the box it shows.

    The engine hands it the run's cancel event at `start`; the Stop button sets it.
    """

    def __init__(self, max_bars: int = 8) -> None:
        self.cancel_event: threading.Event | None = None
        self.stop_requested = False
        """True once Stop was clicked (before the run started, it cancels it at `start`)."""
        self.max_bars = max_bars
        self._shown = False
        self._ui: UiEvents | None = None
        self.title = w.HTML()
        self.overall = w.IntProgress(
            value=0, min=0, max=1, bar_style="info", layout=w.Layout(width="60%")
        )
        self.status = w.HTML()
        self.stop_button = w.Button(
            description="Stop",
            icon="stop",
            button_style="warning",
            tooltip="Cancel tasks not yet started",
        )
        self.stop_button.on_click(self._on_stop)
        self.errors = w.HTML(layout=w.Layout(display=_HIDDEN))
        self.rows: list[_TaskBar] = []
        self.task_box = w.VBox()
        self.widget = w.VBox(
            [
                self.title,
                w.HBox([self.overall, self.stop_button]),
                self.status,
                self.task_box,
                self.errors,
            ]
        )
        self.redraws = 0
        """How many times `update` changed something."""

    def _on_stop(self, _button: w.Button | None = None) -> None:
        self.stop_requested = True
        if self.cancel_event is not None:
            self.cancel_event.set()
        self.stop_button.disabled = True
        self.stop_button.description = "Stopping…"

    def show(self) -> None:
        """Show the widget in the current cell's output, once (later calls do nothing)."""
        if not self._shown:
            self._shown = True
            if in_kernel():  # elsewhere display() would print the widget's repr
                from IPython.display import display

                display(self.widget)

    def start(
        self, snapshot: StatsSnapshot, *, name: str, workers: int, cancel: threading.Event
    ) -> None:
        """Build the bars (as many as workers, up to `max_bars`) and show the widget."""
        self.cancel_event = cancel
        if self.stop_requested:
            cancel.set()
        self.show()
        self.title.value = f"<b>{html.escape(name)}</b>"
        self.rows = [_TaskBar() for _ in range(min(self.max_bars, max(1, workers)))]
        self.task_box.children = [r.box for r in self.rows]
        self.overall.max = _bar_max(snapshot)
        self._draw(snapshot)

    def update(self, snapshot: StatsSnapshot) -> None:
        """Redraw from a snapshot."""
        self._draw(snapshot)

    def _draw(self, s: StatsSnapshot) -> None:
        self.redraws += 1
        self.overall.max = _bar_max(s)
        self.overall.value = s.completed
        self.status.value = html.escape(progress_line(s))
        bars = s.bars[: len(self.rows)]
        for row, state in zip(self.rows, bars + [None] * (len(self.rows) - len(bars)), strict=True):
            row.show(state)
        if s.errors:
            self.errors.layout.display = None
            self.errors.value = _errors_html(s)

    def wait(self, seconds: float, until: threading.Event | None = None) -> None:
        """Wait up to `seconds` or until `until` is set, letting a click on Stop through."""
        if self._ui is None:
            self._ui = UiEvents()
        self._ui.wait(seconds, until)

    def finish(self, snapshot: StatsSnapshot, summary: RunSummary | None) -> None:
        """Final state: green when all done, red otherwise; bars hidden, Stop disabled."""
        if self._ui is not None:
            self._ui.close()
            self._ui = None
        self._draw(snapshot)
        for row in self.rows:
            row.show(None)
        ok = summary is not None and summary.ok
        self.overall.bar_style = "success" if ok else "danger"
        self.stop_button.disabled = True
        self.stop_button.button_style = ""
        stopped = self.cancel_event is not None and self.cancel_event.is_set()
        self.stop_button.description = "Stopped" if stopped else "Finished"
        if summary is not None:
            self.status.value = html.escape(str(summary))

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def _bar_max(s: StatsSnapshot) -> int:
    """The bar's end: the total; while tasks still come from an iterator, the tasks completed
    (a full bar in the `info` colour, as tqdm shows a loop of unknown length)."""
    return max(1, s.total if s.total_known else s.completed)


def _errors_html(s: StatsSnapshot, limit: int = 5) -> str:
    items = errors_html(s.errors, limit)
    more = len(s.errors) - limit
    tail = f"<i>… and {more} more (see result.errors)</i>" if more > 0 else ""
    return f"<div style='color:#c62828'><b>{len(s.errors)} error(s)</b>{items}{tail}</div>"
