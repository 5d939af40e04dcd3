"""Progress as ipywidgets: an overall bar, the tasks in flight, errors, Stop.

The engine's one ticker thread calls `update` at most ~10 times a second. A redraw sends
one comm message per widget that changed, and none for a value already shown: two per
redraw (the bar; the progress line with the tasks in flight), and errors when they change.
"""

from __future__ import annotations

import html
import threading

import ipywidgets as w

from pipeloom.progress.display import in_kernel, progress_line
from pipeloom.progress.snapshot import StatsSnapshot
from pipeloom.summary import RunSummary

from ..results import errors_html
from .bars import bars_html
from .kernel import UiEvents
from .shared import bar_layout, button_style, html_style, plain_layout, progress_style
from .sync import set_traits

__all__ = ["WidgetDisplay"]


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
        # Layouts and styles never change: one of each serves every display in the kernel.
        self._plain = plain_layout()
        self.title = self._html()
        self.overall = w.IntProgress(
            value=0, min=0, max=1, bar_style="info", layout=bar_layout(), style=progress_style()
        )
        self.status = self._html()
        """The progress line, then the tasks in flight (one message per redraw for both)."""
        self.stop_button = w.Button(
            description="Stop",
            icon="stop",
            button_style="warning",
            tooltip="Cancel tasks not yet started",
            layout=self._plain,
            style=button_style(),
        )
        self.stop_button.on_click(self._on_stop)
        self.errors: w.HTML | None = None
        """The first errors, added below the status at the run's first error."""
        self.bars = 0
        """How many tasks in flight are shown (as many as workers, up to `max_bars`)."""
        self.widget = w.VBox(
            [self.title, w.HBox([self.overall, self.stop_button], layout=self._plain), self.status],
            layout=self._plain,
        )
        self.redraws = 0
        """How many times the widget was redrawn."""
        self._errors_shown = 0

    def _html(self, value: str = "") -> w.HTML:
        return w.HTML(value, layout=self._plain, style=html_style())

    def _on_stop(self, _button: w.Button | None = None) -> None:
        self.stop_requested = True
        if self.cancel_event is not None:
            self.cancel_event.set()
        set_traits(self.stop_button, disabled=True, description="Stopping…")

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
        """Show the widget, with room for as many tasks in flight as workers (up to `max_bars`)."""
        self.cancel_event = cancel
        if self.stop_requested:
            cancel.set()
        self.show()
        self.title.value = f"<b>{html.escape(name)}</b>"
        self.bars = min(self.max_bars, max(1, workers))
        self._draw(snapshot)

    def update(self, snapshot: StatsSnapshot) -> None:
        """Redraw from a snapshot."""
        self._draw(snapshot)

    def _draw(self, s: StatsSnapshot, status: str | None = None, **overall: str) -> None:
        """Redraw: one message for the bar, one for the status (and errors when they change)."""
        self.redraws += 1
        set_traits(self.overall, max=_bar_max(s), value=s.completed, **overall)
        if status is None:
            status = f"<div>{html.escape(progress_line(s))}</div>{bars_html(s.bars[: self.bars])}"
        self.status.value = status
        if s.errors and len(s.errors) != self._errors_shown:
            self._errors_shown = len(s.errors)
            self._show_errors(_errors_html(s))

    def _show_errors(self, text: str) -> None:
        if self.errors is None:  # one widget fewer to open in a run without errors
            self.errors = self._html(text)
            self.widget.children += (self.errors,)
        else:
            self.errors.value = text

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
        ok = summary is not None and summary.ok
        final = str(summary) if summary is not None else progress_line(snapshot)
        self._draw(snapshot, html.escape(final), bar_style="success" if ok else "danger")
        stopped = self.cancel_event is not None and self.cancel_event.is_set()
        set_traits(
            self.stop_button,
            disabled=True,
            button_style="",
            description="Stopped" if stopped else "Finished",
        )

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
