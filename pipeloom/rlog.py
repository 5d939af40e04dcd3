"""Logging through Rich, sharing one console with the progress bars."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from rich.console import Console
from rich.logging import RichHandler

__all__ = ["console", "get_console", "logger", "setup_logging"]  # noqa: F822 (lazy)

logger = logging.getLogger("pipeloom")


@cache
def get_console() -> Console:
    """The console shared by log lines and progress bars (made on first use)."""
    return Console(stderr=True)


def __getattr__(name: str) -> Console:
    if name == "console":
        return get_console()
    raise AttributeError(name)


def setup_logging(verbose: int = 0, log_file: str | Path | None = None) -> logging.Logger:
    """Log to the console at WARNING (0), INFO (1) or DEBUG (2+), and to `log_file` if given."""
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logger.setLevel(level)
    for h in list(logger.handlers):
        logger.removeHandler(h)
        h.close()
    handler = RichHandler(console=get_console(), show_path=False, rich_tracebacks=True)
    handler.setLevel(level)
    logger.addHandler(handler)
    if log_file is not None:
        fh = logging.FileHandler(log_file, encoding="utf-8")
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        fh.setLevel(logging.DEBUG)
        logger.addHandler(fh)
        logger.setLevel(logging.DEBUG)
    logger.propagate = False
    return logger
