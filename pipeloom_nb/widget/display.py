"""Progress as ipywidgets: the run's view (name, stacked bar, state, progress line, tasks in
flight), the Stop button beside it, and its errors under it.

The engine's one ticker thread calls `update` at most ~10 times a second. A redraw sends
one comm message, the view's, and none when nothing changed; the errors block is sent
again only when a new error comes.
"""

from __future__ import annotations

import threading

import ipywidgets as w

from pipeloom.core.summary import RunSummary
from pipeloom.progress.snapshot import StatsSnapshot

from ..render import errors_block, progress_html
from ..where import in_kernel
from .kernel import UiEvents
from .shared import button_style, html_style, plain_layout, row_layout, view_layout
from .sync import set_traits

__all__ = ["WidgetDisplay"]


class WidgetDisplay:
    """A `pipeloom.Display` for notebooks; `widget` is the box it shows.

    The engine hands it the run's cancel event at `start`; the Stop button sets it.
    """

    shows_run = True
    """The run's final state, errors included, stays in view: a `RunResult` shown after it
    says only the outcome."""

    def __init__(self, max_bars: int = 8) -> None:
        self.cancel_event: threading.Event | None = None
        self.stop_requested = False
        """True once Stop was clicked (before the run started, it cancels it at `start`)."""
        self.max_bars = max_bars
        self.name = ""
        """The run's name, shown before its bar."""
        self._shown = False
        self._ui: UiEvents | None = None
        # Layouts and styles never change: one of each serves every display in the kernel.
        self._plain = plain_layout()
        self.view = w.HTML("", layout=view_layout(), style=html_style())
        """The run's name, bar and state, its progress line, and its tasks in flight."""
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
        """The first errors, added under the view at the run's first error."""
        self.bars = 0
        """How many tasks in flight are shown (as many as workers, up to `max_bars`)."""
        self.widget = w.VBox(
            [w.HBox([self.view, self.stop_button], layout=row_layout())], layout=self._plain
        )
        self.redraws = 0
        """How many times the widget was redrawn."""
        self._errors_shown = 0

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
        self.name = name
        self.bars = min(self.max_bars, max(1, workers))
        self._draw(snapshot)

    def update(self, snapshot: StatsSnapshot) -> None:
        """Redraw from a snapshot."""
        self._draw(snapshot)

    def _draw(self, s: StatsSnapshot, status: str | None = None) -> None:
        """Redraw: one message for the view, and the errors when a new one came."""
        self.redraws += 1
        set_traits(self.view, value=progress_html(s, self.name, self.bars, status))
        if s.errors and len(s.errors) != self._errors_shown:
            self._errors_shown = len(s.errors)
            self._show_errors(errors_block(s.errors))

    def _show_errors(self, text: str) -> None:
        if self.errors is None:  # one widget fewer to open in a run without errors
            self.errors = w.HTML(text, layout=self._plain, style=html_style())
            self.widget.children += (self.errors,)
        else:
            self.errors.value = text

    def wait(self, seconds: float, until: threading.Event | None = None) -> None:
        """Wait up to `seconds` or until `until` is set, letting a click on Stop through."""
        if self._ui is None:
            self._ui = UiEvents()
        self._ui.wait(seconds, until)

    def finish(self, snapshot: StatsSnapshot, summary: RunSummary | None) -> None:
        """Final state: the bar's parts and the outcome in words; Stop disabled."""
        if self._ui is not None:
            self._ui.close()
            self._ui = None
        self._draw(snapshot, summary.status if summary is not None else "failed")
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
