"""Run tasks on a pool in other processes (loky, Dask), messages streaming back to the writer.

The runner keeps a bounded window of pool calls submitted (bounded memory, and a cancel
only has to wait for what is in flight), each call a chunk of tasks sized by `ChunkSizer`
(one task per call on Dask), and forwards message batches from the pool's return path
to the writer's queue. A task is in flight until its last `TaskClosed` (or its
`TasksCancelled`) is forwarded.

When a worker process dies, the pool breaks and every call in flight fails with it. The
tasks of those calls that were not heard ending (their results, if any, died with the
process) are run again, in one call alone in the pool that sends each task's messages
at its end: if that call dies too, the first task not heard ending is the one that
killed its process, recorded as `error` (or retried, with `retries=`); the others go on.
It is done when every task has ended and every task's messages have been forwarded.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from ..core.clock import utc_now as _now
from ..core.control import TaskClosed, TasksCancelled
from ..core.queue import MessageQueue
from ..errors import RunEnded, WriterError
from .attempt import NO_RETRY, Item, RetryPolicy, closed_message
from .backend import Backend
from .base import Runner
from .blame import CrashBlame
from .chunks import ChunkSizer
from .remote import run_chunk
from .wire import dumps_worker, read_batch

__all__ = ["PoolRunner"]

LOG = logging.getLogger("pipeloom.pool")

STILL_RUNNING = "cancelled: still running when the grace period ended"


_WAKE = object()
"""Put on the calls' done-queue when tasks are added (no call of that name is pending)."""


