"""Ctrl-C while a run closes: counted, not raised, so the close always completes.

A `KeyboardInterrupt` raised in the middle of closing (between putting the stop marker
and the writer's last commit, say) would leave data unwritten and the run unrecorded.
While a `DeferredInterrupts` block lasts, SIGINT in the main thread is noted instead:
the engine finishes closing, records the run `cancelled`, then raises `KeyboardInterrupt`
(`run_interrupted`: it says what the run did, and IPython shows it from the caller's line).
"""

from __future__ import annotations

import functools
import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

__all__ = ["DeferredInterrupts", "outside_pipeloom", "run_interrupted"]


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


_OWN = frozenset({"pipeloom", "pipeloom_nb"})
"""The packages whose frames an interrupted run's traceback leaves out."""


def run_interrupted(message: str, summary: Any = None) -> KeyboardInterrupt:
    """The `KeyboardInterrupt` a run raises once closed after Ctrl-C (a notebook's Interrupt).

    `message` says what the run did; `.summary` is its `RunSummary`. In IPython its
    traceback ends at the caller's line: pipeloom's frames, which only waited for the run
    and closed it, are left out.
    """
    exc = KeyboardInterrupt(message)
    exc.summary = summary  # type: ignore[attr-defined]
    exc._render_traceback_ = functools.partial(_short_traceback, exc)  # type: ignore[attr-defined]
    return exc


def _short_traceback(exc: BaseException) -> list[str]:
    """IPython's traceback of `exc` without pipeloom's frames (IPython asks for it)."""
    from IPython import get_ipython

    tb = outside_pipeloom(exc.__traceback__)
    return get_ipython().InteractiveTB.structured_traceback(type(exc), exc, tb)


def outside_pipeloom(tb: TracebackType | None) -> TracebackType | None:
    """The traceback `tb` without the frames of pipeloom's own modules."""
    frames = []
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if module.partition(".")[0] not in _OWN:
            frames.append(tb)
        tb = tb.tb_next
    kept = None
    for entry in reversed(frames):
        kept = TracebackType(kept, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return kept
