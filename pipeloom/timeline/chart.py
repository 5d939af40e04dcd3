"""`Timeline`: a run's chart as a notebook shows it (PNG in HTML), saved as PNG, SVG or HTML."""

from __future__ import annotations

import base64
import html
import io
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .data import TimelineData
from .draw import COLOURS, draw

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["Timeline"]

_FORMATS = (".png", ".svg", ".html")


class Timeline:
    """One run's timeline: lanes of tasks by worker, coloured by status, and throughput."""

    def __init__(self, data: TimelineData, width_px: int = 1000) -> None:
        self.data = data
        """The chart's data (segments, lanes, throughput, tasks), in seconds from the start."""
        self.width_px = width_px
        """The figure's width in pixels."""

    @cached_property
    def figure(self) -> Figure:
        """The matplotlib Figure (drawn once, when first asked for)."""
        return draw(self.data, self.width_px)

    @property
    def tasks(self) -> pd.DataFrame:
        """Every task with its name, status, worker, attempts and duration in seconds."""
        return self.data.tasks

    def slowest(self, n: int = 10) -> pd.DataFrame:
        """The `n` longest tasks (first start to last end)."""
        return self.tasks.nlargest(n, "duration_s")

    def to_png(self) -> bytes:
        """The chart as PNG bytes."""
        return self._png

    def to_svg(self) -> str:
        """The chart as SVG text."""
        buf = io.StringIO()
        self.figure.savefig(buf, format="svg")
        return buf.getvalue()

    def to_html(self) -> str:
        """The chart (an embedded PNG) and a table of the slowest tasks, as an HTML fragment."""
        png = base64.b64encode(self._png).decode()
        return (
            f"<div class='pipeloom-timeline'><img alt='{html.escape(self._label())}' "
            f"src='data:image/png;base64,{png}' style='max-width:100%'>"
            f"{self._slowest_html()}</div>"
        )

    def save(self, path: str | Path) -> Path:
        """Write the chart to `path`: .png, .svg or .html (a page with the slowest tasks)."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in _FORMATS:
            raise ValueError(f"cannot save a timeline as {suffix or path.name!r}: use {_FORMATS}")
        if suffix == ".png":
            path.write_bytes(self._png)
        elif suffix == ".svg":
            path.write_text(self.to_svg())
        else:
            path.write_text(f"<!doctype html><meta charset='utf-8'>{self.to_html()}\n")
        return path

    @cached_property
    def _png(self) -> bytes:
        buf = io.BytesIO()
        self.figure.savefig(buf, format="png")
        return buf.getvalue()

    def _label(self) -> str:
        d = self.data
        return f"timeline of run {d.run_id} ({d.name}): {len(d.tasks)} tasks, {d.span:.2f} s"

    def _slowest_html(self, n: int = 10) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(str(r.task_id))}</td><td>{html.escape(str(r.name))}</td>"
            f"<td style='color:{COLOURS.get(r.status, '#000')}'>{html.escape(str(r.status))}</td>"
            f"<td>{html.escape(str(r.worker))}</td><td>{r.attempts}</td>"
            f"<td>{r.duration_s:.3f}</td></tr>"
            for r in self.slowest(n).itertuples()
        )
        head = "<tr><th>task</th><th>name</th><th>status</th><th>worker</th><th>attempts</th>"
        return (
            f"<details><summary>slowest {min(n, len(self.tasks))} tasks</summary>"
            f"<table>{head}<th>seconds</th></tr>{rows}</table></details>"
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {
            "text/html": self.to_html(),
            "image/png": base64.b64encode(self._png).decode(),
            "text/plain": repr(self),
        }

    def __repr__(self) -> str:
        return f"<Timeline {self._label()}>"
