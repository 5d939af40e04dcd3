"""Run worker functions over tasks: N threads, or N coroutines on one event loop.

Workers pull tasks from one shared iterator (no future per task); around each call the
runner sends a `TaskClosed`, so a worker that sends nothing is still recorded, and a
worker that raises is recorded as `error` with its traceback, or retried.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import inspect
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from .channel import MessageQueue
from .clock import utc_now as _now
from .control import TaskClosed, TasksCancelled
from .errors import ConfigError, WriterError

__all__ = [
    "AsyncRunner",
    "CurrentLoopRunner",
    "ThreadRunner",
    "is_async_worker",
    "make_runner",
    "use_current_loop",
]

Item = tuple[Any, Any, str]  # (task, task_id, name)


def is_async_worker(fn: Callable[..., Any]) -> bool:
    """True for `async def` workers (and partials of them)."""
    return inspect.iscoroutinefunction(getattr(fn, "func", fn))


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def closed_message(
    item: Item, started: str, exc: BaseException | None, retrying: bool = False
) -> TaskClosed:
    """The `TaskClosed` for one attempt at `item`: how it ended, with the traceback if it raised."""
    return TaskClosed(
        item[1],
        item[2],
        started,
        _now(),
        None if exc is None else _describe(exc),
        None if exc is None else "".join(traceback.format_exception(exc)),
        retrying,
    )


def retry_delay(backoff: float, attempt: int) -> float:
    """Seconds to wait before the next attempt: `backoff`, doubling each time."""
    return backoff * (2 ** (attempt - 1))


class _Runner:
    """What thread and coroutine runners share: the task iterator and the in-flight set."""

    def __init__(
        self,
        fn: Callable[..., Any],
        items: Iterable[Item],
        q: MessageQueue,
        workers: int,
        *,
        retries: int = 0,
        backoff: float = 0.5,
    ) -> None:
        self.fn = fn
        self.q = q
        self.workers = workers
        self.retries = retries
        self.backoff = backoff
        self._todo = collections.deque(items)
        self.in_flight: dict[Any, Item] = {}
        self.finished = threading.Event()
        """Set when every worker has stopped taking tasks."""

    def _next(self) -> Item | None:
        # deque.popleft is atomic: workers take tasks without a lock, which under the GIL
        # would make them queue behind a thread preempted while holding it.
        if self.q.cancelled.is_set():
            return None
        try:
            item = self._todo.popleft()
        except IndexError:
            return None
        self.in_flight[item[1]] = item
        return item

    _closed = staticmethod(closed_message)

    def _delay(self, attempt: int) -> float:
        return retry_delay(self.backoff, attempt)

    def not_started(self) -> list[Item]:
        """Take the tasks no worker has started (call after cancelling)."""
        rest = []
        with contextlib.suppress(IndexError):
            while True:
                rest.append(self._todo.popleft())
        return rest


class ThreadRunner(_Runner):
    """`workers` threads, each taking the next task until none is left or the run is cancelled."""

    threads: tuple[threading.Thread, ...] = ()

    def start(self) -> None:
        """Start the worker threads."""
        self._alive = self.workers
        self._alive_lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._loop, name=f"pipeloom-worker-{i}", daemon=True)
            for i in range(self.workers)
        ]
        for t in self.threads:
            t.start()

    def _loop(self) -> None:
        try:
            while (item := self._next()) is not None:
                self._run_one(item)
                del self.in_flight[item[1]]
        except WriterError:
            return  # the engine reports the writer's failure
        finally:
            with self._alive_lock:
                self._alive -= 1
                if self._alive == 0:
                    self.finished.set()

    def _run_one(self, item: Item) -> None:
        put = self.q.put
        attempt = 0
        while True:
            attempt += 1
            started = _now()
            try:
                self.fn(item[0], self.q)
            except Exception as exc:
                retry = attempt <= self.retries and not self.q.cancelled.is_set()
                put(self._closed(item, started, exc, retrying=retry))
                if retry and not self.q.cancelled.wait(self._delay(attempt)):
                    continue
                return
            put(self._closed(item, started, None))
            return

    def join(self, timeout: float | None) -> bool:
        """Wait up to `timeout` seconds for the threads; True if all have ended."""
        deadline = None if timeout is None else time.monotonic() + timeout
        started = [t for t in self.threads if t.ident is not None]  # Ctrl-C may cut start()
        for t in started:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            t.join(left)
        return not any(t.is_alive() for t in started)


class AsyncRunner(_Runner):
    """`workers` coroutines on a private event loop in one thread; cancel cancels them."""

    _thread: threading.Thread | None = None
    _running: dict[Any, asyncio.Task] | None = None
    idle: Callable[[float], None] | None = None
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
        await asyncio.gather(*(self._consume(running) for _ in range(self.workers)))
        watcher.cancel()

    async def _watch_cancel(self, running: dict[Any, asyncio.Task]) -> None:
        while not self.q.cancelled.is_set():
            await asyncio.sleep(0.05)
            if self.idle is not None:
                self.idle(0)
        for task in list(running.values()):
            task.cancel()

    async def _consume(self, running: dict[Any, asyncio.Task]) -> None:
        while (item := self._next()) is not None:
            job = asyncio.ensure_future(self._run_one(item))
            running[item[1]] = job
            try:
                await job
            except asyncio.CancelledError:
                pass
            finally:
                running.pop(item[1], None)
                self.in_flight.pop(item[1], None)

    async def _run_one(self, item: Item) -> None:
        attempt = 0
        while True:
            attempt += 1
            started = _now()
            try:
                await self.fn(item[0], self.q)
            except asyncio.CancelledError:
                self.q.put(TasksCancelled((item[1],), _now()))
                return
            except Exception as exc:
                retry = attempt <= self.retries and not self.q.cancelled.is_set()
                self.q.put(self._closed(item, started, exc, retrying=retry))
                if retry:
                    await asyncio.sleep(self._delay(attempt))
                    continue
                return
            self.q.put(self._closed(item, started, None))
            return

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


def make_runner(
    fn: Callable[..., Any],
    items: Iterable[Item],
    q: MessageQueue,
    workers: int,
    async_loop: str = "auto",
    backend: Any = None,
    payload: bytes | None = None,
    **kw: Any,
) -> Any:
    """A thread runner, a coroutine runner for `async def` workers, or a pool runner.

    `async_loop="private"` runs coroutines on a new loop in a thread of their own;
    "current" on the loop running in this thread; "auto" picks "current" when one runs.
    With a pool `backend` (see `pipeloom.executors`) tasks run in other processes.
    """
    if backend is not None:
        from .pool import PoolRunner

        return PoolRunner(fn, items, q, workers, backend=backend, payload=payload, **kw)
    if not is_async_worker(fn):
        return ThreadRunner(fn, items, q, workers, **kw)
    cls = CurrentLoopRunner if use_current_loop(async_loop) else AsyncRunner
    return cls(fn, items, q, workers, **kw)


def use_current_loop(async_loop: str) -> bool:
    """Whether coroutines run on this thread's loop; ConfigError for an impossible choice."""
    if async_loop not in ("auto", "current", "private"):
        raise ConfigError(f"async_loop must be 'auto', 'current' or 'private', not {async_loop!r}")
    running = has_running_loop()
    if async_loop == "current" and not running:
        raise ConfigError("async_loop='current' needs an event loop running in this thread")
    return async_loop == "current" or (async_loop == "auto" and running)
