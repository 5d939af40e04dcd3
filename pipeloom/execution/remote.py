"""The worker side of a run whose tasks execute in other processes (a process pool, Dask).

There, a worker's `q` is a `RemoteQueue`: `put()` buffers messages, and batches travel
back to the writer's process over a `ReturnPath` (a socket to the parent, a Dask queue).
A batch goes when it is full, when the task ends, or within `FLUSH_EVERY` seconds (one
flusher thread per process), so bars stay live without one round trip per message.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import cloudpickle

from ..clock import utc_now as _now
from ..control import TasksCancelled
from ..errors import PicklingFailed
from .attempt import Item, RetryPolicy, run_attempts
from .coroutines import is_async_worker
from .lane import LANE
from .queue import Throttled

__all__ = [
    "CancelFlag",
    "RemoteQueue",
    "ReturnPath",
    "dumps_batch",
    "dumps_worker",
    "run_remote",
]

FLUSH_EVERY = 0.05
BATCH = 256


class ReturnPath(Protocol):
    """How a worker process reaches the writer's process; picklable, opened where it runs."""

    key: str

    def open(self) -> tuple[Callable[[bytes], None], Callable[[], bool], Callable[[], float]]:
        """Return (send a batch, poll whether the run was cancelled, ask for a start).

        `ask()` has the parent take one start of the run's `rate=` and answers how many
        seconds until it is ours: the parent hands out every start.
        """
        ...


def dumps_worker(fn: Callable[..., Any]) -> bytes:
    """Pickle a worker function by value where needed (cells, closures); clear error if not."""
    try:
        return cloudpickle.dumps(fn)
    except Exception as exc:
        name = getattr(fn, "__qualname__", repr(fn))
        raise PicklingFailed(
            f"worker {name} cannot be sent to other processes: {exc}. "
            "Make what it uses picklable, or run it with executor='threads'."
        ) from exc


def dumps_batch(msgs: list[Any]) -> bytes:
    """Pickle a batch of messages; name the first message that cannot be pickled."""
    try:
        return cloudpickle.dumps(msgs)
    except Exception as exc:
        for m in msgs:
            try:
                cloudpickle.dumps(m)
            except Exception as bad:
                raise PicklingFailed(
                    f"message {type(m).__qualname__} cannot be pickled: {bad}"
                ) from bad
        raise PicklingFailed(f"messages cannot be pickled: {exc}") from exc


class CancelFlag:
    """`q.cancelled` in another process: `is_set()` asks the parent at most every 0.1 s."""

    def __init__(self, poll: Callable[[], bool]) -> None:
        self._poll = poll
        self._set = False
        self._next = 0.0

    def is_set(self) -> bool:
        """True once the run is being cancelled."""
        now = time.monotonic()
        if not self._set and now >= self._next:
            self._next = now + 0.1
            self._set = bool(self._poll())
        return self._set

    def wait(self, timeout: float | None = None) -> bool:
        """Wait up to `timeout` seconds for a cancel; True if cancelled."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True


class RemoteQueue(Throttled):
    """The `q` a worker gets in another process; same `put()` and `throttle()` as in threads."""

    limiter = None
    """The run's `Throttle` is the parent's: it hears of push-backs from forwarded messages."""

    def __init__(
        self,
        send: Callable[[bytes], None],
        poll: Callable[[], bool],
        ask: Callable[[], float],
    ) -> None:
        self._send = send
        self._ask = ask
        self._buf: list[Any] = []
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._error: BaseException | None = None
        self.cancelled = CancelFlag(poll)

    def put(self, msg: Any, block: bool = True, timeout: float | None = None) -> None:
        """Queue a message for the writer (sent with the next batch)."""
        if self._error is not None:
            self._raise_error()
        with self._lock:
            self._buf.append(msg)
            full = len(self._buf) >= BATCH
        if full:
            self.flush()

    put_nowait = put

    def flush(self) -> None:
        """Send what is buffered now; raises if a message cannot be pickled."""
        self._send_buffered()
        if self._error is not None:
            self._raise_error()

    def reserve(self) -> float:
        """Ask the parent for one start of the run's `rate=`; seconds until it is ours."""
        with self._send_lock:  # after what is buffered, and never inside a batch's bytes
            self._send_buffered_locked()
            return self._ask()

    def _send_buffered(self) -> None:
        with self._send_lock:  # batches leave in the order they were taken
            self._send_buffered_locked()

    def _send_buffered_locked(self) -> None:
        with self._lock:
            buf, self._buf = self._buf, []
        if buf:
            self._send(dumps_batch(buf))

    def _raise_error(self) -> None:
        err, self._error = self._error, None
        raise err

    def flush_quietly(self) -> bool:
        """Flush from the flusher thread; keep an error for the worker's next put; False if the
        return path is gone."""
        try:
            self._send_buffered()
        except PicklingFailed as exc:
            self._error = exc
        except (OSError, EOFError):
            return False
        return True


_QUEUES: dict[str, RemoteQueue] = {}
_QUEUES_LOCK = threading.Lock()
_WORKERS: dict[bytes, Callable[..., Any]] = {}


def remote_queue(path: ReturnPath) -> RemoteQueue:
    """This process's queue for `path`, opened on first use; starts the flusher."""
    with _QUEUES_LOCK:
        rq = _QUEUES.get(path.key)
        if rq is None:
            rq = _QUEUES[path.key] = RemoteQueue(*path.open())
            if len(_QUEUES) == 1:
                threading.Thread(target=_flusher, name="pipeloom-flusher", daemon=True).start()
        return rq


def _flusher() -> None:
    while True:
        time.sleep(FLUSH_EVERY)
        with _QUEUES_LOCK:
            queues = list(_QUEUES.items())
        for key, rq in queues:
            if not rq.flush_quietly():
                with _QUEUES_LOCK:
                    _QUEUES.pop(key, None)
        if not queues:
            return


def _worker(payload: bytes) -> Callable[..., Any]:
    fn = _WORKERS.get(payload)
    if fn is None:
        if len(_WORKERS) > 8:
            _WORKERS.clear()
        fn = _WORKERS[payload] = cloudpickle.loads(payload)
    return fn


def run_remote(payload: bytes, item: Item, path: ReturnPath, policy: RetryPolicy) -> bool:
    """Run one task in this process, with the attempt loop threads use.

    Every message is sent before this returns, so once the call is done the parent can
    wait for them. Returns False, having sent `TasksCancelled`, if the run was cancelled
    before the task began.
    """
    fn = _worker(payload)
    q = remote_queue(path)
    LANE.set(f"pid {os.getpid()} {threading.current_thread().name}")
    if q.cancelled.is_set():
        q.put(TasksCancelled((item[1],), _now()))
        q.flush()
        return False

    def call(task: Any, q: RemoteQueue) -> None:
        if is_async_worker(fn):
            asyncio.run(fn(task, q))
        else:
            fn(task, q)
        q.flush()  # a message that cannot be pickled fails this attempt

    try:
        run_attempts(call, item, q, policy)
    finally:
        q.flush()
    return True
