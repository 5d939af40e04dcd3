"""The worker side of a run whose tasks execute in other processes (a process pool, Dask).

There, a worker's `q` is a `RemoteQueue`: `put()` buffers messages, and batches travel
back to the writer's process over a `ReturnPath` (a socket to the parent, a Dask queue).
A pool call runs a chunk of tasks (`run_chunk`), one after another, each in the attempt
loop threads use. A batch goes when it is full, when the chunk ends, or within
`FLUSH_EVERY` seconds (one flusher thread per process), so bars stay live without one
round trip per message or per task. A task's `TaskClosed` travels after its messages; a
short task's travel in the same batch as its `TaskClosed` (see `RemoteQueue`).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import cloudpickle

from ..core.clock import utc_now as _now
from ..core.control import TasksCancelled
from ..core.lane import CURRENT_TASK, LANE
from ..core.queue import Throttled
from .attempt import Item, RetryPolicy, closed_message, run_attempts
from .coroutines import is_async_worker
from .wire import Link, ReturnPath, pickle_batch

__all__ = ["CancelFlag", "RemoteQueue", "remote_queue", "run_chunk"]

FLUSH_EVERY = 0.05
BATCH = 256


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
    """The `q` a worker gets in another process; same `put()` and `throttle()` as in threads.

    A short task's messages and its end travel together: what tasks that ended put waits
    for the next batch whole, and the running task's messages go only once it has run
    `FLUSH_EVERY` seconds (live progress) or put `BATCH` messages. So when a process
    dies, a short task the parent did not hear end sent nothing: running it again
    duplicates nothing. Each attempt's messages are pickled at its end (`seal`): one
    that cannot be pickled fails that attempt.
    """

    limiter = None
    """The run's `Throttle` is the parent's: it hears of push-backs from forwarded messages."""

    def __init__(self, link: Link) -> None:
        self._send = link.send
        self._ask = link.ask
        self._paced = link.paced
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._ready: list[bytes] = []
        """Pickled messages of tasks that ended, in order; before `_ended`."""
        self._ended: list[Any] = []
        """Messages of tasks that ended, not pickled yet (the engine's own)."""
        self._task_out: list[bytes] = []
        """Pickled messages of the running task (its attempts so far)."""
        self._task: list[Any] = []
        """Messages the running task put since its last `seal`."""
        self._began = 0.0
        """When the running task began (0: none runs)."""
        self._error: BaseException | None = None
        self.puts = 0
        """Messages put so far (an attempt that put none has nothing to pickle)."""
        self.cancelled = CancelFlag(link.poll)

    def put(self, msg: Any, block: bool = True, timeout: float | None = None) -> None:
        """Queue a message for the writer (sent with a later batch)."""
        if self._error is not None:
            self._raise_error()
        with self._lock:
            self._task.append(msg)
            self.puts += 1
            full = len(self._task) >= BATCH
        if full:
            self.flush()

    put_nowait = put

    def seal(self) -> None:
        """Pickle what the running task put since the last seal; raises naming a message that
        cannot be pickled (the others are kept)."""
        with self._lock:
            task, self._task = self._task, []
            if task:
                data, error = pickle_batch(task)
                self._task_out.append(data)
                self._error = error or self._error
        if self._error is not None:
            self._raise_error()

    def task_begins(self) -> None:
        """A task starts: what it puts is held back while it is short."""
        self._began = time.monotonic()

    def task_ends(self) -> None:
        """The running task ended: its messages join the next batch (sent now if full)."""
        with self._lock:
            if self._task_out:
                if self._ended:
                    self._ready.append(cloudpickle.dumps(self._ended))
                    self._ended = []
                self._ready += self._task_out
                self._task_out = []
            self._ended += self._task
            self._task = []
            self._began = 0.0
            full = len(self._ended) >= BATCH
        if full:
            self.flush()

    def flush(self) -> None:
        """Send everything buffered now; raises if a message cannot be pickled."""
        with self._send_lock:
            self._send_taken(everything=True)
        if self._error is not None:
            self._raise_error()

    def reserve(self) -> float:
        """Ask the parent for one start of the run's `rate=`; seconds until it is ours.

        Free (no round trip) until the run is paced: a `rate=`, or a server's push-back.
        """
        if not self._paced():
            return 0.0
        with self._send_lock:  # after what is buffered, and never inside a batch's bytes
            self._send_taken(everything=True)
            return self._ask()

    def flush_quietly(self) -> bool:
        """Send from the flusher thread (the running task's messages once it is no longer
        short); keep an error for the worker's next put; False if the return path is gone."""
        try:
            with self._send_lock:
                self._send_taken(everything=False)
        except (OSError, EOFError):
            return False
        return True

    def _send_taken(self, everything: bool) -> None:
        data = self._take(everything)
        if data:
            self._send(data)

    def _take(self, everything: bool) -> bytes:
        """The next batch, in the order put: tasks that ended, then (if due) the running one."""
        with self._lock:
            parts, self._ready = self._ready, []
            if self._ended:
                parts.append(cloudpickle.dumps(self._ended))
                self._ended = []
            if everything or (self._began and time.monotonic() - self._began >= FLUSH_EVERY):
                parts += self._task_out
                self._task_out = []
                task, self._task = self._task, []
                if task:
                    data, error = pickle_batch(task)
                    parts.append(data)
                    self._error = error or self._error
        return b"".join(parts)

    def _raise_error(self) -> None:
        err, self._error = self._error, None
        if err is not None:
            raise err


_QUEUES: dict[str, RemoteQueue] = {}
_QUEUES_LOCK = threading.Lock()
_WORKERS: dict[bytes, Callable[..., Any]] = {}


def remote_queue(path: ReturnPath) -> RemoteQueue:
    """This process's queue for `path`, opened on first use; starts the flusher."""
    with _QUEUES_LOCK:
        rq = _QUEUES.get(path.key)
        if rq is None:
            rq = _QUEUES[path.key] = RemoteQueue(path.open())
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


def _attempt(fn: Callable[..., Any]) -> Callable[[Any, Any], None]:
    """One call of `fn`; what it put is pickled at its end (a message that cannot be fails it)."""
    run = (lambda task, q: asyncio.run(fn(task, q))) if is_async_worker(fn) else fn

    def call(task: Any, q: Any) -> None:
        before = q.puts
        run(task, q)
        if q.puts != before:
            q.seal()

    return call


def run_chunk(
    payload: bytes,
    items: list[Item],
    path: ReturnPath,
    policy: RetryPolicy,
    careful: bool = False,
) -> float:
    """Run tasks one after another in this process, each with the attempt loop threads use.

    Every message is sent before this returns, so once the call is done the parent can
    wait for them. Tasks not begun when the run is cancelled are sent as `TasksCancelled`.
    `careful` sends each task's messages at its end: if the process dies, the parent
    knows the task it died in (the first one it did not hear end). Returns the seconds
    the chunk took here.
    """
    t0 = time.perf_counter()
    call = _attempt(_worker(payload))
    q = remote_queue(path)
    LANE.set(f"pid {os.getpid()} {threading.current_thread().name}")
    try:
        for i, item in enumerate(items):
            if q.cancelled.is_set():
                q.put(TasksCancelled(tuple(it.task_id for it in items[i:]), _now()))
                break
            q.task_begins()
            CURRENT_TASK.set(item.task_id)
            try:
                run_attempts(call, item, q, policy)
            except Exception as exc:  # past its attempts: it fails the task, not the chunk
                q.put(closed_message(item, time.time_ns(), exc))
            q.task_ends()
            if careful:
                q.flush()
    finally:
        q.flush()
    return time.perf_counter() - t0
