"""The one place that knows every executor: threads, coroutines, a process pool, Dask."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from ..core.queue import MessageQueue
from ..errors import ConfigError
from .attempt import Item, RetryPolicy
from .coroutines import AsyncRunner, CurrentLoopRunner, is_async_worker, use_current_loop
from .dask import DaskBackend, is_dask_client
from .threads import ThreadRunner

__all__ = ["EXECUTORS", "make_backend", "make_runner"]

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


def make_runner(
    fn: Callable[..., Any],
    items: Iterable[Item],
    q: MessageQueue,
    workers: int,
    *,
    policy: RetryPolicy,
    async_loop: str = "auto",
    backend: Any = None,
    payload: bytes | None = None,
    wait: Callable[[float, Any], None] | None = None,
) -> Any:
    """A thread runner, a coroutine runner for `async def` workers, or a pool runner.

    `async_loop="private"` runs coroutines on a new loop in a thread of their own;
    "current" on the loop running in this thread; "auto" picks "current" when one runs.
    With a pool `backend` (see `make_backend`) tasks run in other processes. `wait` is the
    display's, called by a runner that holds the calling thread (to let a Stop click in).
    """
    if backend is not None:
        from .pool import PoolRunner

        return PoolRunner(fn, items, q, workers, policy=policy, backend=backend, payload=payload)
    if not is_async_worker(fn):
        return ThreadRunner(fn, items, q, workers, policy=policy)
    cls = CurrentLoopRunner if use_current_loop(async_loop) else AsyncRunner
    runner = cls(fn, items, q, workers, policy=policy)
    runner.wait = wait
    return runner
