"""A run's timeline: read it (`load`), shape it (`data`), draw it (`draw`), show it (`chart`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .chart import Timeline
from .data import TimelineData, build
from .load import RunRecord, load_run

__all__ = ["RunRecord", "Timeline", "TimelineData", "timeline"]


def timeline(db_path: str | Path, run_id: int | None = None, width_px: int = 1000) -> Timeline:
    """The timeline of run `run_id` (None: the latest); a live run is drawn up to now."""
    record = load_run(db_path, run_id)
    return Timeline(build(record, pd.Timestamp.now("UTC"), width_px), width_px)
