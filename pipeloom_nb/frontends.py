"""The notebook front ends, registered with the engine: ipywidgets in a Jupyter kernel, the
cell's output in marimo.

`pipeloom_nb` registers them when imported, and its entry points (group
`pipeloom.displays`) name them, so that `progress="auto"` finds them in a notebook where
only `pipeloom` was imported. Telling where we are imports nothing: IPython and marimo
are looked for among the modules already loaded.
"""

from __future__ import annotations

from typing import Any

from pipeloom.progress.frontends import FrontEnd, register_display

from .where import in_kernel, in_marimo

__all__ = ["MARIMO", "WIDGETS", "register"]


def _widget_display() -> Any:
    from .widget.display import WidgetDisplay

    return WidgetDisplay()


def _marimo_display() -> Any:
    from .marimo import MarimoDisplay

    return MarimoDisplay()


MARIMO = FrontEnd("marimo", _marimo_display, in_marimo)
"""The marimo front end: the run's view in the cell's output."""
WIDGETS = FrontEnd("widgets", _widget_display, in_kernel)
"""The Jupyter front end: ipywidgets."""


def register() -> None:
    """Register both front ends with the engine (done when `pipeloom_nb` is imported)."""
    register_display(MARIMO)
    register_display(WIDGETS)
