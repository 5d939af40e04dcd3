"""1,000,000 rows from 1,000 tasks: pipeloom next to what an analyst would write instead.

Every peer does the same work per task (build 1,000 rows) and ends with every row committed
to SQLite, set up as its own documentation advises:
- ThreadPoolExecutor, a connection per thread (WAL, a busy timeout), one transaction per task;
- joblib `Parallel(prefer="threads")`, then one `executemany` in one transaction;
- tqdm `thread_map`, then one `DataFrame.to_sql` on a plain `sqlite3` connection (pandas
  commits once at the end);
- Dask delayed on its threaded scheduler, then one `executemany`.
Every connection uses WAL with `synchronous=NORMAL`, as pipeloom's writer does (SQLite's
advice for WAL: the same durability for all, no fsync per commit for anyone).
Runs alternate between peers; each figure is the median of its runs.
"""

from __future__ import annotations

import sqlite3
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from benchmarks.common import fresh_db, run_tasks

WORKERS = 4
SCHEMA = "CREATE TABLE IF NOT EXISTS rows(k INTEGER PRIMARY KEY, a TEXT, b REAL)"
INSERT = "INSERT INTO rows(k, a, b) VALUES (?, ?, ?)"


def make_rows(task_id: int, rows_per: int) -> list[tuple]:
    """The same work for every peer: one task's rows."""
    base = task_id * rows_per
    return [(base + i, f"name {i}", i * 0.5) for i in range(rows_per)]


def make_frame(task_id: int, rows_per: int) -> pd.DataFrame:
    """One task's rows as a DataFrame (what a pandas user returns)."""
    base = task_id * rows_per
    i = pd.RangeIndex(rows_per)
    return pd.DataFrame({"k": base + i, "a": "name " + i.astype(str), "b": i * 0.5})


@dataclass(frozen=True, slots=True)
class MsgRows:
    """A task's rows for the handler path."""

    rows: list[tuple]


def insert_rows(conn: sqlite3.Connection, msg: MsgRows) -> None:
    """The handler: one executemany."""
    conn.executemany(INSERT, msg.rows)


def pipeloom_handler(db: Path, n: int, rows_per: int) -> None:
    """run_pipeline: workers put row batches, the writer's handler inserts them."""

    def worker(task, q):
        q.put(MsgRows(make_rows(task.task_id, rows_per)))

    run_tasks(db, n, worker, WORKERS, handlers={MsgRows: insert_rows}, schema=SCHEMA)


def pipeloom_map(db: Path, n: int, rows_per: int) -> None:
    """Loom.map: fn(item) returns a DataFrame; rows land in the table with no handler."""
    from pipeloom_nb import Loom

    loom = Loom(db, workers=WORKERS, progress=False)
    result = loom.map(lambda i: make_frame(i, rows_per), range(n), table="rows")
    assert result.ok, result


def threadpool_conn_per_thread(db: Path, n: int, rows_per: int) -> None:
    """ThreadPoolExecutor; each thread its own connection, one transaction per task."""
    _schema(db)
    local = threading.local()
    conns: list[sqlite3.Connection] = []

    def task(i: int) -> None:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = _connect(db, timeout=60, check_same_thread=False)
            conns.append(conn)
        with conn:  # one transaction per task, committed on exit
            conn.executemany(INSERT, make_rows(i, rows_per))

    with ThreadPoolExecutor(WORKERS) as ex:
        list(ex.map(task, range(n)))
    for conn in conns:
        conn.close()


def joblib_threads(db: Path, n: int, rows_per: int) -> None:
    """joblib Parallel with threads, then one executemany in one transaction."""
    from joblib import Parallel, delayed

    parts = Parallel(n_jobs=WORKERS, prefer="threads")(
        delayed(make_rows)(i, rows_per) for i in range(n)
    )
    _insert_all(db, parts)


def tqdm_thread_map_to_sql(db: Path, n: int, rows_per: int) -> None:
    """tqdm thread_map returning DataFrames, then one to_sql (pandas commits at the end)."""
    from tqdm.contrib.concurrent import thread_map

    frames = thread_map(
        lambda i: make_frame(i, rows_per), range(n), max_workers=WORKERS, disable=True
    )
    conn = _connect(db)
    pd.concat(frames, ignore_index=True).to_sql("rows", conn, index=False, if_exists="append")
    conn.close()


def dask_threads(db: Path, n: int, rows_per: int) -> None:
    """Dask delayed on the threaded scheduler, then one executemany."""
    import dask

    parts = dask.compute(
        *[dask.delayed(make_rows)(i, rows_per) for i in range(n)],
        scheduler="threads",
        num_workers=WORKERS,
    )
    _insert_all(db, parts)


def _connect(db: Path, **kwargs) -> sqlite3.Connection:
    """A connection in WAL mode with synchronous=NORMAL, as pipeloom's writer uses."""
    conn = sqlite3.connect(db, **kwargs)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def _schema(db: Path) -> None:
    conn = _connect(db)
    conn.execute(SCHEMA)
    conn.close()


def _insert_all(db: Path, parts) -> None:
    _schema(db)
    conn = _connect(db)
    with conn:
        for part in parts:
            conn.executemany(INSERT, part)
    conn.close()


PEERS: dict[str, Callable[[Path, int, int], None]] = {
    "pipeloom run_pipeline + handler": pipeloom_handler,
    "pipeloom Loom.map -> DataFrames": pipeloom_map,
    "ThreadPoolExecutor, connection per thread": threadpool_conn_per_thread,
    "joblib threads + one executemany": joblib_threads,
    "tqdm thread_map + to_sql": tqdm_thread_map_to_sql,
    "dask threads + one executemany": dask_threads,
}


def compare(tmp: Path, n: int = 1000, rows_per: int = 1000, repeat: int = 3) -> dict:
    """Rows/s of every peer, median of `repeat` alternated runs; checks every row landed."""
    times: dict[str, list[float]] = {name: [] for name in PEERS}
    for _ in range(repeat):
        for name, run in PEERS.items():
            db = fresh_db(tmp, "peer")
            t0 = time.perf_counter()
            run(db, n, rows_per)
            times[name].append(time.perf_counter() - t0)
            _check(db, n * rows_per, name)
    rows = n * rows_per
    return {name: {"rows": rows, "rate": rows / statistics.median(t)} for name, t in times.items()}


def _check(db: Path, expected: int, name: str) -> None:
    conn = sqlite3.connect(db)
    (got,) = conn.execute("SELECT count(*) FROM rows").fetchone()
    conn.close()
    assert got == expected, f"{name}: {got} rows, expected {expected}"


def table(res: dict) -> str:
    """Markdown: each peer's rate and its ratio to pipeloom's handler path."""
    base = res["pipeloom run_pipeline + handler"]["rate"]
    lines = ["| way | rows/s (median) | vs pipeloom handler |", "|---|---:|---:|"]
    for name, r in sorted(res.items(), key=lambda kv: -kv[1]["rate"]):
        lines.append(f"| {name} | {r['rate']:,.0f} | {r['rate'] / base:.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        print(table(compare(Path(d), 100, 1000, 1)))
