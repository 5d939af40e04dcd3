"""A run's bar as HTML: its tasks by status, stacked in proportion, in the timeline's colours.

A run with 2,996 tasks done and 4 errors shows a green bar with a red sliver, not a red
bar; a run stopped at 7% shows 7% of colour. Each part is at least 2 px wide, so that a
few errors among thousands stay visible.
"""

from __future__ import annotations

from pipeloom.progress.snapshot import StatsSnapshot
from pipeloom.timeline.draw import COLOURS

__all__ = ["PARTS", "bar_html", "bar_parts"]

PARTS = ("skipped", "done", "error", "cancelled", "running")
"""The bar's parts, left to right: done before, this run's endings, then the tasks in flight."""

_BAR = (
    "<div class='pipeloom-bar' title='{title}' style='display:flex;flex:1;min-width:8em;"
    "height:1.1em;background:#e0e0e0;border-radius:3px;overflow:hidden'>{parts}</div>"
)
_PART = (
    "<div class='pipeloom-part pipeloom-{status}' style='width:{pct:.3f}%;min-width:2px;"
    "background:{colour}'></div>"
)


def bar_parts(s: StatsSnapshot) -> list[tuple[str, int]]:
    """(status, tasks) for each part of the bar that has any, left to right."""
    counts = {**s.counts, "running": s.in_flight}
    return [(status, counts.get(status, 0)) for status in PARTS if counts.get(status, 0) > 0]


def bar_html(s: StatsSnapshot) -> str:
    """The stacked bar: the run's total is its full width (while tasks still come from an
    iterator, the tasks taken so far)."""
    parts = bar_parts(s)
    width = max(1, s.total, sum(n for _, n in parts))
    return _BAR.format(
        title=" · ".join(f"{n:,} {status}" for status, n in parts) or "no task yet",
        parts="".join(
            _PART.format(status=status, pct=100 * n / width, colour=COLOURS[status])
            for status, n in parts
        ),
    )
