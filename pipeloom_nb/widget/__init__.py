"""The notebook display: ipywidgets bars, and the bridge that lets Stop clicks in mid-run."""

from __future__ import annotations

from .display import WidgetDisplay

__all__ = ["WidgetDisplay"]