class PoolRunner(Runner):
    """Tasks on a `Backend`'s pool; the same protocol as `ThreadRunner`."""

    def __init__(
        self,
        fn: Callable[..., Any],
        items: Iterable[Item],
        q: MessageQueue,
        workers: int,
        *,
        policy: RetryPolicy = NO_RETRY,
        backend: Backend,
        payload: bytes | None = None,
    ) -> None:
        super().__init__(fn, items, q, workers, policy=policy)
        self.backend = backend
        self._payload = payload if payload is not None else dumps_worker(fn)
        self._done: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._pending: dict[Any, list[Item]] = {}
        self._blame = CrashBlame()
        self._window = backend.window(workers)
        self._sizer = ChunkSizer(backend.chunk_most)
        self._paced = False
        self._stop_forwarding = threading.Event()
        self._abandoned = False
        self._tainted = False
        """A timed-out attempt's thread runs on in a pool process: replace the processes."""

    def start(self) -> None:
        """Open the return path and start the submitting and forwarding threads."""
        limiter = self.q.limiter
        self._paced = limiter is not None and limiter.rate is not None
        self._return_path = self.backend.return_path(self.q.reserve, self._paced)
        self._forwarder = threading.Thread(
            target=self._forward, name="pipeloom-forward", daemon=True
        )
        self._driver = threading.Thread(target=self._drive, name="pipeloom-pool", daemon=True)
        self._forwarder.start()
        self._driver.start()

    def _forward(self) -> None:
        put, closed, skipped = self.q.put, TaskClosed, TasksCancelled
        ended = self.in_flight.pop
        try:
            while not self._stop_forwarding.is_set():
                for data in self.backend.receive(0.05):
                    for msg in read_batch(data):
                        put(msg)
                        if type(msg) is closed:
                            self._heard(msg)
                        elif type(msg) is skipped:
                            for task_id in msg.task_ids:
                                ended(task_id, None)
        except WriterError:
            self._stop_forwarding.set()
        except Exception as exc:
            LOG.error("cannot receive messages from the pool: %s", exc)
            self._stop_forwarding.set()

    def _heard(self, msg: TaskClosed) -> None:
        """An attempt ended in a worker process: count it, tell the run's throttle."""
        if not msg.retrying:
            self.in_flight.pop(msg.task_id, None)
        limiter = self.q.limiter
        if limiter is not None:
            if not self._paced:
                limiter.count_start()
            limiter.record(msg)
            if msg.retry_after is not None and not self._paced:
                self._paced = True
                self.backend.pace()
        self._tainted |= msg.abandoned

    def wake(self) -> None:
        """Tasks were added: submit them without waiting for a call to end."""
        self._done.put(_WAKE)

    def _drive(self) -> None:
        try:
            while True:
                self._submit_more()
                while self._pending:
                    self._settle(self._done.get())
                    self._submit_more()
                self._cancel_suspects()
                self._wait_forwarded()  # every end heard: any task they added is in the feed
                if self.q.cancelled.is_set() or not self.has_work():
                    break
        finally:
            self._shut()
            self.finished.set()

    def _take_suspects(self) -> list[Item]:
        taken = self._blame.take_all()
        for item in taken:
            self.in_flight.pop(item.task_id, None)
        return taken

    def _cancel_suspects(self) -> None:
        """Tasks to re-run after a pool died during a cancel (Ctrl-C reaches the pool too)."""
        if taken := self._take_suspects():
            with contextlib.suppress(WriterError, RunEnded):
                self.q.put(TasksCancelled(tuple(item.task_id for item in taken), _now()))

    def _shut(self) -> None:
        self._stop_forwarding.set()
        if self._forwarder is not threading.current_thread():
            self._forwarder.join(5)
        if self._tainted:
            LOG.info("stopping the pool's processes: timed-out attempts still run in them")
            self.backend.stop([])
        self.backend.close()

    def _submit_more(self) -> None:
        if self._blame:
            if not self._pending and not self.q.cancelled.is_set():
                self._submit(self._blame.next_solo(self._sizer.size), careful=True)
            return
        self._blame.solo = None
        while len(self._pending) < self._window and (chunk := self._take()):
            self._submit(chunk)

    def _take(self) -> list[Item]:
        """The next chunk of tasks not started (empty when none is left, or cancelled)."""
        left = self.feed.left()  # None: an iterator, its length unknown until its end
        size = self._sizer.take(None if left is None else left + len(self._todo), self._window)
        chunk = []
        while len(chunk) < size and (item := self._next()) is not None:
            chunk.append(item)
        return chunk

    def _submit(self, chunk: list[Item], careful: bool = False) -> None:
        for item in chunk:  # before the call: its tasks may end before submit returns
            self.in_flight[item.task_id] = item
        try:
            fut = self.backend.submit(
                run_chunk, self._payload, chunk, self._return_path, self.policy, careful
            )
        except Exception as exc:
            for item in chunk:
                self._put_closed(item, exc)
            return
        self._pending[fut] = chunk
        fut.add_done_callback(self._done.put)

    def _unheard(self, chunk: list[Item]) -> list[Item]:
        """The tasks of `chunk` not heard ending yet."""
        return [item for item in chunk if item.task_id in self.in_flight]

    def _settle(self, fut: Any) -> None:
        chunk = self._pending.pop(fut, None)
        if chunk is None or fut.cancelled():
            return
        if self._abandoned:  # its process was stopped after the grace period: not its fault
            if ids := tuple(item.task_id for item in self._unheard(chunk)):
                with contextlib.suppress(WriterError, RunEnded):
                    self.q.put(TasksCancelled(ids, _now(), STILL_RUNNING))
            return
        exc = fut.exception()
        if exc is None:  # every task sent its TaskClosed, or TasksCancelled if it skipped
            self._sizer.record(len(chunk), fut.result())
        elif self.backend.died(exc):
            self._died(chunk, exc)
        else:
            for item in self._unheard(chunk):
                self._put_closed(item, exc)

    def _died(self, chunk: list[Item], exc: BaseException) -> None:
        """The call's process died: run its tasks not heard ending again; blame one if alone."""
        self.backend.drain()
        unheard = self._unheard(chunk)
        if chunk is not self._blame.solo:
            self._blame.suspect(unheard)  # any results they had died with the process
            return
        if not unheard:
            return
        cancelled = self.q.cancelled.is_set()
        killer, retry = self._blame.killer(unheard, self.policy.retries, cancelled)
        self._put_closed(killer, exc, retrying=retry)
        if retry:
            self.in_flight[killer.task_id] = killer
        self._blame.requeue([killer, *unheard[1:]] if retry else unheard[1:])

    def _put_closed(self, item: Item, exc: BaseException, retrying: bool = False) -> None:
        """Close a task from here: its process died, or it could not be sent."""
        self.in_flight.pop(item.task_id, None)
        with contextlib.suppress(WriterError, RunEnded):
            self.q.put(closed_message(item, time.time_ns(), exc, retrying))

    def _wait_forwarded(self) -> None:
        """Every finished task's messages were sent before its call returned; wait for them."""
        deadline = time.monotonic() + 30
        while self.in_flight and not self._stop_forwarding.is_set():
            if time.monotonic() > deadline:
                LOG.warning(
                    "%d task(s) ended without their last message arriving", len(self.in_flight)
                )
                return
            time.sleep(0.01)

    def not_started(self) -> list[Item]:
        """Take the tasks no worker has started: those not submitted, and queued calls."""
        self.backend.signal_cancel()
        rest = super().not_started()
        rest += self._take_suspects()
        for fut, chunk in list(self._pending.items()):
            if self.backend.cancel(fut):
                for item in chunk:
                    self.in_flight.pop(item.task_id, None)
                rest += chunk
        return rest

    def join(self, timeout: float | None) -> bool:
        """Wait up to `timeout` seconds for tasks in flight; then stop them and the return path."""
        ended = self.finished.wait(timeout)
        if not ended:
            self._abandoned = True
            self.backend.stop(list(self._pending))
            self._shut()
        return ended
