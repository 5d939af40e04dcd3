"""A timeline's data, pure: lanes, segments, statuses, throughput, aggregation past pixels."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .load import RunRecord

__all__ = [
    "SEVERITY",
    "TimelineData",
    "aggregate",
    "build",
    "group_lanes",
    "lane_order",
    "segments",
    "task_table",
    "throughput",
]

SEVERITY = ("done", "running", "retrying", "cancelled", "interrupted", "timeout", "error")
"""Segment statuses, mildest first: an aggregated pixel shows the worst status in it."""

_SEGMENT_COLUMNS = ["worker", "start", "end", "status", "task_id", "name", "attempt", "tasks"]
_FINISHED = ("done", "error")


@dataclass(frozen=True)
class TimelineData:
    """Everything a timeline chart draws, in seconds since the run started."""

    run_id: int
    name: str
    status: str
    span: float
    """Seconds from the run's start to its end (or to now, for a live run)."""
    lanes: tuple[str, ...]
    """Lane labels, top to bottom: a worker each, or a range of workers when grouped."""
    segments: pd.DataFrame
    """lane, start, end, status, task_id, name, attempt, tasks (how many it stands for)."""
    throughput: pd.DataFrame
    """start, width, per_second: tasks finished (done or error) per second, per bin."""
    tasks: pd.DataFrame
    """One row per task: task_id, name, status, worker, attempts, duration_s."""
    aggregated: bool
    """True when short segments were merged into pixel-wide bins."""


def _seconds(ts: pd.Series, origin: pd.Timestamp) -> np.ndarray:
    return ((ts - origin).dt.total_seconds()).to_numpy(dtype=float)


def segments(tasks: pd.DataFrame, attempts: pd.DataFrame) -> pd.DataFrame:
    """One row per attempt: tasks that failed once have their attempts, the others one row."""
    retried = tasks["task_id"].isin(attempts["task_id"])
    once = tasks.loc[~retried & tasks["started_at"].notna()]
    names = tasks.set_index("task_id")["name"]
    first = pd.DataFrame(
        {
            "worker": once["worker"],
            "start": once["started_at"],
            "end": once["finished_at"],
            "status": once["status"],
            "task_id": once["task_id"],
            "name": once["name"],
            "attempt": once["attempts"].clip(lower=1),
        }
    )
    tried = attempts.loc[attempts["started_at"].notna()]
    more = pd.DataFrame(
        {
            "worker": tried["worker"],
            "start": tried["started_at"],
            "end": tried["finished_at"],
            "status": tried["outcome"],
            "task_id": tried["task_id"],
            "name": tried["task_id"].map(names),
            "attempt": tried["attempt"],
        }
    )
    out = pd.concat([df for df in (first, more) if len(df)] or [first], ignore_index=True)
    out["worker"] = out["worker"].fillna("?").astype(str)
    out["tasks"] = 1
    return out


def _natural_key(name: str) -> list:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def lane_order(workers: pd.Series) -> list[str]:
    """Distinct worker names in natural order (worker-2 before worker-10)."""
    return sorted(set(workers), key=_natural_key)


def group_lanes(lanes: list[str], max_lanes: int) -> tuple[list[str], np.ndarray]:
    """Labels and, for each lane, its group: consecutive lanes share one past `max_lanes`."""
    n = len(lanes)
    if n <= max_lanes:
        return lanes, np.arange(n)
    group = np.arange(n) * max_lanes // n
    labels = []
    for g in range(max_lanes):
        members = np.flatnonzero(group == g)
        labels.append(f"{lanes[members[0]]} … {lanes[members[-1]]} ({len(members)})")
    return labels, group


def throughput(ends: np.ndarray, span: float, bins: int | None = None) -> pd.DataFrame:
    """Tasks finished per second in `bins` equal bins over [0, span] (about one a second)."""
    if bins is None:
        bins = int(np.clip(np.ceil(span), 20, 200))
    width = max(span, 1e-9) / bins
    counts, edges = np.histogram(np.clip(ends, 0, span), bins=bins, range=(0, max(span, 1e-9)))
    return pd.DataFrame({"start": edges[:-1], "width": width, "per_second": counts / width})


