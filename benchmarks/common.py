"""What the benchmark scripts share: a fresh database file and a run of numbered tasks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeloom import RunSummary, TaskDef, run_pipeline


def fresh_db(tmp: Path, name: str) -> Path:
    """`tmp/name.db`, with any earlier file of that name (and its WAL) removed."""
    path = tmp / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def run_tasks(
    db: Path, n: int, fn: Any, workers: int, executor: Any = "threads", **options: Any
) -> RunSummary:
    """Run `fn` over tasks 0..n-1 (no display unless `progress=` is given); all must end done."""
    s = run_pipeline(
        db,
        [TaskDef(i, f"t{i}") for i in range(n)],
        workers=workers,
        worker_fn=fn,
        executor=executor,
        **{"progress": False, **options},
    )
    assert s.status == "done", s
    return s
