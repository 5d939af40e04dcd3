"""Refusing a value a table would change or a frozen table does not take, before inserting.

Tables pipeloom creates have columns with no affinity: SQLite keeps each value as it is,
whatever the others. A table declared elsewhere (by a `schema=`, or by an earlier pipeloom
version) may have typed columns, whose affinity would turn the text "007" into the number
7: such a value is refused, naming it. Checks go by the types the worker noted per column
(`Rows.types`), so the rows themselves are read only to name a refused value.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ..core.rows import Rows
from ..errors import ConfigError
from ..values.names import fold
from ..values.types import STORAGE, storage_set
from .shapes import Column, Shapes

__all__ = ["check_types", "note_types"]

_NUMERIC = ("INTEGER", "REAL", "NUMERIC")


def check_types(
    conn: sqlite3.Connection, shapes: Shapes, table: str, msg: Rows, frozen: bool
) -> None:
    """ConfigError for a value `table`'s columns would change or, if `frozen`, not take."""
    columns = shapes.columns(conn, table)
    for i, (name, spelt) in enumerate(zip(msg.columns, msg.types, strict=True)):
        column = columns.get(fold(name))
        if column is None or not spelt:
            continue
        new = storage_set(spelt)
        clash = _clash(column.affinity, new)
        if clash:
            raise ConfigError(_affinity_text(table, column, clash, _first_of(msg, i, clash)))
        if frozen:
            have = shapes.types(conn, table, column)
            extra = new - have - ({"INTEGER"} if "REAL" in have else set())
            if have and extra:
                kind = min(extra)
                raise ConfigError(_frozen_text(table, column, have, kind, _first_of(msg, i, kind)))


def note_types(conn: sqlite3.Connection, shapes: Shapes, table: str, msg: Rows) -> None:
    """After an insert: the types now in the columns whose types are known."""
    columns = shapes.columns(conn, table)
    for name, spelt in zip(msg.columns, msg.types, strict=True):
        column = columns.get(fold(name))
        if column is not None and column.types is not None:
            column.types |= storage_set(spelt)


def _clash(column_affinity: str, new: frozenset[str]) -> str | None:
    """The storage class SQLite would convert in a column of this affinity, if any."""
    if column_affinity in _NUMERIC and "TEXT" in new:
        return "TEXT"
    if column_affinity == "TEXT":
        return next((k for k in ("INTEGER", "REAL") if k in new), None)
    return None


def _first_of(msg: Rows, i: int, storage: str) -> Any:
    return next(r[i] for r in msg.iter_rows() if STORAGE.get(type(r[i])) == storage)


def _affinity_text(table: str, column: Column, kind: str, value: Any) -> str:
    return (
        f"column {column.name!r} of table {table!r} has {column.affinity} affinity (as it "
        f"was declared), so SQLite would change the {kind} value {value!r} stored there; "
        "tables pipeloom creates keep every value as it is: load into a new table, or "
        "convert the value in your function"
    )


def _frozen_text(table: str, column: Column, have: set[str], kind: str, value: Any) -> str:
    holds = " and ".join(sorted(have))
    return (
        f"table {table!r} is frozen (schema='freeze'): column {column.name!r} holds "
        f"{holds} values, and this item has the {kind} value {value!r}"
    )
