"""Ctrl-C while a run closes: counted, not raised, so the close always completes.

A `KeyboardInterrupt` raised in the middle of closing (between putting the stop marker
and the writer's last commit, say) would leave data unwritten and the run unrecorded.
While a `DeferredInterrupts` block lasts, SIGINT in the main thread is noted instead:
the engine finishes closing, records the run `cancelled`, then raises `KeyboardInterrupt`.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

__all__ = ["DeferredInterrupts", "may_be_ctrl_c"]


def may_be_ctrl_c(exc: BaseException) -> bool:
    """True for a `KeyboardInterrupt` in the main thread: perhaps the user's Ctrl-C.

    Signals are delivered to the main thread only; elsewhere a `KeyboardInterrupt` was
    raised by user code, and is that code's failure.
    """
    main = threading.current_thread() is threading.main_thread()
    return main and isinstance(exc, KeyboardInterrupt)


class DeferredInterrupts:
    """Within the block, each Ctrl-C calls `on_interrupt` and sets `event`; none raises."""

    def __init__(self, on_interrupt: Callable[[int], None] | None = None) -> None:
        self.on_interrupt = on_interrupt
        self.count = 0
        """Ctrl-Cs received in the block."""
        self.event = threading.Event()
        """Set at the first Ctrl-C (a wait may end early on it)."""
        self._previous: Any = None
        self._active = False

    def __enter__(self) -> DeferredInterrupts:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._active = True
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        self.event.set()
        if self.on_interrupt is not None:
            self.on_interrupt(self.count)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._active:
            previous = self._previous if self._previous is not None else signal.default_int_handler
            signal.signal(signal.SIGINT, previous)
            self._active = False
