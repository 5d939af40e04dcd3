"""Draw a TimelineData with matplotlib: lanes of bars above, throughput below."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .data import SEVERITY, TimelineData

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["COLOURS", "PIP_PLOT", "draw", "require_matplotlib"]

PIP_PLOT = "pip install 'pipeloom-nb[plot]'"
"""The command that installs what the timeline draws with."""

COLOURS = {
    "done": "#4caf50",
    "running": "#42a5f5",
    "retrying": "#ffb300",
    "cancelled": "#9e9e9e",
    "interrupted": "#8d6e63",
    "timeout": "#ab47bc",
    "error": "#e53935",
    "skipped": "#a5d6a7",
}
"""A colour per segment status (unknown statuses are drawn black); the live display's bar
uses the same ones (skipped: done in an earlier run)."""

_DPI = 100
_BAR = 0.38  # half a bar's height, in lanes


def require_matplotlib() -> Any:
    """The `matplotlib` module, or an ImportError that names the pip command."""
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError(f"the timeline is drawn with matplotlib: {PIP_PLOT}") from exc
    return matplotlib


def _rectangles(data: TimelineData, width_px: int) -> np.ndarray:
    """Each segment's four corners, at least one pixel wide so short tasks still show."""
    segs = data.segments
    start = segs["start"].to_numpy(float)
    end = np.maximum(segs["end"].to_numpy(float), start + data.span / width_px)
    lane = segs["lane"].to_numpy(float)
    low, high = lane - _BAR, lane + _BAR
    return np.stack(
        [np.column_stack(p) for p in ((start, low), (start, high), (end, high), (end, low))],
        axis=1,
    )


def _draw_lanes(ax: Any, data: TimelineData, width_px: int) -> None:
    from matplotlib.collections import PolyCollection

    colours = [COLOURS.get(s, "#000000") for s in data.segments["status"]]
    edges = "white" if len(data.segments) <= 300 else "none"
    bars = PolyCollection(
        _rectangles(data, width_px), facecolors=colours, edgecolors=edges, linewidths=0.5
    )
    bars.set_antialiased(not data.aggregated)  # merged columns stay crisp, not faint
    ax.add_collection(bars)
    n = len(data.lanes)
    ax.set_ylim(n - 0.5, -0.5)
    step = max(1, n // 30)
    ax.set_yticks(range(0, n, step), [data.lanes[i] for i in range(0, n, step)], fontsize=7)
    ax.set_xlim(0, data.span)
    ax.grid(axis="x", alpha=0.3)


def _draw_throughput(ax: Any, data: TimelineData) -> None:
    tp = data.throughput
    ax.bar(tp["start"], tp["per_second"], width=tp["width"], align="edge", color="#607d8b")
    ax.set_ylabel("tasks/s", fontsize=8)
    ax.set_xlabel("seconds since the run started", fontsize=8)
    ax.grid(axis="y", alpha=0.3)


def _legend(fig: Any, data: TimelineData) -> None:
    from matplotlib.patches import Patch

    shown = set(data.segments["status"])
    handles = [Patch(color=COLOURS[s], label=s) for s in SEVERITY if s in shown]
    fig.legend(handles=handles, loc="outside upper right", ncols=len(handles) or 1, fontsize=8)


def _title(data: TimelineData) -> str:
    merged = " · short tasks merged per pixel" if data.aggregated else ""
    return (
        f"run {data.run_id} · {data.name} · {data.status} · {len(data.tasks):,} tasks · "
        f"{data.span:,.2f} s{merged}"
    )


def draw(data: TimelineData, width_px: int = 1000) -> Figure:
    """A matplotlib Figure (not pyplot's, so a notebook shows it once, when asked)."""
    require_matplotlib()
    from matplotlib.figure import Figure

    lane_in = min(0.22 * len(data.lanes), 7.0)
    fig = Figure(figsize=(width_px / _DPI, 2.2 + lane_in), dpi=_DPI, layout="constrained")
    lanes_ax, rate_ax = fig.subplots(
        2, 1, sharex=True, height_ratios=[max(lane_in, 1.0), 1.0], gridspec_kw={"hspace": 0.05}
    )
    _draw_lanes(lanes_ax, data, width_px)
    _draw_throughput(rate_ax, data)
    _legend(fig, data)
    fig.suptitle(_title(data), fontsize=9, x=0.01, ha="left")
    return fig
