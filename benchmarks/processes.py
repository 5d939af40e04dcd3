"""Tiny tasks on `executor="processes"`: tasks per second, next to threads on the same tasks.

The worker does nothing, so what is measured is the executor's own cost per task: pool
calls (chunks of tasks), the return path, the writer. Runs alternate between the two
executors (a shared machine drifts), and each figure is the median of `rounds` runs.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import fresh_db, run_tasks

__all__ = ["tiny_tasks_processes"]

EXECUTORS = ("processes", "threads")


def nothing(task: Any, q: Any) -> None:
    """A task that does and sends nothing."""


def _timed(db: Path, n: int, executor: str, workers: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one run of `n` tiny tasks."""
    t0, c0 = time.perf_counter(), time.process_time()
    s = run_tasks(db, n, nothing, workers, executor, store_task_status=True)
    assert s.counts == {"done": n}, s.counts
    return time.perf_counter() - t0, time.process_time() - c0


def tiny_tasks_processes(n: int = 100_000, workers: int = 4, rounds: int = 3) -> dict:
    """Tasks per second of `n` tiny tasks on processes and on threads (medians of `rounds`)."""
    runs: dict[str, list[tuple[float, float]]] = {e: [] for e in EXECUTORS}
    with tempfile.TemporaryDirectory() as tmp:
        for executor in EXECUTORS:  # warm: the pool's processes start, imports are done
            _timed(fresh_db(Path(tmp), f"warm-{executor}"), workers, executor, workers)
        for i in range(rounds):
            for executor in EXECUTORS:
                db = fresh_db(Path(tmp), f"{executor}-{i}")
                runs[executor].append(_timed(db, n, executor, workers))
    out: dict[str, Any] = {"tasks": n, "workers": workers, "rounds": rounds}
    for executor, timings in runs.items():
        seconds = statistics.median(t for t, _ in timings)
        out[executor] = {
            "seconds": seconds,
            "rate": n / seconds,
            "parent_cpu_s": statistics.median(c for _, c in timings),
        }
    out["seconds"], out["rate"] = out["processes"]["seconds"], out["processes"]["rate"]
    return out


if __name__ == "__main__":
    import json
    import sys

    args = [int(a) for a in sys.argv[1:3]]
    print(json.dumps(tiny_tasks_processes(*args), indent=2))
