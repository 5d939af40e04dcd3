"""A run in the background: `loom.start()` returns at once with this handle."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable, Generator
from concurrent.futures import Future
from typing import Any

from .results import RunResult
from .where import in_marimo

__all__ = ["RunHandle"]


class RunHandle:
    """Wait for, cancel, or await a run that started with `Loom.start`."""

    def __init__(self, run: Callable[[], RunResult], cancel_event: threading.Event) -> None:
        self.cancel_event = cancel_event
        self._future: Future[RunResult] = Future()
        self._thread = _thread_class()(
            target=self._run, args=(run,), daemon=True, name="pipeloom-run"
        )
        self._thread.start()

    def _run(self, run: Callable[[], RunResult]) -> None:
        try:
            self._future.set_result(run())
        except BaseException as exc:
            self._future.set_exception(exc)

    def result(self, timeout: float | None = None) -> RunResult:
        """Wait for the run (up to `timeout` seconds) and return its RunResult."""
        return self._future.result(timeout)

    def done(self) -> bool:
        """True once the run has ended."""
        return self._future.done()

    def cancel(self) -> None:
        """Stop taking tasks; the rest are recorded `cancelled` (as the Stop button does)."""
        self.cancel_event.set()

    def __await__(self) -> Generator[Any, None, RunResult]:
        return asyncio.wrap_future(self._future).__await__()

    def __repr__(self) -> str:
        state = "done" if self.done() else "running"
        return f"<RunHandle {state}>"


def _thread_class() -> type[threading.Thread]:
    """In marimo, marimo's `Thread`, which may draw in the output of the cell that started
    it; elsewhere a plain thread."""
    return sys.modules["marimo"].Thread if in_marimo() else threading.Thread
