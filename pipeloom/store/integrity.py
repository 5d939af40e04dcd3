"""A cheap look for damage before a run starts: the schema, and the edges of pipeloom's tables.

A damaged file used to be found by the writer's first batch ("database disk image is
malformed"), after workers had run tasks whose results could not be kept. Before any
work, the writer reads the schema, then the first and last entry of every b-tree of
pipeloom's own tables and their indexes: each read walks one path from the root to a
leaf, so the cost is a few pages per b-tree, whatever the file's size. The root pages
(touched by every insert) and the right edges (where new runs' rows go) are checked;
damage deeper inside is still found only when a statement reaches it.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ..errors import ConfigError
from .tables import OWN_TABLES

__all__ = ["check_intact"]

_CHECKED = OWN_TABLES | {"sqlite_sequence"}
_OBJECTS = "SELECT type, name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"


def check_intact(conn: sqlite3.Connection, db_path: Any) -> None:
    """ConfigError if the schema or an edge of pipeloom's tables cannot be read (damage)."""
    conn.execute("PRAGMA cell_size_check=ON")  # stricter checks of each page read
    what = "the schema"
    try:
        for kind, name, table in conn.execute(_OBJECTS).fetchall():
            if table in _CHECKED:
                what = f"{kind} {name}"
                for sql in _edges(conn, kind, name, table):
                    conn.execute(sql).fetchall()
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.OperationalError):
            raise  # not damage: the writer reports it as any other failure to open
        raise ConfigError(
            f"database {str(db_path)!r} is damaged ({exc}, reading {what}); nothing was run. "
            f"Restore it from a copy, or recover its rows with: sqlite3 {db_path} .recover"
        ) from exc
    finally:
        conn.execute("PRAGMA cell_size_check=OFF")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _edges(conn: sqlite3.Connection, kind: str, name: str, table: str) -> list[str]:
    """Queries reading the first and the last entry of one b-tree, in its own order."""
    if kind == "table":
        return [f"SELECT * FROM {_quote(name)} ORDER BY rowid{d} LIMIT 1" for d in ("", " DESC")]
    keys = [row for row in conn.execute(f"PRAGMA index_xinfo({_quote(name)})") if row[5]]
    if not keys or any(row[2] is None for row in keys):  # on expressions: no order to name
        return []
    picked = ", ".join(_quote(row[2]) for row in keys)
    source = f"{_quote(table)} INDEXED BY {_quote(name)}"
    queries = []
    for flip in (False, True):  # the index's own order, then its reverse: one path each
        order = ", ".join(
            f"{_quote(row[2])} COLLATE {_quote(row[4])} {'DESC' if row[3] != flip else 'ASC'}"
            for row in keys
        )
        queries.append(f"SELECT {picked} FROM {source} ORDER BY {order} LIMIT 1")
    return queries
