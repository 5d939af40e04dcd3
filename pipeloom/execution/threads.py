"""`ThreadRunner`: N worker threads taking tasks until none is left or the run is cancelled."""

from __future__ import annotations

import threading
import time

from ..core.lane import CURRENT_TASK, LANE
from ..errors import RunEnded, WriterError
from .attempt import Item, run_attempts
from .base import Runner

__all__ = ["ThreadRunner"]


class ThreadRunner(Runner):
    """`workers` threads, each taking the next task until none is left or the run is cancelled."""

    threads: tuple[threading.Thread, ...] = ()

    def start(self) -> None:
        """Start the worker threads."""
        self._alive = self.workers
        self._alive_lock = threading.Lock()
        self.threads = tuple(
            threading.Thread(target=self._loop, name=f"pipeloom-worker-{i}", daemon=True)
            for i in range(self.workers)
        )
        for t in self.threads:
            t.start()

    def _loop(self) -> None:
        LANE.set(threading.current_thread().name)  # looked up once, not per attempt
        try:
            while True:
                item = self._next()
                if item is None:
                    if self.wait_for_growth():
                        continue
                    return
                CURRENT_TASK.set(item.task_id)
                try:
                    self._run_one(item)
                except BaseException as exc:  # of any kind: it fails the task, not the thread
                    self._survive(item, exc)
                del self.in_flight[item.task_id]
                self.wake()
        except (WriterError, RunEnded):
            return  # the engine reports the writer's failure; a run that ended takes no more
        finally:
            with self._alive_lock:
                self._alive -= 1
                if self._alive == 0:
                    self.finished.set()

    def _run_one(self, item: Item) -> None:
        run_attempts(self.fn, item, self.q, self.policy)

    def join(self, timeout: float | None) -> bool:
        """Wait up to `timeout` seconds for the threads; True if all have ended."""
        deadline = None if timeout is None else time.monotonic() + timeout
        started = [t for t in self.threads if t.ident is not None]  # Ctrl-C may cut start()
        for t in started:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            t.join(left)
        return not any(t.is_alive() for t in started)
