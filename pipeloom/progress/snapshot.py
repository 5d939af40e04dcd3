"""Live counters of a run: written by the writer thread, read by one display thread."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..core.status import TERMINAL, TaskStatus
from ..core.summary import TaskError
from .inflight import InFlight

__all__ = ["BarState", "RunStats", "StatsSnapshot"]


@dataclass(frozen=True, slots=True)
class BarState:
    """What a display shows for one task in flight."""

    task_id: Any
    """The task's id."""
    name: str
    """The task's name."""
    fraction: float
    """Its last reported progress, 0 to 1 (0 when it reports none)."""
    message: str
    """Its last message ("rate limited: waiting 1.0 s", "retrying after ...")."""
    elapsed: float = 0.0
    """Seconds since it was first seen in flight (its first attempt's start, near enough)."""


@dataclass(frozen=True)
class StatsSnapshot:
    """A consistent copy of the counters, taken under the lock."""

    total: int
    counts: dict[str, int]
    bars: list[BarState]
    errors: list[TaskError]
    elapsed: float
    messages: int
    finished: bool = False
    total_known: bool = True
    """False while the run's tasks come from an iterator not yet exhausted: `total` is
    how many were taken so far."""
    resumed_from: int | None = None
    """With `resume=True`: the run this one continues (its skipped tasks were done there)."""
    growing: bool = False
    """Tasks have added tasks (`AddTasks`): the total may grow, the ETA is a lower bound."""
    in_flight: int = 0
    """Tasks in flight now; `bars` shows the longest-running of them."""
    retries: int = 0
    """Attempts a task may have after its first: with retries, the ETA is a lower bound."""

    @property
    def completed(self) -> int:
        """Tasks that reached a final status, skipped ones included."""
        return sum(self.counts.get(s, 0) for s in TERMINAL)

    @property
    def skipped(self) -> int:
        """Tasks skipped as done in an earlier run (`resume=True`)."""
        return self.counts.get(TaskStatus.SKIPPED, 0)

    @property
    def ran(self) -> int:
        """Tasks this run ran to their end (done or error); skipped and cancelled ones are not."""
        return self.counts.get(TaskStatus.DONE, 0) + self.counts.get(TaskStatus.ERROR, 0)

    @property
    def left(self) -> int:
        """Tasks not yet at a final status (queued or in flight)."""
        return max(0, self.total - self.completed)

    @property
    def rate(self) -> float:
        """Tasks run to their end per second, in this run only (skipped tasks do not count)."""
        return self.ran / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Whole seconds left at this run's rate (at least 1 while tasks are left), or None.

        None while the total is unknown, or before this run's first task ends.
        """
        if not self.total_known:
            return None
        left, rate = self.left, self.rate
        if left == 0:
            return 0.0
        return float(max(1, math.ceil(left / rate))) if rate > 0 else None

    @property
    def eta_is_lower_bound(self) -> bool:
        """True when the run may take longer than `eta` says (see below).

        Retries may add attempts, tasks may add tasks (`AddTasks`); or every task left is in
        flight, and how long each still takes is unknown.
        """
        return self.left > 0 and (self.retries > 0 or self.growing or self.left <= self.in_flight)


@dataclass
class RunStats:
    """Counters updated by the writer once per batch; `snapshot()` is safe from any thread."""

    total: int = 0
    total_known: bool = True
    """False while tasks still come from an iterator: `total` counts those taken so far."""
    counts: Counter = field(default_factory=Counter)
    in_flight: dict[Any, Any] = field(default_factory=dict)
    errors: list[TaskError] = field(default_factory=list)
    messages: int = 0
    max_errors: int = 1000
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    resumed_from: int | None = None
    """With `resume=True`: the run this one continues."""
    growing: bool = False
    """Tasks have added tasks: the total may still grow."""
    retries: int = 0
    """Attempts a task may have after its first (the run's `retries=`)."""
    running: InFlight | None = None
    """The runner's tasks in flight (see `watch`); None: those the writer heard start."""

    def watch(self, tasks: Mapping[Any, Any], retries: int = 0) -> None:
        """Show the tasks in `tasks` (the runner's: id -> (task, id, name)) as in flight."""
        with self.lock:
            self.running = InFlight(tasks)
            self.retries = retries

    def add_error(self, err: TaskError) -> None:
        """Keep an error for display (the first `max_errors` only; all are in the database)."""
        if len(self.errors) < self.max_errors:
            self.errors.append(err)

    def snapshot(self, max_bars: int = 64) -> StatsSnapshot:
        """Copy the counters and the `max_bars` longest-running tasks in flight."""
        with self.lock:
            now = time.monotonic()
            if self.running is None:
                self.running = InFlight(self.in_flight)
            end = self.ended if self.ended is not None else now
            return StatsSnapshot(
                total=self.total,
                counts=dict(self.counts),
                bars=self._bars(max_bars, now) if self.ended is None else [],
                errors=list(self.errors),
                elapsed=end - self.started,
                messages=self.messages,
                finished=self.ended is not None,
                total_known=self.total_known,
                resumed_from=self.resumed_from,
                growing=self.growing and self.ended is None,
                in_flight=len(self.running.tasks) if self.ended is None else 0,
                retries=self.retries,
            )

    def _bars(self, n: int, now: float) -> list[BarState]:
        """The `n` longest in flight, with what the writer heard of each (progress, message)."""
        bars = []
        heard = self.in_flight
        for task_id, item, elapsed in self.running.oldest(n, now):  # type: ignore[union-attr]
            st = heard.get(task_id)
            if st is not None:
                bars.append(BarState(task_id, st.name, st.progress, st.message, elapsed))
            else:  # a runner's item: (task, task id, name)
                bars.append(BarState(task_id, str(item[2]), 0.0, "", elapsed))
        return bars
