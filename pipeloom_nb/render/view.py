"""A run's progress as one HTML block, the same in JupyterLab, Notebook 7 and marimo.

The name, the stacked bar and the run's state in words on one line; the progress line
under it; then the tasks in flight. The errors are a block of their own, redrawn only when
a new one comes.
"""

from __future__ import annotations

import html

from pipeloom.core.summary import TaskError
from pipeloom.progress.snapshot import StatsSnapshot
from pipeloom.progress.words import outcome_text, percent, plural, progress_line

from .bar import bar_html
from .tasks import tasks_html

__all__ = ["OUTCOME_COLOURS", "errors_block", "errors_html", "progress_html", "state_html"]

OUTCOME_COLOURS = {"done": "#2e7d32", "error": "#c62828", "failed": "#c62828"}
"""The colour of a run's outcome in words (others: the text's own)."""

_VIEW = (
    "<div class='pipeloom-progress' style='line-height:1.7'>"
    "<div style='display:flex;align-items:center;gap:0.6em'>{name}{bar}{state}</div>"
    "<div class='pipeloom-line'>{line}</div>{tasks}</div>"
)


def state_html(s: StatsSnapshot, status: str | None = None) -> str:
    """Beside the bar: the share of tasks at a final status while the run lasts; then how
    the run ended (`ended with 4 errors: 2,996 of 3,000 done`)."""
    if status is None:
        words = percent(s.completed, s.total) if s.total_known else ""
        colour = "inherit"
    else:
        words = outcome_text(status, s)
        colour = OUTCOME_COLOURS.get(status, "inherit")
    return (
        f"<span class='pipeloom-state' style='white-space:nowrap;color:{colour};"
        f"font-weight:bold'>{html.escape(words)}</span>"
    )


def progress_html(
    s: StatsSnapshot, name: str = "", tasks: int = 8, status: str | None = None
) -> str:
    """The view: name, bar and state; the progress line; up to `tasks` tasks in flight."""
    title = f"<b style='white-space:nowrap'>{html.escape(name)}</b>" if name else ""
    return _VIEW.format(
        name=title,
        bar=bar_html(s),
        state=state_html(s, status),
        line=html.escape(progress_line(s)),
        tasks=tasks_html(s.bars[:tasks], s.in_flight) if tasks and not s.finished else "",
    )


def errors_html(errors: list[TaskError], limit: int = 5) -> str:
    """Collapsible `<details>` per error: the message, and the traceback when opened."""
    return "".join(
        f"<details><summary>task {html.escape(str(e.task_id))} ({html.escape(e.name)}): "
        f"{html.escape(e.message)}</summary><pre>{html.escape(e.traceback or '')}</pre></details>"
        for e in errors[:limit]
    )


def errors_block(errors: list[TaskError], limit: int = 5) -> str:
    """`4 errors`, the first `limit` of them, and how many more `result.errors` holds."""
    more = len(errors) - limit
    tail = f"<i>… and {more:,} more (see result.errors)</i>" if more > 0 else ""
    return (
        f"<div class='pipeloom-errors' style='color:#c62828'><b>{plural(len(errors), 'error')}"
        f"</b>{errors_html(errors, limit)}{tail}</div>"
    )
