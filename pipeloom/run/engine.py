"""`run_pipeline`: workers -> bounded queue -> one SQLite writer, with progress and run history."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from ..core.queue import MessageQueue
from ..core.summary import RunSummary
from ..execution.coroutines import is_async_worker, use_current_loop
from ..execution.executors import make_backend, make_runner
from ..execution.retry import RetryOn
from ..execution.throttle import Throttle
from ..execution.wire import dumps_worker
from ..progress.display import choose_display
from ..store.connection import Synchronous, check_db_path
from ..store.handlers import Handler, HandlerRegistry, Schema
from ..store.writer import SQLiteWriter
from .checks import check_collection, check_max_tasks, check_worker, check_workers, task_key
from .feed import TaskFeed, is_collection, recreate
from .lifecycle import drive, open_run
from .options import RunOptions, run_options

__all__ = ["default_worker", "run_pipeline", "task_key"]

_NOT_OPTIONS = frozenset({"db_path", "tasks", "worker_fn"})
"""`run_pipeline`'s parameters that are the run itself, not its `RunOptions`."""


def default_worker(task: Any, q: Any) -> None:
    """The built-in demo worker (used when `worker_fn` is None)."""
    from ..demo import demo_worker

    demo_worker(task, q)


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
    retry_max_delay: float = 60.0,
    retry_on: RetryOn | None = None,
    timeout: float | None = None,
    rate: float | None = None,
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
    lock_timeout: float = 60.0,
    max_retry_after: float = 3600.0,
    max_tasks: int | None = None,
) -> RunSummary:
    """Run `worker_fn(task, q)` for every task on `workers` threads; one thread writes SQLite.

    Workers `q.put()` messages; the writer applies them (built-in task messages to
    `task_runs`, others through `handlers`) and records the run in `pipeline_runs`.
    `async def` workers run as `workers` concurrent coroutines: on the event loop already
    running in this thread, if any (a Jupyter kernel's), else on a private one
    (`async_loop=`). `executor="processes"` runs tasks in a process pool, a
    `dask.distributed.Client` on its cluster; messages still come back to the one writer
    here. Returns a `RunSummary`.
    `tasks` may be a generator: it is read lazily, a few chunks ahead of the workers, and
    memory does not grow with the tasks finished. A collection (a list) is checked whole
    before any work; an iterator's tasks are checked as they come: a duplicate id, an
    unusable task or an exception the iterator raises stops taking tasks, lets those
    taken finish, and is raised once the run is closed (recorded as a run-level error).
    Ctrl-C (or `cancel_event.set()`) stops taking tasks, records the rest `cancelled`
    (of an iterator: those taken, not those never read), waits up to `cancel_grace`
    seconds for tasks in flight, then closes the database; Ctrl-C propagates once every
    message handed over is committed. The writer waits up to `lock_timeout` seconds for
    another connection's write lock on the file.

    Retries and limits: a task that raises is retried up to `retries` times if `retry_on`
    (exception types or a predicate; default: all but errors a retry repeats, see
    `pipeloom.execution.retry`) wants it, after `retry_backoff` seconds doubling each time,
    jittered, at most `retry_max_delay`. `timeout` bounds each attempt in seconds (a
    coroutine is cancelled; a thread is abandoned and replaced). `rate` caps task starts
    per second for the whole run, every executor alike; workers take one more start per
    further request with `q.throttle()` (`await q.athrottle()`). A server's push-back
    (HTTP 429/503 with `Retry-After`, or `pipeloom.RetryAfter`) retries after its delay
    and slows the whole run; one asking for more than `max_retry_after` seconds fails its
    task instead, naming the server's value. Every number is checked before any work:
    NaN is a `ConfigError`; an infinite limit is no limit (`retry_backoff` must be finite).

    A task may add tasks to the run (`q.put(AddTasks(tasks))`: the next page, a listing's
    details); `max_tasks` bounds how many tasks a run may have in all.
    """
    given = dict(locals())  # the parameters: nothing else is bound yet
    worker_fn = default_worker if worker_fn is None else worker_fn
    check_worker(worker_fn)
    options = run_options(**{k: v for k, v in given.items() if k not in _NOT_OPTIONS})
    return run_with_options(db_path, tasks, worker_fn, options)


def run_with_options(
    db_path: str | Path, tasks: Iterable[Any], worker_fn: Callable[..., Any], options: RunOptions
) -> RunSummary:
    """`run_pipeline` with its options already checked: build the writer and the runner, drive."""
    o = options
    backend, pool_workers = make_backend(o.executor, o.workers)
    n_workers = pool_workers or check_workers(o.workers)
    payload = None if backend is None else dumps_worker(worker_fn)
    if backend is None and is_async_worker(worker_fn):
        use_current_loop(o.async_loop)
    db_text = check_db_path(db_path)
    total = check_collection(tasks) if is_collection(tasks) else None
    check_max_tasks(o.max_tasks, total)
    seen: set = set()
    handlers = o.handlers
    registry = handlers if isinstance(handlers, HandlerRegistry) else HandlerRegistry(handlers)
    run_name = o.name or f"{worker_fn.__module__}.{getattr(worker_fn, '__qualname__', 'worker')}"

    display = choose_display(o.progress)
    writer = o.writer_cls(
        db_text,
        MessageQueue(o.queue_size, o.cancel_event, Throttle(o.rate)),
        wal=o.wal,
        store_task_status=o.store_task_status,
        handlers=registry,
        schema=o.schema,
        synchronous=o.synchronous,
        name=run_name,
        workers=n_workers,
        params=o.params,
        resume=o.resume,
        batch_size=o.batch_size,
        max_latency=o.max_latency,
        lock_timeout=o.lock_timeout,
        sentinel_stops=False,
        known=seen,
        total=total,
    )

    def make_feed() -> TaskFeed:
        return TaskFeed(tasks, writer.msg_q, seen, writer.skipped_ids, o.max_tasks)

    run = open_run(writer, display, run_name, n_workers, make_feed)
    feed = run.feed = make_feed()
    run.q.growth = feed.add
    recreate(feed, run.writer.to_recreate)
    runner = make_runner(
        worker_fn,
        feed,
        run.q,
        n_workers,
        policy=o.policy,
        async_loop=o.async_loop,
        backend=backend,
        payload=payload,
        wait=run.display.wait,
    )
    return drive(run, runner, o.cancel_grace)
