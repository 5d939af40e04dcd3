"""Pick the progress front end from the environment, as `tqdm.auto` does."""

from __future__ import annotations

import threading
from typing import Any

from pipeloom.display import choose_display

__all__ = ["in_kernel", "make_display"]


def in_kernel() -> bool:
    """True inside a Jupyter kernel (JupyterLab, Notebook 7, VS Code), False elsewhere."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def make_display(progress: Any, cancel_event: threading.Event) -> Any:
    """Widgets in a kernel, Rich or log lines elsewhere; "widgets" forces widgets."""
    if progress == "widgets" or (progress in (True, "auto") and in_kernel()):
        from IPython.display import display

        from .widgets import WidgetDisplay

        shown = WidgetDisplay(cancel_event)
        display(shown.widget)
        return shown
    return choose_display(progress)
