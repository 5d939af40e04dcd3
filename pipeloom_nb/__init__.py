"""pipeloom_nb: run pipeloom pipelines from Jupyter, with widget progress and DataFrames."""

from __future__ import annotations

from typing import Any

from .handle import RunHandle
from .loom import Loom
from .results import RunResult
from .widget import WidgetDisplay

__version__ = "0.1.0"

__all__ = [
    "Loom",
    "RunHandle",
    "RunResult",
    "WidgetDisplay",
    "__version__",
    "load_ipython_extension",
]


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext pipeloom_nb`: register the `%pipeloom` magics."""
    from .magics import PipeloomMagics

    ipython.register_magics(PipeloomMagics)
