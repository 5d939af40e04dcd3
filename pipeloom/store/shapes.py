"""What the writer knows of a table's columns: names, affinity, and the types they hold.

Read with PRAGMAs on first use and kept while `PRAGMA schema_version` stays the same, so
a column another process added since is seen before this writer adds it again. The types
a column holds are read (`SELECT DISTINCT typeof(...)`) only when a frozen load asks.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from ..values.names import fold
from .connection import quote_identifier

__all__ = ["Column", "Shapes", "affinity"]


def affinity(declared: str) -> str:
    """A column's affinity from its declared type, by SQLite's rules (none: "")."""
    upper = declared.upper()
    if "INT" in upper:
        return "INTEGER"
    if any(s in upper for s in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if not upper or "BLOB" in upper:
        return ""
    if any(s in upper for s in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


@dataclass
class Column:
    """One column of a table as the writer last read it."""

    name: str
    affinity: str
    """INTEGER, REAL, NUMERIC, TEXT, or "" (none: every value is kept as it is)."""
    types: set[str] | None = field(default=None)
    """The storage classes its values have, once read (None: not read yet)."""


class Shapes:
    """Columns of the tables one writer loads into, kept while the schema stays the same."""

    def __init__(self) -> None:
        self._tables: dict[str, dict[str, Column]] = {}
        self._under: dict[str, list[str]] = {}
        self._version: int | None = None

    def check(self, conn: sqlite3.Connection) -> None:
        """Forget everything when the schema changed (another writer, or a rollback)."""
        version = conn.execute("PRAGMA schema_version").fetchone()[0]
        if version != self._version:
            self.changed()
            self._version = version

    def changed(self) -> None:
        """This writer changed the schema: read it again next time."""
        self._tables.clear()
        self._under.clear()
        self._version = None

    def columns(self, conn: sqlite3.Connection, table: str) -> dict[str, Column]:
        """Folded name -> Column; empty when the table does not exist."""
        known = self._tables.get(fold(table))
        if known is None:
            rows = conn.execute(f"PRAGMA table_info({quote_identifier(table)})").fetchall()
            known = {fold(r[1]): Column(r[1], affinity(r[2] or "")) for r in rows}
            self._tables[fold(table)] = known
        return known

    def types(self, conn: sqlite3.Connection, table: str, column: Column) -> set[str]:
        """The storage classes `column`'s values have (read once, then kept up to date)."""
        if column.types is None:
            sql = (
                f"SELECT DISTINCT typeof({quote_identifier(column.name)}) "
                f"FROM {quote_identifier(table)}"
            )
            column.types = {r[0].upper() for r in conn.execute(sql)} - {"NULL"}
        return column.types

    def tables_under(self, conn: sqlite3.Connection, table: str) -> list[str]:
        """The nested tables of `table`: named `table__...`, with a `_table_...` link column."""
        key = fold(table)
        known = self._under.get(key)
        if known is None:
            prefix, link = key + "__", fold(f"_{table}_")
            names = [
                r[0]
                for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                if fold(r[0]).startswith(prefix)
            ]
            known = self._under[key] = [
                n for n in names if any(c.startswith(link) for c in self.columns(conn, n))
            ]
        return known
