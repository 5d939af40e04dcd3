"""`pipeloom status`: recent runs as a table that fits the terminal, and a live run's ETA."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from ..errors import ConfigError
from ..store import connection
from ..store.tables import has_table

__all__ = ["live_line", "recent_runs", "runs_table", "watch"]

_WIDE = 100
"""At this width and above every count has its own column and dates show the year."""

_COLOURS = {"done": "green", "error": "red", "failed": "red", "running": "cyan"}
_RECENT = (
    "SELECT run_id, name, status, started_at, finished_at, tasks, done, errors, "
    "cancelled, skipped, round(elapsed_s, 3) AS elapsed_s FROM pipeline_runs "
    "ORDER BY run_id DESC LIMIT ?"
)

READ_WAIT = 1.0
"""Seconds a read waits for a connection holding the whole file (a commit in rollback-journal
mode takes a moment); past that, the file is reported locked. WAL readers never wait."""


def recent_runs(db: Path, n: int, timeout: float = READ_WAIT) -> list[dict[str, Any]]:
    """The `n` newest runs, newest first, as dicts.

    ConfigError if the file has no runs table, is not a database, or stays locked
    `timeout` seconds.
    """
    conn = connection.connect_readonly(db, timeout)
    conn.row_factory = sqlite3.Row
    try:
        if not has_table(conn, "pipeline_runs"):
            raise ConfigError(f"{db} has no pipeloom run history (no pipeline_runs table)")
        rows = conn.execute(_RECENT, (n,)).fetchall()
    except sqlite3.Error as exc:
        raise connection.read_failed(db, exc) from exc
    finally:
        conn.close()
    return [dict(r) for r in rows]


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts)


def _elapsed(run: dict[str, Any], now: datetime) -> float:
    if run["elapsed_s"] is not None:
        return float(run["elapsed_s"])
    return max((now - _parse(run["started_at"])).total_seconds(), 0.0)


def _seconds(s: float) -> str:
    if s < 10:
        return f"{s:.2f}s"
    if s < 60:
        return f"{s:.1f}s"
    minutes, secs = divmod(int(s), 60)
    return f"{minutes}m{secs:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def live_line(run: dict[str, Any], now: datetime | None = None) -> str:
    """A running run in one line: finished of total, errors, tasks per second and ETA."""
    now = now or datetime.now(UTC)
    finished = run["done"] + run["errors"] + run["cancelled"]
    left = max(run["tasks"] - finished - run["skipped"], 0)
    elapsed = _elapsed(run, now)
    rate = finished / elapsed if elapsed > 0 else 0.0
    eta = _seconds(left / rate) if rate > 0 else "?"
    return (
        f"run {run['run_id']} {run['name']}: {finished:,}/{run['tasks'] - run['skipped']:,} "
        f"finished · {run['errors']:,} errors · {rate:,.1f} tasks/s · {_seconds(elapsed)} "
        f"elapsed · ETA {eta}"
    )


def _wide_row(run: dict[str, Any], now: datetime) -> list[str]:
    return [
        run["started_at"][:19].replace("T", " "),
        str(run["tasks"]),
        str(run["done"]),
        str(run["errors"]),
        str(run["cancelled"]),
        _seconds(_elapsed(run, now)),
    ]


def _narrow_row(run: dict[str, Any], now: datetime) -> list[str]:
    return [
        run["started_at"][5:19].replace("T", " "),
        f"{run['done']}/{run['tasks']}",
        str(run["errors"]),
        _seconds(_elapsed(run, now)),
    ]


def runs_table(runs: list[dict[str, Any]], width: int, now: datetime | None = None) -> Table:
    """The runs as a table for `width` columns: names wrap, dates and numbers never cut."""
    now = now or datetime.now(UTC)
    wide = width >= _WIDE
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    table.add_column("run", justify="right", no_wrap=True)
    table.add_column("name", overflow="fold", min_width=8)
    table.add_column("status", no_wrap=True)
    heads = ["started (UTC)", "tasks", "done", "errors", "cancelled", "elapsed"]
    for head in heads if wide else ["started (UTC)", "done/tasks", "errors", "elapsed"]:
        table.add_column(head, no_wrap=True, justify="left" if head[0] == "s" else "right")
    for run in runs:
        colour = _COLOURS.get(run["status"], "yellow")
        cells = _wide_row(run, now) if wide else _narrow_row(run, now)
        status = Text(str(run["status"]), style=colour)  # names and statuses are text, not markup
        table.add_row(str(run["run_id"]), Text(str(run["name"])), status, *cells)
    return table


def status_view(runs: list[dict[str, Any]], width: int) -> Group:
    """The table, then a line with rate and ETA for each run still going."""
    lines = [Text(live_line(r)) for r in runs if r["status"] == "running"]
    return Group(runs_table(runs, width), *lines)


def watch(
    read: Callable[[], list[dict[str, Any]]],
    console: Console,
    interval: float = 1.0,
    ticks: int | None = None,
) -> None:
    """Redraw the runs every `interval` seconds until Ctrl-C (or `ticks` redraws, for tests)."""
    with Live(console=console, auto_refresh=False, transient=False) as live:
        count = 0
        while ticks is None or count < ticks:
            live.update(status_view(read(), console.width), refresh=True)
            count += 1
            if ticks is None or count < ticks:
                time.sleep(interval)
