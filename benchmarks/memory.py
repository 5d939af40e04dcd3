"""Peak memory of a run of many tiny tasks: given as a list the caller holds, or a generator.

Each case runs in a fresh process that samples its own RSS every 20 ms. For the list,
the figure that matters is what pipeloom adds on top of the caller's tasks (`*_added_mb`);
for the generator, the absolute peak.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import fresh_db

__all__ = ["tasks_memory"]

CHILD = """
import sys, threading, time, psutil
from pipeloom import TaskDef, run_pipeline
path, n, case = sys.argv[1], int(sys.argv[2]), sys.argv[3]
proc = psutil.Process()
def rss():
    return proc.memory_info().rss
tasks = [TaskDef(i, f"task {i}") for i in range(n)] if case == "list" else (
    TaskDef(i, f"task {i}") for i in range(n))
before = rss(); peak = [before]; stop = threading.Event()
def sample():
    while not stop.wait(0.02):
        peak[0] = max(peak[0], rss())
threading.Thread(target=sample, daemon=True).start()
cpu0, t0 = time.process_time(), time.perf_counter()
s = run_pipeline(path, tasks, workers=4, worker_fn=lambda task, q: None, progress=False,
                 store_task_status=True)
wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
stop.set(); peak[0] = max(peak[0], rss())
assert s.status == "done" and s.counts.get("done") == n, s
print(before, peak[0], wall, cpu)
"""


def _case(tmp: Path, n: int, case: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(fresh_db(tmp, f"mem-{case}")), str(n), case],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    before, peak, wall, cpu = int(out[0]), int(out[1]), float(out[2]), float(out[3])
    return {"before": before / 2**20, "peak": peak / 2**20, "seconds": wall, "cpu": cpu}


def tasks_memory(n: int = 1_000_000) -> dict:
    """Peak RSS (MB), seconds, CPU seconds and tasks/s of n tiny tasks, list and generator."""
    with tempfile.TemporaryDirectory() as tmp:
        lst = _case(Path(tmp), n, "list")
        gen = _case(Path(tmp), n, "generator")
    return {
        "tasks": n,
        "list_peak_rss_mb": lst["peak"],
        "list_added_mb": lst["peak"] - lst["before"],
        "list_seconds": lst["seconds"],
        "list_cpu_seconds": lst["cpu"],
        "list_tasks_per_s": n / lst["seconds"],
        "generator_peak_rss_mb": gen["peak"],
        "generator_seconds": gen["seconds"],
        "generator_cpu_seconds": gen["cpu"],
        "generator_tasks_per_s": n / gen["seconds"],
    }


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    for key, value in tasks_memory(n).items():
        print(f"{key:24} {value:,.1f}" if isinstance(value, float) else f"{key:24} {value:,}")
