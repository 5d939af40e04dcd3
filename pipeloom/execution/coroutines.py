"""Coroutine runners: `async def` workers as N coroutines on one event loop."""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Callable
from typing import Any

from ..core.lane import CURRENT_TASK, LANE
from ..errors import ConfigError, WriterError
from .attempt import Item, run_attempts_async
from .base import Runner

__all__ = [
    "AsyncRunner",
    "CurrentLoopRunner",
    "has_running_loop",
    "is_async_worker",
    "use_current_loop",
]


def is_async_worker(fn: Callable[..., Any]) -> bool:
    """True for `async def` workers (and partials of them)."""
    return inspect.iscoroutinefunction(getattr(fn, "func", fn))


class AsyncRunner(Runner):
    """`workers` coroutines on a private event loop in one thread; cancel cancels them."""

    _thread: threading.Thread | None = None
    _running: dict[Any, asyncio.Task] | None = None
    wait: Callable[[float, threading.Event | None], None] | None = None
    """Called every 50 ms with 0 on the current loop (a notebook display's, to handle Stop)."""

    def start(self) -> None:
        """Start the loop thread."""
        self._thread = threading.Thread(target=self._main, name="pipeloom-async", daemon=True)
        self._thread.start()

    def _main(self) -> None:
        try:
            asyncio.run(self._consume_all())
        finally:
            self.finished.set()

    async def _consume_all(self) -> None:
        running = self._running = {}
        watcher = asyncio.create_task(self._watch_cancel(running))
        await asyncio.gather(*(self._consume(running, slot) for slot in range(self.workers)))
        watcher.cancel()

    async def _watch_cancel(self, running: dict[Any, asyncio.Task]) -> None:
        while not self.q.cancelled.is_set():
            await asyncio.sleep(0.05)
            if self.wait is not None:
                self.wait(0, None)
        for task in list(running.values()):
            task.cancel()

    async def _consume(self, running: dict[Any, asyncio.Task], slot: int) -> None:
        LANE.set(f"coroutine-{slot}")  # this task's context, inherited by its attempts
        while True:
            item = self._next()
            if item is None:
                if not self.may_grow():
                    return
                await asyncio.sleep(0.01)  # a task in flight may add tasks
                continue
            CURRENT_TASK.set(item.task_id)  # the job's context is a copy taken now
            job = asyncio.ensure_future(self._run_one(item))
            running[item.task_id] = job
            try:
                await job
            except asyncio.CancelledError:
                pass
            except BaseException as exc:  # of any kind: it fails the task, not the loop
                self._survive(item, exc)
            finally:
                running.pop(item.task_id, None)
                self.in_flight.pop(item.task_id, None)

    async def _run_one(self, item: Item) -> None:
        await run_attempts_async(self.fn, item, self.q, self.policy)

    def join(self, timeout: float | None) -> bool:
        """Wait up to `timeout` seconds for the loop thread; True if it has ended."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()


class CurrentLoopRunner(AsyncRunner):
    """Coroutines on the event loop already running in this thread (a Jupyter kernel's).

    Objects bound to that loop (a client session made in a cell, say) keep working. The
    loop is made re-entrant with nest-asyncio2, on that loop only and only when used.
    """

    blocking = True

    def run_here(self) -> None:
        """Run every task to the end on the current loop; returns when done or cancelled."""
        import nest_asyncio2

        loop = asyncio.get_running_loop()
        nest_asyncio2.apply(loop)
        try:
            loop.run_until_complete(self._consume_all())
        except WriterError:
            pass  # the engine reports the writer's failure
        except BaseException:
            for task in (self._running or {}).values():
                task.cancel()  # leave nothing of ours running on the kernel's loop
            raise
        finally:
            self.finished.set()

    def join(self, timeout: float | None) -> bool:
        """Nothing runs once `run_here` has returned; True unless tasks were left in flight."""
        return not self.in_flight


def has_running_loop() -> bool:
    """True when an event loop runs in this thread (as in a Jupyter kernel's cells)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def use_current_loop(async_loop: str) -> bool:
    """Whether coroutines run on this thread's loop; ConfigError for an impossible choice."""
    if async_loop not in ("auto", "current", "private"):
        raise ConfigError(f"async_loop must be 'auto', 'current' or 'private', not {async_loop!r}")
    running = has_running_loop()
    if async_loop == "current" and not running:
        raise ConfigError("async_loop='current' needs an event loop running in this thread")
    return async_loop == "current" or (async_loop == "auto" and running)
