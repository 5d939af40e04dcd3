"""Timestamps for task rows: ISO 8601 in UTC, cheap enough to take twice per tiny task;
and the longest wait a thread can make."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

__all__ = ["MAX_WAIT", "iso_ns", "utc_now"]

MAX_WAIT = threading.TIMEOUT_MAX
"""The longest wait a thread can make (`Event.wait` raises `OverflowError` past it)."""

_second: tuple[int, str] = (-1, "")


def utc_now() -> str:
    """Now as `YYYY-MM-DDTHH:MM:SS.ffffff+00:00`, like `datetime.now(UTC).isoformat()`."""
    return iso_ns(time.time_ns())


def iso_ns(ns: int) -> str:
    """`time.time_ns()` value `ns` as `utc_now` writes it.

    The date-and-seconds prefix is formatted once per second and reused, which makes this
    several times cheaper than `datetime`; it is safe across threads (one tuple swap).
    Workers take `time.time_ns()` (a tenth of the cost) and the writer formats only the
    times it records.
    """
    global _second
    micros = ns // 1000
    sec = micros // 1_000_000
    cached = _second
    if cached[0] != sec:
        prefix = datetime.fromtimestamp(sec, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        cached = _second = (sec, prefix)
    return cached[1] + str(micros % 1_000_000 + 1_000_000)[1:] + "+00:00"  # zero-padded
