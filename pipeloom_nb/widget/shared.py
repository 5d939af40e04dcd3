"""The layouts and styles every display shares: opened once per kernel, not once per run.

Each Layout or Style is a widget of its own, opened in the front end with all its traits
(a Layout has some forty); none of these ever changes, so five of a display's eleven
widgets need not be sent again for every run. One that was closed (`Widget.close_all()`)
is made again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import ipywidgets as w
from ipywidgets.widgets.widget_int import ProgressStyle
from ipywidgets.widgets.widget_string import HTMLStyle

__all__ = ["bar_layout", "button_style", "html_style", "plain_layout", "progress_style"]

W = TypeVar("W", bound=w.Widget)

_LOCK = threading.Lock()
_SHARED: dict[str, w.Widget] = {}


def _shared(key: str, make: Callable[[], W]) -> W:
    with _LOCK:
        widget = _SHARED.get(key)
        if widget is None or widget.comm is None:  # never made, or closed since
            widget = _SHARED[key] = make()
        return widget  # type: ignore[return-value]


def plain_layout() -> w.Layout:
    """The layout of every widget that needs none of its own."""
    return _shared("plain", w.Layout)


def bar_layout() -> w.Layout:
    """The overall bar's layout (60% wide, the Stop button beside it)."""
    return _shared("bar", lambda: w.Layout(width="60%"))


def html_style() -> HTMLStyle:
    """The style of the title, the progress line and the errors."""
    return _shared("html", HTMLStyle)


def progress_style() -> ProgressStyle:
    """The overall bar's style (its colour comes from its own `bar_style`)."""
    return _shared("progress", ProgressStyle)


def button_style() -> w.ButtonStyle:
    """The Stop button's style (its colour comes from its own `button_style`)."""
    return _shared("button", w.ButtonStyle)
