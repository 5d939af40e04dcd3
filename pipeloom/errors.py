"""Exceptions raised by pipeloom."""

from __future__ import annotations

__all__ = ["ConfigError", "PipelineError", "WriterError"]


class PipelineError(Exception):
    """Base class for pipeloom errors."""


class ConfigError(PipelineError, ValueError):
    """A run was asked for with arguments that cannot work; raised before any work starts."""


class WriterError(PipelineError, RuntimeError):
    """The writer thread failed (a disk error, say); the run was stopped."""
