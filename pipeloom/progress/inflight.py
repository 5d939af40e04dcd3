"""The tasks in flight as a display shows them: the longest-running first, with their time."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["InFlight"]

SCAN = 256
"""The newest tasks in flight looked at per snapshot, to note when each was first seen."""


class InFlight:
    """When each task of a map of tasks in flight (id -> item, oldest first) was first seen.

    The map is the runner's (every task a worker holds, from its first attempt to its
    last) or, without one, the writer's (the tasks it heard start). A snapshot looks at the
    `n` oldest entries and the `SCAN` newest, so its cost does not grow with the tasks in
    flight; a task first seen later than it started (more than `SCAN` started between two
    snapshots) shows a shorter time. Not thread-safe: `RunStats` calls it under its lock.
    """

    def __init__(self, tasks: Mapping[Any, Any]) -> None:
        self.tasks = tasks
        self._seen: dict[Any, float] = {}

    def oldest(self, n: int, now: float) -> list[tuple[Any, Any, float]]:
        """The `n` longest in flight, oldest first: (task id, item, seconds since first seen)."""
        seen, tasks = self._seen, self.tasks
        for task_id in _first(lambda: _newest(tasks), SCAN):
            seen.setdefault(task_id, now)
        rows = [
            (task_id, item, now - seen.setdefault(task_id, now))
            for task_id, item in _first(tasks.items, n)
        ]
        if len(seen) > 2 * len(self.tasks) + SCAN:  # forget the ended, now and then
            self._seen = {task_id: t for task_id, t in seen.items() if task_id in self.tasks}
        return rows


def _newest(tasks: Mapping[Any, Any]) -> Iterable[Any]:
    return reversed(tasks) if hasattr(tasks, "__reversed__") else ()


def _first(items: Callable[[], Iterable[Any]], n: int) -> list[Any]:
    """The first `n` of a dict that worker threads change meanwhile (nothing if they keep
    changing it: the next snapshot will see it)."""
    for _ in range(3):
        try:
            return list(itertools.islice(items(), n))
        except RuntimeError:  # changed size during iteration
            continue
    return []
