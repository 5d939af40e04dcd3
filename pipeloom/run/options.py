"""RunOptions: one run's settings, checked once and kept as one frozen value."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from ..errors import ConfigError
from ..execution.retry import NO_RETRY, RetryPolicy
from ..store.connection import Synchronous
from ..store.handlers import Handler, HandlerRegistry, Schema
from ..store.writer import SQLiteWriter
from .checks import check_limits, check_rate, check_retry_policy, check_workers

__all__ = ["DEFAULTS", "UNSET", "RunOptions", "merged", "option", "run_options"]


class _Unset:
    """The type of `UNSET`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Any = _Unset()
"""An option not given (as opposed to one given as None): the base value is kept."""


@dataclass(frozen=True, slots=True, eq=False)
class RunOptions:
    """Everything about a run but its database and its tasks, each value checked."""

    workers: int | None = None
    """Workers at once; None: the executor's default (threads: CPUs + 4, at most 32)."""
    executor: Any = "threads"
    """"threads", "processes" or a `dask.distributed.Client`."""
    policy: RetryPolicy = NO_RETRY
    """Retries, backoff, which errors, the time limit per attempt, the push-back limit."""
    rate: float | None = None
    """Task starts per second for the whole run; None: no limit."""
    name: str | None = None
    """The run's name; None: the worker's module and name."""
    resume: bool = False
    """Skip the tasks done in an earlier run of the same name."""
    store_task_status: bool = True
    """Write each task's status to `task_runs`."""
    wal: bool = True
    """Open the file in WAL mode."""
    synchronous: Synchronous = "NORMAL"
    """SQLite's `PRAGMA synchronous`."""
    handlers: HandlerRegistry | Mapping[type, Handler] | None = None
    """The handlers of the run's own message types."""
    schema: Schema | None = None
    """SQL (or callables) applied before the run."""
    params: Mapping[str, Any] | None = None
    """Recorded with the run in `pipeline_runs`."""
    progress: Any = "auto"
    """"auto", a display, or False."""
    cancel_event: threading.Event | None = None
    """Set it to stop the run as Ctrl-C does."""
    cancel_grace: float = 10.0
    """Seconds a stopped run waits for the tasks in flight."""
    queue_size: int = 10_000
    """Messages the queue holds before workers wait."""
    batch_size: int = 5000
    """Messages the writer commits at most at once."""
    max_latency: float = 0.1
    """Seconds a message may wait for its commit."""
    lock_timeout: float = 60.0
    """Seconds the writer waits for another connection's write lock."""
    writer_cls: type[SQLiteWriter] = SQLiteWriter
    """The writer's class."""
    async_loop: str = "auto"
    """Which event loop runs `async def` workers."""
    max_tasks: int | None = None
    """How many tasks the run may have in all (added ones included); None: no bound."""


DEFAULTS = RunOptions()
"""The options of a run given none."""

_POLICY = {
    "retries": "retries",
    "retry_backoff": "backoff",
    "retry_max_delay": "max_delay",
    "retry_on": "retry_on",
    "timeout": "timeout",
    "max_retry_after": "max_retry_after",
}
"""Keyword arguments that go into the `RetryPolicy`, and the field each sets."""

_FIELDS = frozenset(f.name for f in fields(RunOptions)) - {"policy"}


def run_options(base: RunOptions = DEFAULTS, /, **given: Any) -> RunOptions:
    """`base` with the keyword arguments given (UNSET ones leave it as it is), all checked.

    The keywords are `run_pipeline`'s (`retries=`, `timeout=`, ... go into the policy);
    a value that cannot work is a `ConfigError`, before any work.
    """
    return _checked(merged(base, **given))


def merged(base: RunOptions, /, **given: Any) -> RunOptions:
    """`base` with the keyword arguments given (UNSET ones left out), not yet checked."""
    given = {k: v for k, v in given.items() if v is not UNSET}
    unknown = sorted(set(given) - _FIELDS - set(_POLICY))
    if unknown:
        raise TypeError(f"unknown run options: {', '.join(unknown)}")
    policy = {_POLICY[k]: given.pop(k) for k in list(given) if k in _POLICY}
    return replace(base, policy=replace(base.policy, **policy), **given)


def option(options: RunOptions, name: str) -> Any:
    """The value of `run_pipeline`'s keyword argument `name` in `options`."""
    if name in _POLICY:
        return getattr(options.policy, _POLICY[name])
    return getattr(options, name)


def _checked(options: RunOptions) -> RunOptions:
    """`options` with every value checked (NaN refused, infinite limits made None)."""
    if options.workers is not None:
        check_workers(options.workers)
    if options.resume and not options.store_task_status:
        raise ConfigError("resume=True needs store_task_status=True (it reads task_runs)")
    p = options.policy
    policy = check_retry_policy(
        p.retries, p.backoff, p.max_delay, p.retry_on, p.timeout, p.max_retry_after
    )
    check_limits(
        cancel_grace=options.cancel_grace,
        lock_timeout=options.lock_timeout,
        max_latency=options.max_latency,
        queue_size=options.queue_size,
        batch_size=options.batch_size,
    )
    return replace(options, policy=policy, rate=check_rate(options.rate))
