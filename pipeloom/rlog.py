"""Logging through Rich, sharing one console with the progress bars."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from rich.console import Console
from rich.logging import RichHandler

__all__ = ["console", "get_console", "logger", "setup_logging"]  # noqa: F822 (lazy)

logger = logging.getLogger("pipeloom")

_OURS = "_pipeloom_setup_logging"
"""Marks the handlers `setup_logging` installed, so that a second call replaces only those."""


@cache
def get_console() -> Console:
    """The console shared by log lines and progress bars (made on first use)."""
    return Console(stderr=True)


def __getattr__(name: str) -> Console:
    if name == "console":
        return get_console()
    raise AttributeError(name)


def setup_logging(verbose: int = 0, log_file: str | Path | None = None) -> logging.Logger:
    """Log through a Rich handler on the shared console, installed on the root logger.

    Levels: WARNING (0), INFO (1), DEBUG (2+), for the root and `pipeloom` loggers as in
    pipeloom 0.0.x; `log_file` adds a plain file handler at the same level. Unlike
    `logging.basicConfig`, a second call takes effect: it replaces the handlers the first added
    (and only those). Messages are not read as Rich markup, since they carry user text.
    """
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    root = logging.getLogger()
    for h in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(h)
        h.close()
    handlers: list[logging.Handler] = [
        RichHandler(console=get_console(), show_time=False, show_path=False, rich_tracebacks=True)
    ]
    if log_file is not None:
        fh = logging.FileHandler(log_file, encoding="utf-8")
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(name)s] %(message)s"))
        handlers.append(fh)
    for h in handlers:
        setattr(h, _OURS, True)
        h.setLevel(level)
        root.addHandler(h)
    root.setLevel(level)
    logger.setLevel(level)
    logger.propagate = True
    return logger
