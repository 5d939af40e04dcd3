"""Executors compared: speed-up of a CPU-bound pandas transform, and the cost of one task."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.common import run_tasks
from pipeloom import MsgTaskProgress, TaskDef


def transform(task: TaskDef, q: Any) -> None:
    """CPU-bound pandas work that holds the GIL: string parsing and a row-wise apply."""
    rng = np.random.default_rng(task.task_id)
    df = pd.DataFrame({"code": rng.integers(0, 10**6, 40_000).astype(str)})
    df["digits"] = df["code"].map(lambda s: sum(int(c) for c in s))
    q.put(MsgTaskProgress(task.task_id, 1, 2, "parsed"))
    df.groupby(df["digits"] % 7)["digits"].sum()
    q.put(MsgTaskProgress(task.task_id, 2, 2, "grouped"))


def nothing(task: TaskDef, q: Any) -> None:
    """A task that does and sends nothing: what is left is the executor's own cost."""


def _timed(db: Path, n: int, fn: Any, executor: Any, workers: int) -> float:
    t0 = time.perf_counter()
    run_tasks(db, n, fn, workers, executor)
    return time.perf_counter() - t0


def speedup(tmp: Path, n_tasks: int, workers: int = 2) -> dict:
    """F: the same CPU-bound tasks on threads and on processes (pool warmed first)."""
    _timed(tmp / "f-warm.db", workers, nothing, "processes", workers)
    threads = _timed(tmp / "f-threads.db", n_tasks, transform, "threads", workers)
    processes = _timed(tmp / "f-processes.db", n_tasks, transform, "processes", workers)
    return {
        "tasks": n_tasks,
        "workers": workers,
        "threads_s": threads,
        "processes_s": processes,
        "speedup": threads / processes,
    }


def overhead(tmp: Path, n_tasks: int, workers: int = 2) -> dict:
    """G: seconds per empty task for each executor (warm pools, median of 3; Dask: one run)."""
    out = {}
    for name in ("threads", "processes"):
        _timed(tmp / f"g-warm-{name}.db", workers, nothing, name, workers)
        runs = [_timed(tmp / f"g-{name}-{i}.db", n_tasks, nothing, name, workers) for i in range(3)]
        out[name] = statistics.median(runs) / n_tasks
    out["dask"] = _dask_overhead(tmp, n_tasks, workers)
    return {"tasks": n_tasks, "workers": workers, "per_task_s": out}


def _dask_overhead(tmp: Path, n_tasks: int, workers: int) -> float | None:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        return None
    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        _timed(tmp / "g-warm-dask.db", workers, nothing, client, workers)
        return _timed(tmp / "g-dask.db", n_tasks, nothing, client, workers) / n_tasks
