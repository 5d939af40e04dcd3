"""The tasks in flight as HTML rows: a name, a bar, the time in flight and the last message.

One HTML block for every row costs one comm message per redraw, where a row of widgets
(`Label`, `FloatProgress`, `Label`) cost up to three per row and eleven widgets to open.
A task that reports no progress gets a bar without a value, which browsers draw moving.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from pipeloom.progress.snapshot import BarState
from pipeloom.progress.words import duration

__all__ = ["tasks_html"]

_CELL = "overflow:hidden;text-overflow:ellipsis;white-space:nowrap"
_ROW = (
    "<div class='pipeloom-task' style='display:flex;align-items:center;gap:0.5em'>"
    "<span style='width:20%;{cell}' title='{name}'>{name}</span>"
    "<progress {value}max='1' style='width:30%'></progress>"
    "<span class='pipeloom-elapsed' style='width:4.5em;text-align:right'>{elapsed}</span>"
    "<span style='flex:1;{cell}'>{message}</span></div>"
)


def tasks_html(bars: Sequence[BarState], in_flight: int = 0) -> str:
    """One row per task shown (longest-running first), then how many more are in flight."""
    rows = "".join(_row(b) for b in bars)
    more = in_flight - len(bars)
    if more > 0:
        rows += f"<div class='pipeloom-more'><i>… and {more:,} more running</i></div>"
    return rows


def _row(b: BarState) -> str:
    fraction = min(1.0, max(0.0, b.fraction))
    return _ROW.format(
        cell=_CELL,
        name=html.escape(str(b.name)),
        value=f"value='{fraction:.3f}' " if fraction > 0 else "",
        elapsed=duration(b.elapsed),
        message=html.escape(str(b.message)),
    )
