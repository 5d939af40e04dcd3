"""Checks on `run_pipeline`'s arguments, made before any work starts."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import ConfigError
from ..execution.retry import RetryOn, RetryPolicy
from ..store.text import check_task

__all__ = [
    "check_collection",
    "check_limits",
    "check_max_tasks",
    "check_number",
    "check_rate",
    "check_retry_policy",
    "check_unique",
    "check_whole",
    "check_worker",
    "check_workers",
    "task_key",
]

_MISSING = object()


def task_key(task: Any) -> tuple[Any, str]:
    """(task_id, name) of a task: an object with `task_id` (and `name`), or a mapping."""
    task_id = getattr(task, "task_id", _MISSING)
    if task_id is not _MISSING:
        name = getattr(task, "name", None)
    elif isinstance(task, Mapping) and "task_id" in task:
        task_id, name = task["task_id"], task.get("name")
    else:
        raise ConfigError(f"task {task!r} has no task_id attribute or 'task_id' key")
    if task_id is None or not isinstance(task_id, int | str):
        raise ConfigError(f"task_id must be an int or a str, not {task_id!r}")
    return task_id, str(task_id) if name is None else str(name)


def check_unique(keys: Iterable[tuple[Any, str]]) -> None:
    """ConfigError naming the first duplicate task ids, if any."""
    seen: set[Any] = set()
    dupes = [k for k, _ in keys if k in seen or seen.add(k)]
    if dupes:
        shown = ", ".join(repr(d) for d in dupes[:5])
        raise ConfigError(f"duplicate task ids: {shown}" + (" ..." if len(dupes) > 5 else ""))


def check_collection(tasks: Iterable[Any]) -> int:
    """Check every task of a collection before any work (ids usable and unique); how many."""
    n = 0

    def keys() -> Iterable[tuple[Any, str]]:
        nonlocal n
        for task in tasks:
            task_id, name = task_key(task)
            check_task(task_id, name)
            n += 1
            yield task_id, name

    check_unique(keys())
    return n


def check_whole(name: str, value: Any) -> int:
    """`value`, a whole number >= 1; ConfigError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a whole number >= 1, not {value!r}")
    return value


def check_worker(worker_fn: Any) -> None:
    """ConfigError unless `worker_fn` is callable."""
    if not callable(worker_fn):
        raise ConfigError(f"worker_fn must be callable, not {worker_fn!r}")


def check_workers(workers: int | None) -> int:
    """`workers`, or the default (CPUs + 4, at most 32); ConfigError if it is not >= 1."""
    if workers is None:
        return min(32, (os.cpu_count() or 1) + 4)
    return check_whole("workers", workers)


def check_number(
    name: str,
    value: Any,
    *,
    optional: bool = False,
    zero: bool = False,
    infinite: bool = True,
) -> float | None:
    """`value` as a float: a number > 0 (>= 0 with `zero`), never NaN, finite unless `infinite`.

    None passes when `optional`. Comparisons alone let NaN through (every one is False),
    so it is refused by name.
    """
    if value is None and optional:
        return None
    number = isinstance(value, int | float) and not isinstance(value, bool)
    usable = number and not math.isnan(value) and (infinite or math.isfinite(value))
    if usable and (value > 0 or (zero and value == 0)):
        return float(value)
    what = "a number" if infinite else "a finite number"
    limit = ">= 0" if zero else "> 0"
    none = " or None" if optional else ""
    raise ConfigError(f"{name} must be {what} {limit}{none}, not {value!r}")


def _no_limit(value: float | None) -> float | None:
    """None (no limit) for an infinite limit."""
    return None if value is None or math.isinf(value) else value


def _check_retry_on(retry_on: Any) -> RetryOn | None:
    if retry_on is None:
        return None
    types = retry_on if isinstance(retry_on, tuple) else (retry_on,)
    if all(isinstance(t, type) and issubclass(t, BaseException) for t in types):
        return retry_on
    if callable(retry_on) and not isinstance(retry_on, type | tuple):
        return retry_on
    raise ConfigError(
        f"retry_on must be exception types or a predicate fn(exc) -> bool, not {retry_on!r}"
    )


def check_retry_policy(
    retries: int,
    backoff: float,
    max_delay: float,
    retry_on: RetryOn | None,
    timeout: float | None,
    max_retry_after: float = 3600.0,
) -> RetryPolicy:
    """The run's `RetryPolicy`; ConfigError for a value that cannot work.

    An infinite `timeout`, `retry_max_delay` or `max_retry_after` is no limit; an
    infinite `retry_backoff` is refused (the first retry would never come).
    """
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ConfigError(f"retries must be >= 0, not {retries!r}")
    return RetryPolicy(
        retries,
        check_number("retry_backoff", backoff, zero=True, infinite=False),
        check_number("retry_max_delay", max_delay, zero=True),
        _check_retry_on(retry_on),
        _no_limit(check_number("timeout", timeout, optional=True)),
        check_number("max_retry_after", max_retry_after, zero=True),
    )


def check_rate(rate: float | None) -> float | None:
    """`rate=` (task starts per second) or None (also for an infinite rate); ConfigError
    unless it is > 0."""
    return _no_limit(check_number("rate", rate, optional=True))


def check_limits(
    *, cancel_grace: Any, lock_timeout: Any, max_latency: Any, queue_size: Any, batch_size: Any
) -> None:
    """ConfigError for a writer or shutdown limit that cannot work (infinite: no limit)."""
    for name, value in (
        ("cancel_grace", cancel_grace),
        ("lock_timeout", lock_timeout),
        ("max_latency", max_latency),
    ):
        check_number(name, value, zero=True)
    check_whole("queue_size", queue_size)
    check_whole("batch_size", batch_size)


def check_max_tasks(max_tasks: int | None, total: int | None) -> None:
    """ConfigError for a `max_tasks` that is not a positive int, or below a list's length."""
    if max_tasks is None:
        return
    if type(max_tasks) is not int or max_tasks < 1:
        raise ConfigError(f"max_tasks must be a positive int or None, not {max_tasks!r}")
    if total is not None and total > max_tasks:
        raise ConfigError(f"{total} tasks given, more than max_tasks={max_tasks}")