def _merge_bins(lane: np.ndarray, col: np.ndarray, sev: np.ndarray, n: np.ndarray) -> tuple:
    """Runs of adjacent bins in one lane with one status, as (lane, first, last, sev, n)."""
    new = np.ones(len(lane), dtype=bool)
    new[1:] = (lane[1:] != lane[:-1]) | (col[1:] != col[:-1] + 1) | (sev[1:] != sev[:-1])
    run = np.cumsum(new) - 1
    last = np.append(np.flatnonzero(new)[1:] - 1, len(lane) - 1)
    return lane[new], col[new], col[last], sev[new], np.bincount(run, weights=n).astype(int)


def aggregate(segs: pd.DataFrame, span: float, width_px: int) -> pd.DataFrame:
    """Segments shorter than a pixel merged per lane and pixel column (the worst status wins)."""
    dt = max(span, 1e-9) / width_px
    short = (segs["end"] - segs["start"]) < dt
    small = segs.loc[short]
    col = np.minimum(((small["start"] + small["end"]) / 2 // dt).to_numpy(int), width_px - 1)
    rank = {s: i for i, s in enumerate(SEVERITY)}
    cells = pd.DataFrame(
        {
            "lane": small["lane"].to_numpy(),
            "col": col,
            "sev": small["status"].map(rank).fillna(len(SEVERITY) - 1).to_numpy(int),
            "n": small["tasks"].to_numpy(),
        }
    )
    cells = cells.groupby(["lane", "col"], sort=True).agg(sev=("sev", "max"), n=("n", "sum"))
    lane, first, last, sev, n = _merge_bins(
        cells.index.get_level_values(0).to_numpy(),
        cells.index.get_level_values(1).to_numpy(),
        cells["sev"].to_numpy(),
        cells["n"].to_numpy(),
    )
    merged = pd.DataFrame(
        {
            "lane": lane,
            "start": first * dt,
            "end": (last + 1) * dt,
            "status": np.asarray(SEVERITY, dtype=object)[sev],
            "task_id": None,
            "name": [f"{k} tasks" for k in n],
            "attempt": 0,
            "tasks": n,
        }
    )
    return pd.concat([segs.loc[~short], merged], ignore_index=True)


def task_table(tasks: pd.DataFrame) -> pd.DataFrame:
    """One row per task with its duration in seconds (first start to last end)."""
    out = tasks[["task_id", "name", "status", "worker", "attempts"]].copy()
    out["duration_s"] = (tasks["finished_at"] - tasks["started_at"]).dt.total_seconds()
    return out


def _origin_and_span(
    record: RunRecord, until: pd.Timestamp
) -> tuple[pd.Timestamp, pd.Timestamp, float]:
    end = record.finished_at if record.finished_at is not None else until
    return record.started_at, end, max((end - record.started_at).total_seconds(), 1e-3)


def build(
    record: RunRecord, until: pd.Timestamp, width_px: int = 1000, max_lanes: int = 64
) -> TimelineData:
    """The chart's data for one run; `until` ends what is still running (a live run's now)."""
    origin, end, span = _origin_and_span(record, until)
    segs = segments(record.tasks, record.attempts)
    segs["end"] = segs["end"].fillna(end.as_unit(segs["end"].dt.unit))
    segs["start"], segs["end"] = _seconds(segs["start"], origin), _seconds(segs["end"], origin)
    names = lane_order(segs["worker"])
    labels, group = group_lanes(names, max_lanes)
    segs["lane"] = segs["worker"].map(dict(zip(names, group, strict=True))).astype(int)
    segs = segs[["lane", *_SEGMENT_COLUMNS[1:]]]
    crowded = len(segs) > width_px or len(labels) < len(names)
    if crowded:
        segs = aggregate(segs, span, width_px)
    done = record.tasks.loc[record.tasks["status"].isin(_FINISHED), "finished_at"]
    return TimelineData(
        record.run_id,
        record.name,
        record.status,
        span,
        tuple(labels),
        segs,
        throughput(_seconds(done.dropna(), origin), span),
        task_table(record.tasks),
        crowded,
    )
