"""The tasks in flight as one HTML block: a name, a bar and a message per task.

One `HTML` widget for every row costs one comm message per redraw (and three widgets to
open), where a row of `Label`, `FloatProgress` and `Label` cost up to three messages per
row per redraw and eleven widgets per row.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from pipeloom.progress.snapshot import BarState

__all__ = ["bars_html"]

_CELL = "overflow:hidden;text-overflow:ellipsis;white-space:nowrap"
_ROW = (
    "<div style='display:flex;align-items:center;gap:0.5em;line-height:1.7'>"
    "<span style='width:20%;{cell}' title='{name}'>{name}</span>"
    "<progress value='{fraction:.3f}' max='1' style='width:40%'></progress>"
    "<span style='flex:1;{cell}'>{message}</span></div>"
)


def bars_html(bars: Sequence[BarState]) -> str:
    """One row per task in flight (name, bar, message); "" when none is."""
    return "".join(
        _ROW.format(
            cell=_CELL,
            name=html.escape(str(b.name)),
            fraction=min(1.0, max(0.0, b.fraction)),
            message=html.escape(str(b.message)),
        )
        for b in bars
    )
