"""Run tasks on a pool in other processes (loky, Dask), messages streaming back to the writer.

The runner keeps a bounded window of tasks submitted (bounded memory, and a cancel only
has to wait for what is in flight), forwards message batches from the pool's return path to
the writer's queue. When a worker process dies, every task in flight fails with it; each
of those is run again alone, so only the task that kills its process is recorded as `error`
(or retried, with `retries=`). It is done when
every task has ended and every task's messages have been forwarded.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import cloudpickle

from ..clock import utc_now as _now
from ..control import TaskClosed, TasksCancelled
from ..errors import RunEnded, WriterError
from .attempt import NO_RETRY, Item, RetryPolicy, closed_message
from .base import Runner
from .queue import MessageQueue
from .remote import ReturnPath, dumps_worker, run_remote

__all__ = ["Backend", "PoolRunner"]

LOG = logging.getLogger("pipeloom.pool")

STILL_RUNNING = "cancelled: still running when the grace period ended"


class Backend(Protocol):
    """What a pool offers the runner: submit calls, a way back for messages, a way to stop."""

    def window(self, workers: int) -> int:
        """How many tasks to keep submitted: enough to keep `workers` busy, and no more."""
        ...

    def return_path(self, ask: Callable[[], float]) -> ReturnPath:
        """Open the way back for messages; returns what workers use to reach it.

        A worker asking for a start is answered with `ask()` (seconds until its turn).
        """
        ...

    def receive(self, timeout: float) -> list[bytes]:
        """Message batches that arrived, waiting up to `timeout` seconds for the first."""
        ...

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run `fn(*args)` on the pool; a future with `add_done_callback` and `exception()`."""
        ...

    def cancel(self, future: Any) -> bool:
        """Cancel a future that has not started; True if it will not run."""
        ...

    def died(self, exc: BaseException) -> bool:
        """True if `exc` says the process running the task died (it may not be the task's fault)."""
        ...

    def signal_cancel(self) -> None:
        """Let running workers see `q.cancelled.is_set()`."""
        ...

    def stop(self, futures: list[Any]) -> None:
        """Give up on futures still running (the grace period ran out)."""
        ...

    def close(self) -> None:
        """Release the return path."""
        ...


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
        self._pending: dict[Any, Item] = {}
        self._expected = 0
        self._crashes: dict[Any, int] = {}
        self._suspects: deque[Item] = deque()
        self._solo: Any = None
        self._window = backend.window(workers)
        self._forwarded = 0
        self._stop_forwarding = threading.Event()
        self._abandoned = False
        self._tainted = False
        """A timed-out attempt's thread runs on in a pool process: replace the processes."""

    def start(self) -> None:
        """Open the return path and start the submitting and forwarding threads."""
        self._return_path = self.backend.return_path(self.q.reserve)
        self._forwarder = threading.Thread(
            target=self._forward, name="pipeloom-forward", daemon=True
        )
        self._driver = threading.Thread(target=self._drive, name="pipeloom-pool", daemon=True)
        self._forwarder.start()
        self._driver.start()

    def _forward(self) -> None:
        put, closed, skipped = self.q.put, TaskClosed, TasksCancelled
        try:
            while not self._stop_forwarding.is_set():
                for data in self.backend.receive(0.05):
                    for msg in cloudpickle.loads(data):
                        put(msg)
                        if type(msg) is closed:
                            self._heard(msg)
                        elif type(msg) is skipped:
                            self._forwarded += len(msg.task_ids)
        except WriterError:
            self._stop_forwarding.set()
        except Exception as exc:
            LOG.error("cannot receive messages from the pool: %s", exc)
            self._stop_forwarding.set()

    def _heard(self, msg: TaskClosed) -> None:
        """An attempt ended in a worker process: count it, tell the run's throttle."""
        if not msg.retrying:
            self._forwarded += 1
        if self.q.limiter is not None:
            self.q.limiter.record(msg)
        self._tainted |= msg.abandoned

    def _drive(self) -> None:
        try:
            self._submit_more()
            while self._pending:
                self._settle(self._done.get())
                self._submit_more()
            self._cancel_suspects()
            self._wait_forwarded()
        finally:
            self._shut()
            self.finished.set()

    def _cancel_suspects(self) -> None:
        """Tasks to re-run after a pool died during a cancel (Ctrl-C reaches the pool too)."""
        if self._suspects:
            ids = tuple(item[1] for item in self._suspects)
            self._suspects.clear()
            with contextlib.suppress(WriterError, RunEnded):
                self.q.put(TasksCancelled(ids, _now()))

    def _shut(self) -> None:
        self._stop_forwarding.set()
        if self._forwarder is not threading.current_thread():
            self._forwarder.join(5)
        if self._tainted:
            LOG.info("stopping the pool's processes: timed-out attempts still run in them")
            self.backend.stop([])
        self.backend.close()

    def _submit_more(self) -> None:
        if self._suspects:
            if not self._pending and not self.q.cancelled.is_set():
                item = self._suspects.popleft()
                self._solo = item[1]
                self._submit(item)
            return
        self._solo = None
        while len(self._pending) < self._window and (item := self._next()) is not None:
            self._submit(item)

    def _submit(self, item: Item) -> None:
        try:
            fut = self.backend.submit(
                run_remote, self._payload, item, self._return_path, self.policy
            )
        except Exception as exc:
            self._put_closed(item, exc)
            return
        self.in_flight[item[1]] = item
        self._pending[fut] = item
        fut.add_done_callback(self._done.put)

    def _settle(self, fut: Any) -> None:
        item = self._pending.pop(fut, None)
        if item is None:
            return
        self.in_flight.pop(item[1], None)
        if fut.cancelled():
            return
        if self._abandoned:  # its process was stopped after the grace period: not its fault
            with contextlib.suppress(WriterError, RunEnded):
                self.q.put(TasksCancelled((item[1],), _now(), STILL_RUNNING))
            return
        exc = fut.exception()
        if exc is None:
            self._expected += 1  # it sent its TaskClosed, or TasksCancelled if it skipped
            return
        if not self.backend.died(exc):
            self._put_closed(item, exc)
        elif self._solo != item[1]:
            self._put_closed(item, exc, retrying=True)
            self._suspects.append(item)  # one of these killed the pool: re-run each alone
        else:
            crashes = self._crashes[item[1]] = self._crashes.get(item[1], 0) + 1
            retry = crashes <= self.policy.retries and not self.q.cancelled.is_set()
            self._put_closed(item, exc, retrying=retry)
            if retry:
                self._suspects.appendleft(item)

    def _put_closed(self, item: Item, exc: BaseException, retrying: bool = False) -> None:
        """Close a task from here: its process died, or it could not be sent."""
        self.in_flight.pop(item[1], None)
        with contextlib.suppress(WriterError, RunEnded):
            self.q.put(closed_message(item, _now(), exc, retrying))

    def _wait_forwarded(self) -> None:
        """Every finished task's messages were sent before it returned; wait until they are in."""
        deadline = time.monotonic() + 30
        while self._forwarded < self._expected and not self._stop_forwarding.is_set():
            if time.monotonic() > deadline:
                LOG.warning(
                    "%d task(s) ended without their last message arriving",
                    self._expected - self._forwarded,
                )
                return
            time.sleep(0.01)

    def not_started(self) -> list[Item]:
        """Take the tasks no worker has started: those not submitted, and queued futures."""
        self.backend.signal_cancel()
        rest = super().not_started()
        rest += self._suspects
        self._suspects.clear()
        for fut, item in list(self._pending.items()):
            if self.backend.cancel(fut):
                self.in_flight.pop(item[1], None)
                rest.append(item)
        return rest

    def join(self, timeout: float | None) -> bool:
        """Wait up to `timeout` seconds for tasks in flight; then stop them and the return path."""
        ended = self.finished.wait(timeout)
        if not ended:
            self._abandoned = True
            self.backend.stop(list(self._pending))
            self._shut()
        return ended
