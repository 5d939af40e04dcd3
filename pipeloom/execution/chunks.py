"""How many tasks to send per pool call: grow while calls are short, shrink when they are long.

A pool call costs about a millisecond (pickling, the pool's queues, a process waking up),
so tiny tasks sent one per call spend most of their time there. `ChunkSizer` starts at
one task per call and, from how long each call took in its process, aims at `target`
seconds per call: at most doubling after a short call, dropping at once after one longer
than that (as joblib's `batch_size="auto"`). Cancel and time limits act per task inside a call, so
the size only bounds how much work a dead process takes with it.
"""

from __future__ import annotations

__all__ = ["TARGET_SECONDS", "ChunkSizer"]

TARGET_SECONDS = 0.1
"""What a call should last: long enough to hide its cost, short enough to balance the tail."""


class ChunkSizer:
    """The number of tasks for the next pool call, from the durations of calls that ended."""

    def __init__(self, most: int, target: float = TARGET_SECONDS) -> None:
        self.most = max(1, most)
        self.target = target
        self.size = 1
        """Tasks to send in the next call."""

    def record(self, tasks: int, seconds: float) -> None:
        """A call of `tasks` tasks ran `seconds` in its process."""
        if tasks <= 0:
            return
        ideal = int(tasks * self.target / seconds) if seconds > 0 else self.most
        if seconds > self.target:
            self.size = max(1, min(self.size, ideal))
        else:  # a short call: grow, at most doubling (one slow task is not a trend)
            self.size = min(self.most, max(self.size, min(2 * max(tasks, self.size), ideal)))

    def take(self, left: int | None, calls: int) -> int:
        """Tasks for the next call, `left` tasks still to send over `calls` calls at a time.

        Never more than a fair share of what is left, so the last calls keep every
        process busy instead of one running a long tail. `left` None: not known yet (tasks
        from an iterator), so no share is taken.
        """
        if left is None:
            return self.size
        return max(1, min(self.size, left // max(1, calls)))
