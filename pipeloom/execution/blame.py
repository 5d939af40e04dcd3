"""Which task killed a pool process: the tasks of a dead call are run again alone to find out.

When a process dies, every call in flight fails with it, and nothing says which task was
to blame. The tasks not heard ending become suspects; they are run again in one call
alone in the pool (`solo`), which reports each task's end: if that call dies too, the
first task not heard ending killed its process. Pure bookkeeping: the runner submits,
closes and re-queues; this class only decides (tested without a pool).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from .attempt import Item

__all__ = ["CrashBlame"]


class CrashBlame:
    """Suspects of a dead pool call, the call now running alone, and each task's crashes."""

    def __init__(self) -> None:
        self._suspects: deque[Item] = deque()
        self._crashes: dict[Any, int] = {}
        self.solo: list[Item] | None = None
        """The call running alone (its tasks' ends are heard one by one), if any."""

    def __bool__(self) -> bool:
        """True while suspects wait to run again."""
        return bool(self._suspects)

    def suspect(self, items: list[Item]) -> None:
        """Tasks of a call that died beside others: to run again, later, alone."""
        self._suspects.extend(items)

    def requeue(self, items: list[Item]) -> None:
        """Tasks to run again first, in this order."""
        self._suspects.extendleft(reversed(items))

    def next_solo(self, size: int) -> list[Item]:
        """The next call to run alone: up to `size` suspects."""
        self.solo = [self._suspects.popleft() for _ in range(min(size, len(self._suspects)))]
        return self.solo

    def take_all(self) -> list[Item]:
        """Every suspect, taken (a cancel: they will not run again)."""
        taken = []
        while self._suspects:
            try:
                taken.append(self._suspects.popleft())
            except IndexError:  # another thread took the last one
                break
        return taken

    def killer(self, unheard: list[Item], retries: int, cancelled: bool) -> tuple[Item, bool]:
        """The task that killed the call running alone (its first not heard ending), and
        whether it runs again (`retries` allow it, the run is not cancelled)."""
        killer = unheard[0]
        crashes = self._crashes[killer.task_id] = self._crashes.get(killer.task_id, 0) + 1
        return killer, crashes <= retries and not cancelled
