"""`Backend`: what a pool in other processes (loky, Dask) offers the `PoolRunner`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from .wire import ReturnPath

__all__ = ["Backend"]


class Backend(Protocol):
    """What a pool offers the runner: submit calls, a way back for messages, a way to stop."""

    chunk_most: int
    """Tasks per call at most (1: a call per task)."""

    def window(self, workers: int) -> int:
        """How many calls to keep submitted: enough to keep `workers` busy, and no more."""
        ...

    def return_path(self, ask: Callable[[], float], paced: bool) -> ReturnPath:
        """Open the way back for messages; returns what workers use to reach it.

        A worker asking for a start is answered with `ask()` (seconds until its turn);
        unless `paced`, workers may start without asking until told (`pace()`).
        """
        ...

    def pace(self) -> None:
        """From now on every start asks (a server pushed back)."""
        ...

    def drain(self) -> None:
        """After a death: wait until what the dead processes sent has been received."""
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
