"""`run_pipeline`: workers -> bounded queue -> one SQLite writer, with progress and run history."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .checks import check_unique, check_workers, task_key
from .clock import utc_now
from .control import RunClosing, TasksCancelled
from .errors import ConfigError, WriterError
from .execution.attempt import RetryPolicy
from .execution.coroutines import is_async_worker, use_current_loop
from .execution.executors import make_backend, make_runner
from .execution.queue import MessageQueue
from .execution.remote import dumps_worker
from .messages import SENTINEL
from .progress.display import Display, choose_display
from .progress.snapshot import RunStats
from .progress.ticker import Ticker
from .store.connection import Synchronous, check_db_path
from .store.handlers import Handler, HandlerRegistry, Schema
from .store.writer import SQLiteWriter
from .summary import RunSummary

__all__ = ["default_worker", "run_pipeline", "task_key"]

LOG = logging.getLogger("pipeloom.engine")


def default_worker(task: Any, q: Any) -> None:
    """The built-in demo worker (used when `worker_fn` is None)."""
    from .demo import demo_worker

    demo_worker(task, q)


@dataclass
class _Run:
    """One run's moving parts, so the steps below stay short."""

    q: MessageQueue
    stats: RunStats
    writer: SQLiteWriter
    display: Display
    ticker: Ticker
    name: str
    db_path: str
    workers: int


def run_pipeline(
    db_path: str | Path,
    tasks: Iterable[Any],
    *,
    workers: int | None = None,
    wal: bool = True,
    store_task_status: bool = True,
    worker_fn: Callable[..., Any] | None = None,
    handlers: HandlerRegistry | Mapping[type, Handler] | None = None,
    schema: Schema | None = None,
    name: str | None = None,
    resume: bool = False,
    retries: int = 0,
    retry_backoff: float = 0.5,
    synchronous: Synchronous = "NORMAL",
    progress: Any = "auto",
    params: Mapping[str, Any] | None = None,
    cancel_event: threading.Event | None = None,
    cancel_grace: float = 10.0,
    queue_size: int = 10_000,
    batch_size: int = 5000,
    max_latency: float = 0.1,
    writer_cls: type[SQLiteWriter] = SQLiteWriter,
    async_loop: str = "auto",
    executor: Any = "threads",
) -> RunSummary:
    """Run `worker_fn(task, q)` for every task on `workers` threads; one thread writes SQLite.

    Workers `q.put()` messages; the writer applies them (built-in task messages to
    `task_runs`, others through `handlers`) and records the run in `pipeline_runs`.
    `async def` workers run as `workers` concurrent coroutines: on the event loop already
    running in this thread, if any (a Jupyter kernel's), else on a private one
    (`async_loop=`). `executor="processes"` runs tasks in a process pool, a
    `dask.distributed.Client` on its cluster; messages still come back to the one writer
    here. Returns a `RunSummary`.
    Ctrl-C (or `cancel_event.set()`) stops taking tasks, records the rest `cancelled`,
    waits up to `cancel_grace` seconds for tasks in flight, then closes the database.
    """
    worker_fn = default_worker if worker_fn is None else worker_fn
    if not callable(worker_fn):
        raise ConfigError(f"worker_fn must be callable, not {worker_fn!r}")
    if workers is not None:
        check_workers(workers)
    if retries < 0:
        raise ConfigError(f"retries must be >= 0, not {retries!r}")
    backend, pool_workers = make_backend(executor, workers)
    n_workers = pool_workers or check_workers(workers)
    payload = None if backend is None else dumps_worker(worker_fn)
    if backend is None and is_async_worker(worker_fn):
        use_current_loop(async_loop)
    db_text = check_db_path(db_path)
    all_tasks = list(tasks)
    keys = [task_key(t) for t in all_tasks]
    check_unique(keys)
    registry = handlers if isinstance(handlers, HandlerRegistry) else HandlerRegistry(handlers)
    run_name = name or f"{worker_fn.__module__}.{getattr(worker_fn, '__qualname__', 'worker')}"

    run = _open_run(
        run_name,
        n_workers,
        progress,
        writer_cls(
            db_text,
            MessageQueue(queue_size, cancel_event),
            wal=wal,
            store_task_status=store_task_status,
            handlers=registry,
            schema=schema,
            synchronous=synchronous,
            name=run_name,
            tasks=keys,
            workers=n_workers,
            params=params,
            resume=resume,
            batch_size=batch_size,
            max_latency=max_latency,
        ),
    )
    skipped = run.writer.skipped_ids
    items = [(t, k, n) for t, (k, n) in zip(all_tasks, keys, strict=True) if k not in skipped]
    runner = make_runner(
        worker_fn,
        items,
        run.q,
        n_workers,
        policy=RetryPolicy(retries, retry_backoff),
        async_loop=async_loop,
        backend=backend,
        payload=payload,
        wait=run.display.wait,
    )
    return _drive(run, runner, cancel_grace)


