"""`Rows`: a table's rows sent by a worker, loaded by the writer with no handler to write.

The data is converted for SQLite when the message is made, in the worker (see
`pipeloom.values`), so the writer only creates, alters and inserts. Declared column types
are inferred there too: INTEGER, REAL, TEXT or BLOB (dates are ISO 8601 TEXT, nested
values JSON TEXT).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from .errors import ConfigError
from .values import to_rows
from .values.rows import FrameColumn, frame_columns

__all__ = ["MODES", "SCHEMAS", "Rows"]

MODES = ("append", "merge", "replace")
SCHEMAS = ("evolve", "freeze")

_DTYPE_KINDS = {"i": "INTEGER", "u": "INTEGER", "b": "INTEGER", "f": "REAL", "M": "TEXT"}
_PY_TYPES = {int: "INTEGER", float: "REAL", str: "TEXT", bytes: "BLOB"}
_NONE = type(None)


@dataclass(frozen=True, slots=True)
class Rows:
    """Rows for `table`: a DataFrame, a dict (one row) or a list of dicts.

    `mode="append"` inserts; `"merge"` upserts on `key` (one column or several);
    `"replace"` swaps the table's contents when the run ends well, and leaves the old
    contents when it does not. `schema="evolve"` adds new columns; `"freeze"` refuses them.
    """

    table: str
    """The target table (created on first use)."""
    data: Any = field(repr=False)
    """What to load; converted when the message is made, then dropped (None)."""
    key: str | tuple[str, ...] | None = None
    """Column(s) identifying a row: required for `merge`."""
    mode: Literal["append", "merge", "replace"] = "append"
    """How rows meet the table's existing rows."""
    schema: Literal["evolve", "freeze"] = "evolve"
    """Whether new columns may be added to an existing table."""
    task_id: Any = None
    """The task the rows belong to: if they cannot be loaded, that task fails."""
    columns: tuple[str, ...] = field(init=False, default=())
    """Column names, in order."""
    types: tuple[str, ...] = field(init=False, default=())
    """Declared SQLite type per column ("" when nothing says)."""
    by_column: tuple[list, ...] | None = field(init=False, default=None, repr=False)
    """A DataFrame's values column by column, zipped into rows only as they are inserted."""
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
        columns, rows, types = _converted(self.data)
        if type(rows) is tuple:
            object.__setattr__(self, "by_column", rows)
        else:
            object.__setattr__(self, "_rows", rows)
        keys = key_columns(self.key)
        missing = [k for k in keys if k not in columns]
        if self.row_count and missing:
            raise ConfigError(f"Rows for {self.table!r}: key column(s) {missing} not in the data")
        object.__setattr__(self, "columns", columns)
        object.__setattr__(self, "types", types)
        object.__setattr__(self, "data", None)
        object.__setattr__(self, "key", keys or None)


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


def _converted(
    data: Any,
) -> tuple[tuple[str, ...], list[tuple] | tuple[list, ...], tuple[str, ...]]:
    """Columns, rows (a DataFrame's: a tuple of columns) and declared types."""
    if not isinstance(data, pd.DataFrame):
        columns, rows = to_rows(data)
        return columns, rows, declared_types(data, columns, rows)
    columns, converted = frame_columns(data)
    if not converted:
        return columns, [() for _ in range(len(data))], ()
    by_column = tuple([c.values for c in converted])
    by_dtype = len(columns) == data.shape[1]  # as declared_types: not with index columns
    return columns, by_column, tuple(_column_type(c, by_dtype) for c in converted)


def _column_type(column: FrameColumn, by_dtype: bool) -> str:
    if by_dtype and (declared := _dtype_type(column.dtype)):
        return declared
    seen = column.types
    if seen is None:
        seen = set(map(type, column.values))
        seen.discard(_NONE)
    return _seen_type(seen)


def declared_types(data: Any, columns: tuple[str, ...], rows: list[tuple]) -> tuple[str, ...]:
    """The SQLite type to declare for each column: from dtypes, else from the values."""
    if isinstance(data, pd.DataFrame) and len(columns) == data.shape[1]:
        return tuple(_dtype_type(dt) or _values_type(rows, i) for i, dt in enumerate(data.dtypes))
    return tuple(_values_type(rows, i) for i in range(len(columns)))


def _dtype_type(dtype: Any) -> str:
    kind = getattr(dtype, "kind", "O")
    if isinstance(dtype, pd.DatetimeTZDtype):
        return "TEXT"
    return _DTYPE_KINDS.get(kind, "")


def _values_type(rows: list[tuple], i: int) -> str:
    """INTEGER, REAL, TEXT or BLOB when every non-NULL value agrees (ints with floats: REAL)."""
    return _seen_type({type(row[i]) for row in rows} - {_NONE})


def _seen_type(seen: set[type]) -> str:
    if seen == {int, float}:
        return "REAL"
    if len(seen) == 1:
        return _PY_TYPES.get(next(iter(seen)), "")
    return ""
