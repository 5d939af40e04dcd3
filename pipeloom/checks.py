"""Checks on `run_pipeline`'s arguments, made before any work starts."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import ConfigError
from .execution.retry import RetryOn, RetryPolicy
from .store.text import check_task

__all__ = [
    "check_collection",
    "check_max_tasks",
    "check_rate",
    "check_retry_policy",
    "check_unique",
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


def check_workers(workers: int | None) -> int:
    """`workers`, or the default (CPUs + 4, at most 32); ConfigError if it is not >= 1."""
    if workers is None:
        return min(32, (os.cpu_count() or 1) + 4)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers must be a whole number >= 1, not {workers!r}")
    return workers


def _positive(name: str, value: Any, *, optional: bool = True, zero: bool = False) -> None:
    if value is None and optional:
        return
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or value < 0 or (value == 0 and not zero):
        what = ">= 0" if zero else "> 0"
        raise ConfigError(
            f"{name} must be a number {what}{' or None' if optional else ''}, not {value!r}"
        )


def _check_retry_on(retry_on: Any) -> None:
    if retry_on is None:
        return
    types = retry_on if isinstance(retry_on, tuple) else (retry_on,)
    if all(isinstance(t, type) and issubclass(t, BaseException) for t in types):
        return
    if callable(retry_on) and not isinstance(retry_on, type | tuple):
        return
    raise ConfigError(
        f"retry_on must be exception types or a predicate fn(exc) -> bool, not {retry_on!r}"
    )


def check_retry_policy(
    retries: int,
    backoff: float,
    max_delay: float,
    retry_on: RetryOn | None,
    timeout: float | None,
) -> RetryPolicy:
    """The run's `RetryPolicy`; ConfigError for a value that cannot work."""
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ConfigError(f"retries must be >= 0, not {retries!r}")
    _positive("retry_backoff", backoff, optional=False, zero=True)
    _positive("retry_max_delay", max_delay, optional=False, zero=True)
    _positive("timeout", timeout)
    _check_retry_on(retry_on)
    return RetryPolicy(retries, backoff, max_delay, retry_on, timeout)


def check_rate(rate: float | None) -> float | None:
    """`rate=` (task starts per second) or None; ConfigError unless it is > 0."""
    _positive("rate", rate)
    return None if rate is None else float(rate)


def check_max_tasks(max_tasks: int | None, total: int | None) -> None:
    """ConfigError for a `max_tasks` that is not a positive int, or below a list's length."""
    if max_tasks is None:
        return
    if type(max_tasks) is not int or max_tasks < 1:
        raise ConfigError(f"max_tasks must be a positive int or None, not {max_tasks!r}")
    if total is not None and total > max_tasks:
        raise ConfigError(f"{total} tasks given, more than max_tasks={max_tasks}")
