"""pipeloom_nb: run pipeloom pipelines from Jupyter or marimo, with live progress and DataFrames."""

from __future__ import annotations

from typing import Any

from .frontends import register
from .handle import RunHandle
from .loom import Loom
from .marimo import MarimoDisplay
from .results import RunResult
from .widget import WidgetDisplay

__version__ = "0.1.0"

__all__ = [
    "Loom",
    "MarimoDisplay",
    "RunHandle",
    "RunResult",
    "WidgetDisplay",
    "__version__",
    "load_ipython_extension",
]

register()  # the engine's "auto" finds the notebook front ends from now on


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext pipeloom_nb`: register the `%pipeloom` magics."""
    from .magics import PipeloomMagics

    ipython.register_magics(PipeloomMagics)
