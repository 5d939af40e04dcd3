"""`utc_now`: the same text as `datetime.now(UTC).isoformat()`, always with microseconds."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

from pipeloom.clock import utc_now

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")


def test_utc_now_is_iso_utc_and_close_to_datetime():
    before = datetime.now(UTC)
    text = utc_now()
    after = datetime.now(UTC)
    assert ISO.match(text), text
    assert before - timedelta(milliseconds=1) <= datetime.fromisoformat(text) <= after


def test_utc_now_moves_on_across_seconds_and_never_goes_back():
    stamps = []
    end = time.monotonic() + 1.2  # crosses at least one second boundary
    while time.monotonic() < end:
        stamps.append(utc_now())
        time.sleep(0.001)
    parsed = [datetime.fromisoformat(s) for s in stamps]
    assert parsed == sorted(parsed)
    assert len({p.second for p in parsed}) >= 2
