"""`PlainWait`: the `wait` of a display with nothing to handle while the run lasts."""

from __future__ import annotations

import threading
import time

__all__ = ["PlainWait"]


class PlainWait:
    """`wait` for displays with nothing to handle meanwhile."""

    def wait(self, seconds: float, until: threading.Event | None = None) -> None:
        """Sleep up to `seconds`, or until `until` is set."""
        if until is None:
            time.sleep(seconds)
        else:
            until.wait(seconds)
