"""What `executor=` accepts: threads (the default), a process pool, or a Dask client."""

from __future__ import annotations

import os
from typing import Any

from .cluster import DaskBackend, is_dask_client
from .errors import ConfigError

__all__ = ["EXECUTORS", "make_backend"]

EXECUTORS = ("threads", "processes")


def make_backend(executor: Any, workers: int | None) -> tuple[Any, int | None]:
    """(pool backend or None for threads, default number of workers or None)."""
    if isinstance(executor, str) and executor == "threads":
        return None, None
    if isinstance(executor, str) and executor == "processes":
        from .processes import ProcessBackend

        n = workers or os.cpu_count() or 1
        return ProcessBackend(n), n
    if is_dask_client(executor):
        backend = DaskBackend(executor)
        return backend, workers or backend.default_workers()
    raise ConfigError(
        f"executor must be 'threads', 'processes' or a dask.distributed.Client, not {executor!r}"
    )
