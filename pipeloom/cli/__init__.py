"""The `pipeloom` command (`pipeloom.cli:main`, pipeloom 0.0.7's import path)."""

from __future__ import annotations

from .commands import app, main

__all__ = ["app", "main"]
