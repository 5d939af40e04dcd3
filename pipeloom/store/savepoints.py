"""The writer's savepoints: the one place their SQL is written, and `savepoint()` around a block."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["begin", "release", "rollback_to", "savepoint"]


def begin(conn: sqlite3.Connection, name: str) -> None:
    """Open savepoint `name`."""
    conn.execute(f"SAVEPOINT {name} -- pipeloom writer")


def rollback_to(conn: sqlite3.Connection, name: str) -> None:
    """Undo what was written since savepoint `name` opened (it stays open)."""
    conn.execute(f"ROLLBACK TO {name} -- pipeloom writer")


def release(conn: sqlite3.Connection, name: str) -> None:
    """Close savepoint `name`, keeping what was written in it."""
    conn.execute(f"RELEASE {name} -- pipeloom writer")


@contextmanager
def savepoint(conn: sqlite3.Connection, name: str) -> Iterator[None]:
    """The block's writes land whole or not at all, as sqlite-utils' `atomic()`.

    An `Exception` in the block rolls back to the savepoint, releases it and propagates;
    if SQLite itself already rolled back the whole transaction, it only propagates.
    """
    begin(conn, name)
    try:
        yield
    except Exception:
        if conn.in_transaction:
            rollback_to(conn, name)
            release(conn, name)
        raise
    release(conn, name)
