"""`Loom.map`: fn(item) returns rows; they reach a table through the single writer.

A map task is identified by its item, not by its position, so `resume=True` runs exactly
the items not done yet however the list was changed or reordered; values are converted
by `pipeloom.values` in the worker, so the writer only inserts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import json
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd

from pipeloom.errors import ConfigError
from pipeloom.messages import TaskDef
from pipeloom.store.connection import quote_identifier
from pipeloom.store.tables import OWN_TABLES
from pipeloom.values import INT64_MAX, INT64_MIN, UnsupportedValue, to_rows

__all__ = [
    "MapRows",
    "check_map_table",
    "insert_map_rows",
    "item_id",
    "map_run_name",
    "map_tasks",
    "map_worker",
]

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True, slots=True)
class MapRows:
    """Rows for `table`, produced by one item of `Loom.map`."""

    task_id: Any
    """The item's task id."""
    table: str
    """The target table."""
    columns: tuple[str, ...]
    """Column names, in order."""
    rows: list[tuple]
    """Values SQLite stores as they are (see `pipeloom.values`)."""


# --- the target table -------------------------------------------------------------------------
def _fold(name: str) -> str:
    return name.translate(_ASCII_LOWER)  # SQLite matches names ASCII-case-insensitively


def check_map_table(table: Any) -> str:
    """`table` if `map` may write to it; ConfigError for pipeloom's or SQLite's own tables."""
    quote_identifier(table)
    folded = _fold(table)
    if folded in OWN_TABLES or folded.startswith("sqlite_"):
        raise ConfigError(
            f"table={table!r} is one of pipeloom's or SQLite's own tables; choose another name"
        )
    return table


def map_run_name(fn: Callable[..., Any], table: str) -> str:
    """The default run name, which is also what `resume=True` matches: function and table."""
    module = getattr(fn, "__module__", None) or "map"
    return f"{module}.{getattr(fn, '__qualname__', 'map')} -> {table}"


# --- task identity: the item -------------------------------------------------------------------
def item_id(item: Any) -> int | str:
    """A task id that is the item's own: the item if an int or str, else a stable hash.

    The hash is of a canonical form (sorted dict keys, ISO dates, dataclass fields, ...),
    the same in every process and session. An object without one is a ConfigError: a
    key from `repr` (memory addresses, truncated reprs) could make resume skip the wrong
    item.
    """
    if isinstance(item, np.integer):
        item = int(item)
    if type(item) is int and INT64_MIN <= item <= INT64_MAX:
        return item
    if type(item) is str and _encodable(item):
        return item
    text = json.dumps(_canonical(item), sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _canonical(item: Any) -> Any:
    """A JSON-able form of `item`, tagged with types so that 1, 1.0 and "1" differ."""
    t = type(item)
    if item is None or t is bool or t is str:
        return item
    if t is int or t is float:
        return [t.__name__, repr(item)]
    if isinstance(item, np.generic):
        return _canonical(item.item())
    if isinstance(item, list | tuple):
        return [t.__name__, [_canonical(v) for v in item]]
    if isinstance(item, Mapping):
        pairs = sorted((json.dumps(_canonical(k)), _canonical(v)) for k, v in item.items())
        return ["map", pairs]
    if isinstance(item, set | frozenset):
        return ["set", sorted(json.dumps(_canonical(v)) for v in item)]
    if dataclasses.is_dataclass(item) and not isinstance(item, type):
        fields = {f.name: _canonical(getattr(item, f.name)) for f in dataclasses.fields(item)}
        return [t.__qualname__, fields]
    if isinstance(item, pd.DataFrame | pd.Series | pd.Index):
        hashed = pd.util.hash_pandas_object(item, index=not isinstance(item, pd.Index))
        columns = list(map(str, getattr(item, "columns", [getattr(item, "name", None)])))
        return [t.__name__, columns, hashed.to_numpy().tobytes().hex()]
    if isinstance(item, np.ndarray):
        return ["ndarray", str(item.dtype), item.shape, _canonical(item.tolist())]
    if isinstance(item, enum.Enum):
        return [t.__qualname__, item.name]
    if isinstance(item, dt.date | dt.time | dt.timedelta | Decimal | uuid.UUID | PurePath | bytes):
        return [t.__name__, str(item)]
    raise ConfigError(
        f"item {_label(item)} of type {t.__qualname__} has no stable key; "
        "pass item_key= (a function returning an int or str for each item)"
    )


def map_tasks(items: Iterable[Any], item_key: Callable[[Any], Any] | None = None) -> list[TaskDef]:
    """One task per item, keyed by the item (or `item_key(item)`) and named after it."""
    tasks, seen = [], {}
    for item in items:
        task_id = item_id(item if item_key is None else item_key(item))
        if task_id in seen:
            raise ConfigError(
                f"items {_label(seen[task_id])} and {_label(item)} have the same key "
                f"{task_id!r}: map each item once (e.g. list(dict.fromkeys(items))), "
                "or pass item_key= to tell them apart"
            )
        seen[task_id] = item
        tasks.append(TaskDef(task_id, _label(item), params=item))
    return tasks


def _label(item: Any, width: int = 40) -> str:
    text = repr(item)
    return text if len(text) <= width else text[: width - 1] + "…"


# --- worker and writer ---------------------------------------------------------------------
def map_worker(fn: Callable[[Any], Any], table: str) -> Callable[[TaskDef, Any], None]:
    """A worker that calls `fn(item)` and sends its rows, converted for SQLite."""

    def worker(task: TaskDef, q: Any) -> None:
        out = fn(task.params)
        try:
            columns, rows = to_rows(out)
        except UnsupportedValue as exc:
            raise exc.where(item=task.name) from None
        except (TypeError, ValueError) as exc:
            if type(exc) not in (TypeError, ValueError):
                raise
            raise type(exc)(f"item {task.name}: {exc}") from None
        if rows:
            q.put(MapRows(task.task_id, table, columns, rows))

    worker.__qualname__ = getattr(fn, "__qualname__", "map")
    worker.__module__ = getattr(fn, "__module__", __name__)
    return worker


def insert_map_rows(conn: sqlite3.Connection, msg: MapRows) -> None:
    """Create the table from the first rows' columns, add new columns, insert."""
    table = quote_identifier(check_map_table(msg.table))
    cols = [quote_identifier(c) for c in msg.columns]
    conn.execute(f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(cols)})")
    have = {_fold(r[1]) for r in conn.execute(f"PRAGMA table_info({table})")}
    for name, quoted in zip(msg.columns, cols, strict=True):
        if _fold(name) not in have:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {quoted}")
    marks = ", ".join("?" * len(cols))
    conn.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", msg.rows)
