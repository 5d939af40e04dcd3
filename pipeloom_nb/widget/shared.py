"""The layouts and styles every display shares: opened once per kernel, not once per run.

Each Layout or Style is a widget of its own, opened in the front end with all its traits
(a Layout has some forty); none of these ever changes, so five of a display's nine
widgets need not be sent again for every run. One that was closed (`Widget.close_all()`)
is made again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import ipywidgets as w
from ipywidgets.widgets.widget_string import HTMLStyle

__all__ = ["button_style", "html_style", "plain_layout", "row_layout", "view_layout"]

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


def row_layout() -> w.Layout:
    """The view and the Stop button side by side, the button at the top."""
    return _shared("row", lambda: w.Layout(align_items="flex-start"))


def view_layout() -> w.Layout:
    """The view's layout: all the width the Stop button leaves."""
    return _shared("view", lambda: w.Layout(flex="1 1 auto"))


def html_style() -> HTMLStyle:
    """The style of the view and the errors."""
    return _shared("html", HTMLStyle)


def button_style() -> w.ButtonStyle:
    """The Stop button's style (its colour comes from its own `button_style`)."""
    return _shared("button", w.ButtonStyle)
