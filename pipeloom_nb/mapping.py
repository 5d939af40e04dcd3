"""`Loom.map`: fn(item) returns rows; they reach a table through the single writer."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from pipeloom.messages import TaskDef
from pipeloom.store.connection import quote_identifier

__all__ = ["MapRows", "insert_map_rows", "map_tasks", "map_worker"]


@dataclass(frozen=True, slots=True)
class MapRows:
    """Rows for `table`, produced by one item of `Loom.map`."""

    task_id: int
    table: str
    columns: tuple[str, ...]
    rows: list[tuple]


def map_tasks(items: Iterable[Any]) -> list[TaskDef]:
    """One task per item, named after the item."""
    return [TaskDef(i, _label(item), params=item) for i, item in enumerate(items)]


def _label(item: Any, width: int = 40) -> str:
    text = repr(item)
    return text if len(text) <= width else text[: width - 1] + "…"


def to_rows(out: Any) -> tuple[tuple[str, ...], list[tuple]]:
    """Columns and rows from a dict, a list of dicts, or a DataFrame."""
    if out is None:
        return (), []
    if isinstance(out, pd.DataFrame):
        cols = tuple(str(c) for c in out.columns)
        return cols, list(out.itertuples(index=False, name=None))
    records = [out] if isinstance(out, dict) else list(out)
    if not all(isinstance(r, dict) for r in records):
        raise TypeError(
            f"map function must return a dict, a list of dicts or a DataFrame, "
            f"not {type(out).__name__}"
        )
    cols: dict[str, None] = {}
    for r in records:
        cols.update(dict.fromkeys(map(str, r)))
    names = tuple(cols)
    return names, [tuple(r.get(c) for c in names) for r in records]


def map_worker(fn: Callable[[Any], Any], table: str) -> Callable[[TaskDef, Any], None]:
    """A worker that calls `fn(item)` and sends its rows."""

    def worker(task: TaskDef, q: Any) -> None:
        columns, rows = to_rows(fn(task.params))
        if rows:
            q.put(MapRows(task.task_id, table, columns, rows))

    worker.__qualname__ = getattr(fn, "__qualname__", "map")
    worker.__module__ = getattr(fn, "__module__", __name__)
    return worker


def insert_map_rows(conn: sqlite3.Connection, msg: MapRows) -> None:
    """Create the table from the first rows' columns, add new columns, insert."""
    table = quote_identifier(msg.table)
    cols = [quote_identifier(c) for c in msg.columns]
    conn.execute(f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(cols)})")
    have = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
    for name, quoted in zip(msg.columns, cols, strict=True):
        if name not in have:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {quoted}")
    marks = ", ".join("?" * len(cols))
    conn.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", msg.rows)
