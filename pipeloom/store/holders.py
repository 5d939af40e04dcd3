"""Which other processes have a database file open: named when the file is locked.

Read from `/proc` (Linux); elsewhere, or for processes of other users, nothing is known
and the error says only that the file is locked.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["holders"]

_SHOWN = 5
"""At most this many processes are named."""


def holders(path: str | Path) -> list[str]:
    """`pid N (command line)` of each other process with `path` open, as far as can be seen."""
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    target = str(Path(path).resolve())
    found = []
    for entry in proc.iterdir():
        if entry.name.isdecimal() and int(entry.name) != os.getpid() and _has_open(entry, target):
            found.append(f"pid {entry.name} ({_command(entry)})")
            if len(found) == _SHOWN:
                break
    return found


def _has_open(entry: Path, target: str) -> bool:
    try:
        return any(os.readlink(fd) == target for fd in (entry / "fd").iterdir())
    except OSError:  # another user's process, or one that just ended
        return False


def _command(entry: Path) -> str:
    try:
        words = (entry / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    text = " ".join(w.decode(errors="replace") for w in words if w)
    return text if len(text) <= 80 else text[:79] + "…"
