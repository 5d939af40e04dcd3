"""pipeloom 0.0.7's import path for `run_pipeline`; it lives in `pipeloom.run.engine`."""

from __future__ import annotations

from .run.engine import run_pipeline

__all__ = ["run_pipeline"]
