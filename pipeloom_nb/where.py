"""Where the code runs: inside a Jupyter kernel, inside a marimo notebook, or neither."""

from __future__ import annotations

import sys

__all__ = ["in_kernel", "in_marimo"]


def in_kernel() -> bool:
    """True inside a Jupyter kernel (JupyterLab, Notebook 7, VS Code), False elsewhere."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def in_marimo() -> bool:
    """True while a marimo notebook (or app) runs this code, False elsewhere."""
    marimo = sys.modules.get("marimo")
    return marimo is not None and marimo.running_in_notebook()
