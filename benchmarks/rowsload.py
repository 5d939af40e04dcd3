"""Rows of DataFrames next to the executemany limit, and Loom.map next to a handler.

`rows_vs_executemany` alternates, in one process, runs of each pair and takes medians:
- `Rows` made in 4 worker threads from DataFrames built before the clock, loaded by the
  writer, against one `executemany` of the same rows as tuples built before the clock, in
  one transaction on a fresh WAL file with the writer's pragmas (`synchronous=NORMAL`);
- `Loom.map` returning a DataFrame per item against `run_pipeline` with a handler that
  inserts each task's tuples (benchmarks/peers.py builds both: the same work per task);
- the mapped function alone, in as many threads, writing nothing: what building the
  DataFrames costs the map before any row is written.
Each figure is rows per second; the CPU time of the process is reported too. The data built
beforehand (a million tuples, a thousand DataFrames) is frozen out of the garbage collector,
so full collections during a run cost what they would without the benchmark's own data.
"""

from __future__ import annotations

import gc
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks import peers
from benchmarks.common import fresh_db, run_tasks
from pipeloom import Rows
from pipeloom.store.connection import connect

WORKERS = 4
TABLE = "rows"
CREATE = f"CREATE TABLE {TABLE} (k INTEGER, a TEXT, b REAL)"
"""The table `Rows` creates from the benchmark's DataFrames."""
INSERT = f"INSERT INTO {TABLE} (k, a, b) VALUES (?, ?, ?)"


def _timed(run: Callable[[], None]) -> tuple[float, float]:
    """Wall-clock and process CPU seconds of `run()`."""
    w0, c0 = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - w0, time.process_time() - c0


def rows_run(db: Path, frames: list) -> None:
    """Workers make `Rows` of DataFrames built beforehand; the writer loads them."""

    def worker(task, q):
        q.put(Rows(TABLE, frames[task.task_id], task_id=task.task_id))

    run_tasks(db, len(frames), worker, WORKERS)


def function_run(n_msgs: int, rows_per: int) -> None:
    """The function `Loom.map` maps, alone: the same threads, the DataFrames built and dropped."""
    with ThreadPoolExecutor(WORKERS) as ex:
        for _ in ex.map(lambda i: peers.make_frame(i, rows_per), range(n_msgs)):
            pass


def executemany_run(db: Path, rows: list[tuple]) -> None:
    """The limit: one connection, the writer's pragmas, one executemany, one commit."""
    conn = connect(db, synchronous="NORMAL")
    conn.execute(CREATE)
    conn.execute("BEGIN")
    conn.executemany(INSERT, rows)
    conn.execute("COMMIT")
    conn.close()


def rows_vs_executemany(n_msgs: int = 1000, rows_per: int = 1000, repeat: int = 5) -> dict:
    """Medians of alternated runs: Rows vs executemany, Loom.map vs handler (rows/s)."""
    frames = [peers.make_frame(m, rows_per) for m in range(n_msgs)]
    tuples = [row for m in range(n_msgs) for row in peers.make_rows(m, rows_per)]
    runs: dict[str, Callable[[Path], None]] = {
        "rows": lambda db: rows_run(db, frames),
        "executemany": lambda db: executemany_run(db, tuples),
        "map": lambda db: peers.pipeloom_map(db, n_msgs, rows_per),
        "handler": lambda db: peers.pipeloom_handler(db, n_msgs, rows_per),
        "function": lambda db: function_run(n_msgs, rows_per),
    }
    wall: dict[str, list[float]] = {k: [] for k in runs}
    cpu: dict[str, list[float]] = {k: [] for k in runs}
    n_rows = n_msgs * rows_per
    gc.collect()
    gc.freeze()  # the data built beforehand is not scanned by every run's full collections
    try:
        with tempfile.TemporaryDirectory() as d:
            for _ in range(repeat):
                for name, run in runs.items():
                    db = fresh_db(Path(d), name)
                    w, c = _timed(lambda run=run, db=db: run(db))
                    if name != "function":
                        _check(db, n_rows, name)
                    wall[name].append(w)
                    cpu[name].append(c)
    finally:
        gc.unfreeze()
    res = {f"{k}_rate": n_rows / statistics.median(v) for k, v in wall.items()}
    res["ratio"] = res["rows_rate"] / res["executemany_rate"]
    res["map_ratio"] = res["map_rate"] / res["handler_rate"]
    res.update({f"{k}_cpu_s": statistics.median(v) for k, v in cpu.items()})
    return res


def _check(db: Path, expected: int, name: str) -> None:
    conn = connect(db)
    (got,) = conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()
    conn.close()
    assert got == expected, f"{name}: {got} rows, expected {expected}"


if __name__ == "__main__":
    for key, value in rows_vs_executemany().items():
        print(f"{key:20s} {value:12,.2f}")
