"""Live counters of a run: written by the writer thread, read by one display thread."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["TERMINAL", "BarState", "RunStats", "StatsSnapshot", "TaskError"]

TERMINAL = frozenset({"done", "error", "cancelled", "skipped"})


@dataclass(frozen=True, slots=True)
class TaskError:
    """A failed task: what went wrong and where."""

    task_id: Any
    """The task's id."""
    name: str
    """The task's name."""
    message: str
    """The exception type and text."""
    traceback: str | None = None
    """The formatted traceback, when there is one."""


@dataclass(frozen=True, slots=True)
class BarState:
    """What a display shows for one task in flight."""

    task_id: Any
    name: str
    fraction: float
    message: str


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

    @property
    def completed(self) -> int:
        """Tasks that reached a final status."""
        return sum(self.counts.get(s, 0) for s in TERMINAL)

    @property
    def rate(self) -> float:
        """Completed tasks per second so far."""
        return self.completed / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left at the current rate; None before the first task completes, or while
        the total is not known."""
        if not self.total_known:
            return None
        rate = self.rate
        left = self.total - self.completed
        return left / rate if rate > 0 and left > 0 else (0.0 if left <= 0 else None)


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

    def add_error(self, err: TaskError) -> None:
        """Keep an error for display (the first `max_errors` only; all are in the database)."""
        if len(self.errors) < self.max_errors:
            self.errors.append(err)

    def snapshot(self, max_bars: int = 64) -> StatsSnapshot:
        """Copy the counters and up to `max_bars` in-flight tasks."""
        with self.lock:
            bars = []
            for st in self.in_flight.values():
                bars.append(BarState(st.task_id, st.name, st.progress, st.message))
                if len(bars) >= max_bars:
                    break
            end = self.ended if self.ended is not None else time.monotonic()
            return StatsSnapshot(
                total=self.total,
                counts=dict(self.counts),
                bars=bars,
                errors=list(self.errors),
                elapsed=end - self.started,
                messages=self.messages,
                finished=self.ended is not None,
                total_known=self.total_known,
                resumed_from=self.resumed_from,
                growing=self.growing and self.ended is None,
            )
