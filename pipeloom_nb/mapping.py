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
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd

from pipeloom.core.messages import AddTasks, TaskDef
from pipeloom.core.page import Page
from pipeloom.core.rows import Rows
from pipeloom.errors import ConfigError
from pipeloom.run.feed import is_collection
from pipeloom.store.loads import check_target_table
from pipeloom.values import INT64_MAX, INT64_MIN, UnsupportedValue

__all__ = [
    "check_map_table",
    "item_id",
    "map_run_name",
    "map_tasks",
    "map_worker",
    "next_tasks",
]


# --- the target table -------------------------------------------------------------------------
def check_map_table(table: Any) -> str:
    """`table` if `map` may write to it; ConfigError for pipeloom's or SQLite's own tables."""
    return check_target_table(table)


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


def map_tasks(
    items: Iterable[Any], item_key: Callable[[Any], Any] | None = None
) -> tuple[Iterable[TaskDef], int]:
    """One task per item, keyed by the item (or `item_key(item)`) and named after it; and
    how many equal items were dropped (an item given twice is mapped once).

    A collection gives a list, checked whole; an iterator a generator, read as the run
    needs tasks (a repeated key then stops the run, naming the item that repeats it).
    """
    if not is_collection(items):
        return _lazy_tasks(items, item_key), 0
    tasks, seen = [], {}
    for item in items:
        task_id = _key(item, item_key)
        if task_id in seen:
            if _equal(seen[task_id], item):
                continue
            raise ConfigError(
                f"items {_label(seen[task_id])} and {_label(item)} are different and have "
                f"the same key {task_id!r}: {_MAP_ONCE}"
            )
        seen[task_id] = item
        tasks.append(TaskDef(task_id, _label(item), params=item))
    return tasks, len(items) - len(tasks)


def next_tasks(page: Page, item_key: Callable[[Any], Any] | None) -> AddTasks | None:
    """The tasks a `Page` adds: its next item(s), keyed as the map's items are."""
    items = page.next_items()
    if not items:
        return None
    tasks = [TaskDef(_key(item, item_key), _label(item), params=item) for item in items]
    return AddTasks(tasks, skip_repeats=item_key is None)


_MAP_ONCE = "pass an item_key= that tells them apart"


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:
        return False


def _lazy_tasks(items: Iterable[Any], item_key: Callable[[Any], Any] | None) -> Iterator[TaskDef]:
    seen: set[Any] = set()
    for item in items:
        task_id = _key(item, item_key)
        if task_id in seen:
            raise ConfigError(
                f"item {_label(item)} has the same key {task_id!r} as an earlier item: map "
                "each item once (e.g. list(dict.fromkeys(items))), or pass item_key= to tell "
                "them apart"
            )
        seen.add(task_id)
        yield TaskDef(task_id, _label(item), params=item)


def _key(item: Any, item_key: Callable[[Any], Any] | None) -> int | str:
    return item_id(item if item_key is None else item_key(item))


def _label(item: Any, width: int = 40) -> str:
    text = repr(item)
    return text if len(text) <= width else text[: width - 1] + "…"


# --- worker and writer ---------------------------------------------------------------------
def map_worker(
    fn: Callable[[Any], Any],
    table: str,
    key: str | tuple[str, ...] | None = None,
    mode: str = "append",
    schema: str = "evolve",
    item_key: Callable[[Any], Any] | None = None,
) -> Callable[[TaskDef, Any], None]:
    """A worker that calls `fn(item)` and sends what it returns as `Rows` for `table`.

    A `Page` sends its rows, and adds its next item(s) to the run as tasks of this map.
    """

    def worker(task: TaskDef, q: Any) -> None:
        out = fn(task.params)
        page = out if isinstance(out, Page) else None
        if page is not None:
            out = page.rows
        try:
            rows = Rows(table, out, key=key, mode=mode, schema=schema, task_id=task.task_id)
        except UnsupportedValue as exc:
            raise exc.where(item=task.name) from None
        except (TypeError, ValueError) as exc:
            if type(exc) not in (TypeError, ValueError, ConfigError):
                raise
            raise type(exc)(f"item {task.name}: {exc}") from None
        if rows.row_count or mode == "replace":  # replace: no rows at all empties the table
            q.put(rows)
        grow = None if page is None else next_tasks(page, item_key)
        if grow is not None:
            q.put(grow)

    worker.__qualname__ = getattr(fn, "__qualname__", "map")
    worker.__module__ = getattr(fn, "__module__", __name__)
    return worker
