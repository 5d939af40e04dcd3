"""`Rows`: a table's rows sent by a worker, loaded by the writer with no handler to write.

The data is converted for SQLite when the message is made, in the worker (see
`pipeloom.values`), so the writer only creates, alters and inserts. Each value keeps its
own type: the worker notes which types each column holds (`types`), and the writer's
tables take every value as it is (see `store.loads`). Lists of dicts become child tables
(`children`), as `values.nested` describes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from ..errors import ConfigError
from ..values import to_rows
from ..values.nested import ROW_ID, Nested, child_records, link_name, new_row_ids
from ..values.records import frame_columns
from ..values.scalars import as_json
from ..values.types import column_storage, dtype_types

__all__ = ["MODES", "SCHEMAS", "Rows"]

MODES = ("append", "merge", "replace")
SCHEMAS = ("evolve", "freeze")


@dataclass(frozen=True, slots=True)
class Rows:
    """Rows for `table`: a DataFrame, a dict (one row) or a list of dicts.

    `mode="append"` inserts; `"merge"` upserts on `key` (one column or several) and
    replaces the row's child rows; `"replace"` swaps the table's contents (its child
    tables' too) when the run ends well, and leaves the old contents when it does not.
    `schema="evolve"` adds new columns; `"freeze"` refuses new columns and new types.
    """

    table: str
    """The target table (created on first use)."""
    data: Any = field(repr=False)
    """What to load; converted when the message is made, then dropped (None)."""
    key: str | tuple[str, ...] | None = None
    """Column(s) identifying a row: required for `merge`; never missing in a row."""
    mode: Literal["append", "merge", "replace"] = "append"
    """How rows meet the table's existing rows."""
    schema: Literal["evolve", "freeze"] = "evolve"
    """Whether new columns (and new types in a column) may be added to an existing table."""
    task_id: Any = None
    """The task the rows belong to: if they cannot be loaded, that task fails."""
    columns: tuple[str, ...] = field(init=False, default=())
    """Column names, in order."""
    types: tuple[str, ...] = field(init=False, default=())
    """The SQLite types each column holds, as `INTEGER`, `TEXT|INTEGER`... ("" when none)."""
    by_column: tuple[list, ...] | None = field(init=False, default=None, repr=False)
    """A DataFrame's values column by column, zipped into rows only as they are inserted."""
    children: tuple[Rows, ...] = field(init=False, default=())
    """Rows of the nested tables (`table__field`), loaded with these in one savepoint."""
    link: tuple[str, ...] = field(init=False, default=())
    """For a nested table: its columns holding the top row's key (`_orders_id`)."""
    _rows: list[tuple] = field(init=False, default_factory=list, repr=False)

    @property
    def rows(self) -> list[tuple]:
        """Values as SQLite stores them, one tuple per row."""
        if self.by_column is None:
            return self._rows
        return list(zip(*self.by_column, strict=True))

    @property
    def row_count(self) -> int:
        """How many rows there are, without building them."""
        return len(self._rows) if self.by_column is None else len(self.by_column[0])

    def iter_rows(self) -> Iterable[tuple]:
        """The rows for `executemany`; zipped lazily, a DataFrame's rows are never all built."""
        if self.by_column is None:
            return self._rows
        return zip(*self.by_column, strict=True)

    def __post_init__(self) -> None:
        check_rows_options(self.table, self.key, self.mode, self.schema)
        object.__setattr__(self, "key", key_columns(self.key) or None)
        _load(self, self.data)


def _set(rows: Rows, **values: Any) -> None:
    for name, value in values.items():
        object.__setattr__(rows, name, value)


def _load(rows: Rows, data: Any) -> None:
    """Convert `data` into the message's columns, rows, types and children."""
    columns, converted, types = _converted(data)
    children: tuple[Rows, ...] = ()
    if any(Nested in t for t in types):
        columns, converted, types, children = _split_nested(rows, columns, converted, types)
    _set(rows, columns=columns, types=tuple(map(column_storage, types)), children=children)
    _set(rows, data=None, by_column=None, _rows=[])
    if type(converted) is tuple:
        _set(rows, by_column=converted)
    else:
        _set(rows, _rows=converted)
    if rows.row_count and rows.key:
        _check_keys(rows)


def key_columns(key: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """`key` as a tuple of column names."""
    if key is None:
        return ()
    return (key,) if isinstance(key, str) else tuple(key)


def check_rows_options(table: Any, key: Any, mode: str, schema: str) -> None:
    """ConfigError for a mode, schema or key that cannot work."""
    if not isinstance(table, str) or not table:
        raise ConfigError(f"table must be a non-empty str, not {table!r}")
    if mode not in MODES:
        raise ConfigError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if schema not in SCHEMAS:
        raise ConfigError(f"schema must be one of {', '.join(SCHEMAS)}, not {schema!r}")
    if mode == "merge" and not key:
        raise ConfigError(f"mode='merge' into {table!r} needs key= (the column(s) to match on)")
    if key is not None and not all(isinstance(k, str) and k for k in key_columns(key)):
        raise ConfigError(f"key must be a column name or a tuple of them, not {key!r}")


def _check_keys(rows: Rows) -> None:
    """ValueError for a key column absent from the data, or a row without a key value."""
    missing = [k for k in rows.key if k not in rows.columns]
    if missing:
        raise ConfigError(f"Rows for {rows.table!r}: key column(s) {missing} not in the data")
    for k in rows.key:
        i = rows.columns.index(k)
        values = rows.by_column[i] if rows.by_column is not None else [r[i] for r in rows._rows]
        if None in values:
            row = values.index(None)
            raise ValueError(
                f"row {row} for {rows.table!r} has no value in key column {k!r} "
                "(None, NaN or NA): a key identifies the row, so it is never missing"
            )


# --- nested lists of dicts ------------------------------------------------------------------
def _split_nested(
    parent: Rows, columns: tuple[str, ...], converted: Any, types: list[set]
) -> tuple[tuple[str, ...], list[tuple], list[set], tuple[Rows, ...]]:
    """Move columns of lists of dicts out of the rows into child `Rows`."""
    rows = [
        list(r) for r in (zip(*converted, strict=True) if type(converted) is tuple else converted)
    ]
    columns, types = list(columns), list(types)
    names, links = _links(parent, columns, rows, types)
    children, keep = [], []
    for i, name in enumerate(columns):
        if Nested not in types[i]:
            keep.append(i)
        elif types[i] == {Nested}:
            data = child_records([r[i] for r in rows], links, names)
            children.append(_child(parent, name, data, names))
        else:  # lists of dicts beside other values (text, numbers): all kept as JSON text
            for r in rows:
                r[i] = as_json(r[i])
            types[i] = {type(r[i]) for r in rows} - {type(None)}
            keep.append(i)
    out = [tuple(r[i] for i in keep) for r in rows]
    return tuple(columns[i] for i in keep), out, [types[i] for i in keep], tuple(children)


def _links(
    parent: Rows, columns: list[str], rows: list[list], types: list[set]
) -> tuple[tuple[str, ...], list[tuple]]:
    """The columns a child row carries to find its parent row, and their values per row.

    A top table's key (or a made `_row_id` when it has none); a nested table's own links
    and position, so that `orders__line_items__taxes` rows find their line item.
    """
    if parent.link:
        names = (*parent.link, "_index")
        at = [columns.index(n) for n in names]
        own = f"_{parent.table.rsplit('__', 1)[-1]}_index"
        return (*parent.link, own), [tuple(r[i] for i in at) for r in rows]
    if parent.key:
        at = [columns.index(k) if k in columns else None for k in parent.key]
        names = tuple(link_name(parent.table, k) for k in parent.key)
        return names, [tuple(None if i is None else r[i] for i in at) for r in rows]
    columns.append(ROW_ID)
    types.append({str})
    for r, row_id in zip(rows, new_row_ids(len(rows)), strict=True):
        r.append(row_id)
    return (link_name(parent.table, ROW_ID),), [(r[-1],) for r in rows]


def _child(parent: Rows, name: str, data: list[dict], link: tuple[str, ...]) -> Rows:
    """The Rows of one nested table: no key of its own, its rows hang on `link`."""
    child = object.__new__(Rows)
    _set(child, table=f"{parent.table}__{name}", key=None, mode=parent.mode, link=link)
    _set(child, schema=parent.schema, task_id=parent.task_id)
    _load(child, data)
    return child


# --- conversion -----------------------------------------------------------------------------
def _converted(data: Any) -> tuple[tuple[str, ...], list[tuple] | tuple[list, ...], list[set]]:
    """Columns, rows (a DataFrame's: a tuple of columns) and each column's value types."""
    if not isinstance(data, pd.DataFrame):
        columns, rows = to_rows(data)
        return columns, rows, [_seen(r[i] for r in rows) for i in range(len(columns))]
    columns, converted = frame_columns(data)
    if not converted:
        return columns, [() for _ in range(len(data))], []
    by_dtype = len(columns) == data.shape[1]  # not with index columns: their values tell
    types = [(by_dtype and dtype_types(c.dtype)) or c.types or _seen(c.values) for c in converted]
    return columns, tuple([c.values for c in converted]), [set(t) - _NONE for t in types]


_NONE = {type(None)}


def _seen(values: Iterable[Any]) -> set[type]:
    return set(map(type, values)) - _NONE