def _open_run(run_name: str, n_workers: int, progress: Any, writer: SQLiteWriter) -> _Run:
    """Start the writer and wait until the database is open and the run is recorded."""
    q, db_text = writer.msg_q, str(writer.db_path)
    writer.start()
    try:
        while not writer.ready.wait(0.1):
            pass
    except KeyboardInterrupt:
        q.put(SENTINEL)
        _join_writer(writer)
        raise
    if writer.error is not None:
        writer.join()
        err = writer.error
        if isinstance(err, ConfigError):
            raise ConfigError(str(err)) from err
        raise ConfigError(f"cannot open database {db_text!r}: {err}") from err
    display = choose_display(progress)
    ticker = Ticker(display, writer.stats)
    return _Run(q, writer.stats, writer, display, ticker, run_name, db_text, n_workers)


def _drive(run: _Run, runner: Any, grace: float):
    """Run the tasks to the end, a cancel, Ctrl-C or a writer failure; always close the run."""
    interrupted = cancelled = False
    try:
        run.display.start(
            run.stats.snapshot(), name=run.name, workers=run.workers, cancel=run.q.cancelled
        )
        run.ticker.start()
        if runner.blocking:
            runner.run_here()
            cancelled = run.q.cancelled.is_set() or run.writer.error is not None
        else:
            runner.start()
            cancelled = _wait(run, runner)
    except KeyboardInterrupt:
        interrupted = cancelled = True
        LOG.warning("interrupted: cancelling tasks not yet started")
    finally:
        summary = _close(run, runner, cancelled, grace)
    if interrupted:
        raise KeyboardInterrupt
    if run.writer.error is not None:
        raise WriterError(f"the writer failed: {run.writer.error}") from run.writer.error
    return summary


def _wait(run: _Run, runner: Any) -> bool:
    """Block until the runner ends; True if the run was cancelled.

    The display does the waiting (a notebook's handles clicks on its Stop button meanwhile).
    """
    wait, finished = run.display.wait, runner.finished
    while not finished.is_set():
        wait(0.05, finished)
        if run.q.cancelled.is_set():
            return True
        if run.writer.error is not None or not run.writer.is_alive():
            return True
    return run.q.cancelled.is_set()


def _close(run: _Run, runner: Any, cancelled: bool, grace: float) -> RunSummary:
    q, writer = run.q, run.writer
    if cancelled:
        q.cancelled.set()
        leftover = [item[1] for item in runner.not_started()]
        if not _join_runner(runner, grace):
            leftover += list(runner.in_flight)
            LOG.warning(
                "%d task(s) still running after %.0fs; recorded as cancelled",
                len(runner.in_flight),
                grace,
            )
        if leftover and writer.error is None:
            q.put(TasksCancelled(tuple(leftover), utc_now()))
    if writer.error is None and writer.is_alive():
        q.put(RunClosing("cancelled" if cancelled else None))
        q.put(SENTINEL)
    _join_writer(writer)
    run.ticker.stop()
    snap = run.stats.snapshot()
    counts = {k: v for k, v in snap.counts.items() if k != "running" and k != "queued" and v}
    summary = RunSummary(
        run_id=writer.run_id,
        name=run.name,
        db_path=run.db_path,
        status=writer.status or "failed",
        total=snap.total,
        counts=counts,
        elapsed=snap.elapsed,
        messages=snap.messages,
        errors=snap.errors,
        workers=run.workers,
    )
    run.display.finish(snap, summary)
    return summary


def _join_runner(runner: Any, grace: float) -> bool:
    """Wait for tasks in flight; a second Ctrl-C stops waiting."""
    try:
        return runner.join(grace)
    except KeyboardInterrupt:
        return False


def _join_writer(writer: SQLiteWriter) -> None:
    """Wait for the writer to flush and close; Ctrl-C here does not abandon the data."""
    while writer.is_alive():
        try:
            writer.join(0.1)
        except KeyboardInterrupt:
            LOG.warning("still writing: waiting for the writer to flush and close")
