"""Rows for `executemany`: from a DataFrame (a named index kept as columns) or dicts."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any, NamedTuple

import pandas as pd

from .columns import typed_column_values
from .names import fold
from .scalars import UnsupportedValue, _type_name, cell_value, sql_value

__all__ = ["FrameColumn", "column_name", "frame_columns", "frame_rows", "records_rows", "to_rows"]


# --- column names ---------------------------------------------------------------------------
def column_name(label: Hashable) -> str:
    """A column name from a DataFrame or dict label (MultiIndex tuples joined with `_`)."""
    if isinstance(label, tuple):
        return "_".join(str(p) for p in label if p is not None and str(p) != "")
    return label if isinstance(label, str) else str(label)


def _check_names(names: list[str]) -> tuple[str, ...]:
    """Refuse names SQLite cannot hold, and two names it would see as one column."""
    seen: dict[str, str] = {}
    for name in names:
        if not name or "\x00" in name:
            raise ValueError(f"invalid column name {name!r}")
        folded = fold(name)
        if folded in seen:
            other = seen[folded]
            raise ValueError(
                f"columns {other!r} and {name!r} would be the same SQLite column"
                if other != name
                else f"duplicate column {name!r}"
            )
        seen[folded] = name
    return tuple(names)


# --- lists of dicts -------------------------------------------------------------------------
def records_rows(records: Iterable[Mapping[Any, Any]]) -> tuple[tuple[str, ...], list[tuple]]:
    """Columns (in order of first appearance) and converted rows from dicts."""
    records = list(records)
    labels: dict[Any, None] = {}
    for i, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise TypeError(f"row {i} is a {_type_name(record)}, not a dict")
        labels.update(dict.fromkeys(record))
    keys = list(labels)
    names = _check_names([column_name(k) for k in keys])
    missing = object()
    rows = []
    for i, record in enumerate(records):
        values = [record.get(k, missing) for k in keys]
        try:
            rows.append(tuple(None if v is missing else cell_value(v) for v in values))
        except UnsupportedValue as exc:
            col = next(n for n, v in zip(names, values, strict=True) if not _storable(v))
            raise exc.where(column=col, row=i) from None
    return names, rows


def _storable(value: Any) -> bool:
    try:
        sql_value(value)
    except UnsupportedValue:
        return False
    return True


# --- DataFrames ------------------------------------------------------------------------------
class FrameColumn(NamedTuple):
    """One converted DataFrame column, with what is known of its types."""

    values: list
    """The values as SQLite stores them."""
    dtype: Any
    """The pandas dtype it came from."""
    types: set[type] | None
    """The types of its non-NULL values, when converting learnt them (else None)."""


def frame_rows(df: pd.DataFrame) -> tuple[tuple[str, ...], list[tuple]]:
    """Columns and converted rows of a DataFrame, column by column with numpy.

    A named index (or every level of a MultiIndex, e.g. the keys of a groupby result) is
    kept as leading columns; an unnamed single index is a row number and is dropped.
    """
    names, columns = frame_columns(df)
    if not columns:
        return names, [() for _ in range(len(df))]
    return names, list(zip(*[c.values for c in columns], strict=True))


def frame_columns(df: pd.DataFrame) -> tuple[tuple[str, ...], list[FrameColumn]]:
    """`frame_rows` column by column: names and converted columns (index levels first)."""
    df = _index_as_columns(df)
    names = _check_names([column_name(c) for c in df.columns])
    columns = []
    for name, (_, series) in zip(names, df.items(), strict=True):
        try:
            values, types = typed_column_values(series)
        except UnsupportedValue as exc:
            raise exc.where(column=name) from None
        columns.append(FrameColumn(values, series.dtype, types))
    return names, columns


def _index_as_columns(df: pd.DataFrame) -> pd.DataFrame:
    index = df.index
    if not isinstance(index, pd.MultiIndex) and index.name is None:
        return df
    names = [n if n is not None else f"level_{i}" for i, n in enumerate(index.names)]
    same = []  # levels that repeat a column (e.g. set_index("id", drop=False)) add nothing
    for i, name in enumerate(names):
        if name in df.columns:
            level = index.get_level_values(i)
            if not level.equals(pd.Index(df[name].to_numpy())):
                raise ValueError(
                    f"index level {name!r} is also a column, with other values; "
                    "rename one of them or reset_index(drop=True)"
                )
            same.append(i)
    out = df.copy(deep=False)
    out.index = index.set_names(names)
    if same:
        out = out.reset_index(level=same, drop=True)
        if len(same) == len(names):
            return out
    return out.reset_index()


def to_rows(data: Any) -> tuple[tuple[str, ...], list[tuple]]:
    """Columns and rows from a DataFrame, a dict (one row), a list of dicts, or None."""
    if data is None:
        return (), []
    if isinstance(data, pd.DataFrame):
        return frame_rows(data)
    if isinstance(data, pd.Series):
        raise TypeError(
            "got a Series: return series.to_frame() for one row per value, "
            "or series.to_dict() for one row"
        )
    if isinstance(data, Mapping):
        return records_rows([data])
    if isinstance(data, str | bytes) or not isinstance(data, Iterable):
        raise TypeError(f"expected a DataFrame, a dict or a list of dicts, not {_type_name(data)}")
    return records_rows(data)
