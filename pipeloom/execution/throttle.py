"""`Throttle`: the run's task starts per second, shared by every worker, and its push-backs.

One object in the run's process hands out start times (GCRA: a token bucket of one
token, so starts are evenly spaced). Threads wait for their turn on the cancel event,
coroutines with `asyncio.sleep`, pool processes ask the parent over their return path
and wait there: a reservation is "your turn is in N seconds", so one bucket serves all.

When the server pushes back (`Retry-After`), every start waits until that moment, and
the rate halves, then recovers linearly to the full rate over `recover` seconds. With
no `rate=`, a push-back still pauses the run, and sets a rate: half the starts of the
last second.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

__all__ = ["Throttle"]

MIN_FACTOR = 0.05


class Throttle:
    """The run's shared start budget (`rate=` per second, or None: no limit until a push-back)."""

    def __init__(
        self,
        rate: float | None = None,
        *,
        recover: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.recover = recover
        self._clock = clock
        self._lock = threading.Lock()
        self._next = 0.0
        self._hold = 0.0
        self._factor = 1.0
        self._since = 0.0
        self._recent: deque[float] = deque(maxlen=256)
        self.throttled = 0
        """Push-backs obeyed (a task retried after the server's delay)."""
        self.timed_out = 0
        """Attempts that ran past `timeout=`."""
        self.abandoned = 0
        """Of those, attempts left running in threads that cannot be stopped."""

    def reserve(self) -> float:
        """Take the next start; seconds to wait before it (0: start now).

        With no rate and no push-back in force, no lock is taken: workers taking a lock per
        task queue behind a thread preempted while holding it (a convoy under the GIL).
        `deque.append` is atomic, and a start racing a push-back is harmless.
        """
        if self.rate is None:
            now = self._clock()
            if now >= self._hold:
                self._recent.append(now)
                return 0.0
        with self._lock:
            now = self._clock()
            start = max(now, self._hold)
            rate = self._rate(now)
            if rate is not None:
                start = max(start, self._next)
                self._next = start + 1.0 / rate
            if self.rate is None:
                self._recent.append(start)
            return start - now

    def count_start(self) -> None:
        """A start made without a reservation (a pool process while the run is not paced):
        counted for the rate a push-back sets."""
        self._recent.append(self._clock())

    def current_rate(self) -> float | None:
        """Starts per second allowed now (None: no limit)."""
        with self._lock:
            return self._rate(self._clock())

    def _rate(self, now: float) -> float | None:
        if self.rate is None:
            return None
        recovered = max(0.0, now - self._since) / self.recover  # none before the hold ends
        return self.rate * min(1.0, self._factor + recovered)

    def push_back(self, delay: float) -> None:
        """The server asked to wait `delay` seconds: hold every start, halve the rate."""
        with self._lock:
            now = self._clock()
            if now >= self._hold:  # push-backs to starts made before the last one: once
                if self.rate is None:
                    self.rate = self._recent_rate(now)
                current = self._rate(now) or self.rate
                self._factor = max(MIN_FACTOR, current / self.rate / 2)
            self._hold = max(self._hold, now + delay)
            self._since = self._hold
            self._next = max(self._next, self._hold)

    def _recent_rate(self, now: float) -> float:
        """Starts per second over the last second, or over the run's age if younger: a
        push-back in a run's first milliseconds does not mistake them for a whole second."""
        starts = [t for t in self._recent if t > now - 1.0]
        if not starts:
            return 1.0
        older = len(starts) < len(self._recent)  # the run is older than a second
        span = 1.0 if older else min(1.0, max(0.05, now - starts[0]))
        return max(1.0, len(starts) / span)

    def record(self, closed: Any) -> None:
        """Hear how an attempt ended (a `TaskClosed`): push-backs, timeouts."""
        if closed.retry_after is None and not closed.timed_out:
            return  # nearly every attempt: no lock
        if closed.retry_after is not None:
            self.push_back(closed.retry_after)
        with self._lock:
            self.throttled += closed.retry_after is not None and closed.retrying
            self.timed_out += closed.timed_out
            self.abandoned += closed.abandoned

    def facts(self) -> dict[str, int]:
        """The counts a run reports: throttled, timed_out, abandoned."""
        with self._lock:
            return {
                "throttled": self.throttled,
                "timed_out": self.timed_out,
                "abandoned": self.abandoned,
            }
