"""Per-attempt time limits for workers that cannot be interrupted: threads (and threads in
pool processes).

A thread cannot be killed, so each attempt runs in a fresh thread and the worker's own
thread waits for it at most `timeout` seconds. An attempt that overruns is abandoned: it
fails with `TimeoutError`, its `q` is closed (later messages are dropped), its thread
runs on (a daemon, named `pipeloom-attempt`), and the worker's thread goes on with a
retry or the next task, so the concurrency stays. Coroutines are cancelled instead
(`attempt.run_attempts_async`).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from typing import Any

from ..core.clock import MAX_WAIT
from ..errors import RunEnded

__all__ = ["GatedQueue", "attempt_timed_out", "call_with_timeout", "timed_out"]

_MARK = "_pipeloom_abandoned"


def attempt_timed_out(seconds: float, *, abandoned: bool) -> TimeoutError:
    """The `TimeoutError` an attempt that took longer than `seconds` ends with."""
    how = "left running in its thread" if abandoned else "cancelled"
    exc = TimeoutError(f"attempt timed out after {seconds:g} s ({how})")
    setattr(exc, _MARK, abandoned)
    return exc


def timed_out(exc: BaseException) -> bool | None:
    """None if `exc` is not a time limit; else True when the attempt was left running."""
    return getattr(exc, _MARK, None)


class GatedQueue:
    """One attempt's `q`: the worker's queue until `close()`, after which `put` raises.

    An abandoned attempt's messages must not land (its task was recorded timed out, and may
    be retried): `put` raises `RunEnded`, which also ends the abandoned worker early.
    """

    def __init__(self, q: Any) -> None:
        self._q = q
        self._lock = threading.Lock()
        self._open = True

    def put(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        """Hand a message on, unless the attempt was abandoned."""
        with self._lock:
            if not self._open:
                raise _abandoned(msg)
            self._q.put(msg, *args, **kwargs)

    def put_nowait(self, msg: Any) -> None:
        """As `put`, without waiting for room."""
        with self._lock:
            if not self._open:
                raise _abandoned(msg)
            self._q.put_nowait(msg)

    def close(self) -> None:
        """Refuse everything put from now on (waits for a `put` under way)."""
        with self._lock:
            self._open = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._q, name)


def _abandoned(msg: Any) -> RunEnded:
    return RunEnded(
        f"{type(msg).__qualname__} not written: this attempt ran past its timeout and was abandoned"
    )


def call_with_timeout(fn: Callable[..., Any], task: Any, q: Any, seconds: float) -> None:
    """`fn(task, q)` in a fresh thread; raise `TimeoutError` if it takes over `seconds`."""
    gate = GatedQueue(q)
    outcome: list[BaseException] = []

    def attempt() -> None:
        try:
            fn(task, gate)
        except BaseException as exc:  # re-raised in the worker's thread
            outcome.append(exc)

    context = contextvars.copy_context()  # the task's own (its id for AddTasks, its lane)
    thread = threading.Thread(
        target=context.run, args=(attempt,), name="pipeloom-attempt", daemon=True
    )
    thread.start()
    thread.join(min(seconds, MAX_WAIT))
    if thread.is_alive():
        gate.close()
        raise attempt_timed_out(seconds, abandoned=True)
    if outcome:
        raise outcome[0]
