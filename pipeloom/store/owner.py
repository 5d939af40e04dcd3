"""Who owns a run (host, pid, the process's start), so the next run can close a dead one's.

A process killed with `kill -9` leaves its run `running`. The next writer on the file,
holding the write lock, marks each such run `interrupted` (and its unfinished tasks) when
its owner is on this host and is gone: no such process, a zombie, or a process with the
same pid that started at another time (pid reuse). Runs of live processes, of other hosts
and of files written before owners were recorded are left alone: nothing proves them dead.
"""

from __future__ import annotations

import os
import socket
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ..core.clock import utc_now

__all__ = ["Owner", "close_orphans", "is_gone", "process_start", "this_process"]

_PROC = Path("/proc")


@dataclass(frozen=True, slots=True)
class Owner:
    """A run's process: host name, pid and start (boot id and start ticks; None off Linux)."""

    host: str
    pid: int
    start: str | None


def _boot_id() -> str:
    try:
        return (_PROC / "sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _stat(pid: int) -> tuple[str, str] | None:
    """(state, start ticks) from /proc/<pid>/stat, or None if there is no such process."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], fields[19]


def process_start(pid: int) -> str | None:
    """When process `pid` started, as "<boot id>:<ticks>", or None if unknown."""
    stat = _stat(pid)
    return None if stat is None else f"{_boot_id()}:{stat[1]}"


def this_process() -> Owner:
    """The owner to record for a run started here."""
    return Owner(socket.gethostname(), os.getpid(), process_start(os.getpid()))


def is_gone(owner: Owner) -> bool:
    """True only if `owner` is on this host and its process has certainly ended."""
    if owner.host != socket.gethostname():
        return False
    if owner.start is not None and _PROC.is_dir():
        stat = _stat(owner.pid)
        return stat is None or stat[0] == "Z" or process_start(owner.pid) != owner.start
    try:
        os.kill(owner.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def close_orphans(conn: sqlite3.Connection, has_task_runs: bool) -> list[int]:
    """Mark `interrupted` every `running` run whose owner is gone; their run ids."""
    rows = conn.execute(
        "SELECT run_id, host, pid, pid_start FROM pipeline_runs "
        "WHERE status = 'running' AND host IS NOT NULL AND pid IS NOT NULL"
    ).fetchall()
    orphans = [r for r in rows if is_gone(Owner(r[1], r[2], r[3]))]
    for run_id, host, pid, _ in orphans:
        _interrupt(
            conn,
            run_id,
            f"interrupted: its process ({pid} on {host}) ended without closing the run "
            "(tasks it had not started have no task_runs row)",
            has_task_runs,
        )
    return [r[0] for r in orphans]


def _interrupt(conn: sqlite3.Connection, run_id: int, why: str, has_task_runs: bool) -> None:
    now = utc_now()
    if has_task_runs:
        conn.execute(
            "UPDATE task_runs SET status='interrupted', finished_at=?, message=? "
            "WHERE run_id=? AND status IN ('queued', 'running')",
            (now, why, run_id),
        )
        conn.execute(_RECOUNT, (run_id,) * 5)
    conn.execute(
        "UPDATE pipeline_runs SET status='interrupted', finished_at=?, error=? WHERE run_id=?",
        (now, why, run_id),
    )


_RECOUNT = """
UPDATE pipeline_runs SET
  done = (SELECT count(*) FROM task_runs WHERE run_id = ? AND status = 'done'),
  errors = (SELECT count(*) FROM task_runs WHERE run_id = ? AND status = 'error'),
  cancelled = (SELECT count(*) FROM task_runs WHERE run_id = ? AND status = 'cancelled'),
  skipped = (SELECT count(*) FROM task_runs WHERE run_id = ? AND status = 'skipped')
WHERE run_id = ?
"""
