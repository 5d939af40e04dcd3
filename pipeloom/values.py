"""Python and pandas values as SQLite stores them: pure functions, no database state.

`to_rows(data)` turns a DataFrame, a dict or a list of dicts into `(columns, rows)` ready
for `executemany`. Values keep what they are: numbers stay numbers (numpy scalars
included), dates and times become ISO 8601 text, every kind of missing value (None, NaN,
NaT, pd.NA) becomes NULL, nested dicts and lists become JSON text, and a DataFrame's
named index is kept as columns. A value that cannot be stored raises `UnsupportedValue`,
naming the column and the type. DataFrames are converted column by column with numpy,
which keeps a million-row load cheap next to the insert itself.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import math
import uuid
from collections.abc import Callable, Hashable, Iterable, Mapping
from decimal import Decimal
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "UnsupportedValue",
    "column_name",
    "frame_rows",
    "records_rows",
    "sql_value",
    "to_rows",
]

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_NS_PER = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
_NULL_TYPES = (type(None), type(pd.NaT), type(pd.NA))


class UnsupportedValue(TypeError):
    """A value SQLite cannot store as it is; names the column, the type and the row."""

    def __init__(
        self,
        value_type: str,
        reason: str = "",
        *,
        column: str | None = None,
        row: int | None = None,
        item: str | None = None,
    ) -> None:
        self.value_type, self.reason = value_type, reason
        self.column, self.row, self.item = column, row, item
        super().__init__(str(self))

    def where(self, **kw: Any) -> UnsupportedValue:
        """A copy with more context (`column=`, `row=`, `item=`) filled in."""
        fields = {"column": self.column, "row": self.row, "item": self.item}
        fields.update({k: v for k, v in kw.items() if v is not None})
        return UnsupportedValue(self.value_type, self.reason, **fields)

    def __str__(self) -> str:
        parts = []
        if self.item is not None:
            parts.append(f"item {self.item}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        head = ", ".join(parts)
        text = f"cannot store a value of type {self.value_type}"
        if self.reason:
            text += f" ({self.reason})"
        return f"{head}: {text}" if head else text


def _type_name(value: Any) -> str:
    t = type(value)
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


# --- one value ------------------------------------------------------------------------------
def sql_value(value: Any) -> Any:
    """`value` as SQLite stores it: None, int, float, str or bytes."""
    t = type(value)
    if t is str or t is type(None):
        return value
    if t is int:
        return _int(value)
    if t is float:
        return None if value != value else value
    convert = _CONVERTERS.get(t)
    if convert is None:
        convert = _CONVERTERS[t] = _converter_for(t)
    return convert(value)


def _converter_for(t: type) -> Callable[[Any], Any]:
    """The converter registered for `t` or its nearest base class (dataclasses aside)."""
    for base in t.__mro__:
        if base in _BY_TYPE:
            return _BY_TYPE[base]
    if dataclasses.is_dataclass(t):
        return _json_text
    return _unsupported


def _unsupported(value: Any) -> Any:
    raise UnsupportedValue(_type_name(value))


def _int(value: int) -> int:
    if INT64_MIN <= value <= INT64_MAX:
        return int(value)
    raise UnsupportedValue("int", "outside SQLite's 64-bit integer range")


def _float(value: float) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


def _decimal(value: Decimal) -> float | str | None:
    """A REAL when the float is exact, else the full digits as text (no silent rounding)."""
    if value.is_nan():
        return None
    as_float = float(value)
    return as_float if Decimal(repr(as_float)) == value else str(value)


def _datetime64(value: np.datetime64) -> str | None:
    return _iso_datetime64(np.array([value]))[0]


def _timedelta(value: dt.timedelta) -> float:
    return value.total_seconds()


def _timedelta64(value: np.timedelta64) -> float | None:
    if np.isnat(value):
        return None
    return float(value / np.timedelta64(1, "ns")) / 1e9


def _numpy_scalar(value: np.generic) -> Any:
    return sql_value(value.item())


def _numpy_array(value: np.ndarray) -> str:
    return _json_text(value.tolist())


def _enum(value: enum.Enum) -> Any:
    return sql_value(value.value)


def _json_text(value: Any) -> str:
    """Nested values as JSON text, each leaf converted as `sql_value` would."""
    try:
        return json.dumps(_jsonable(value), ensure_ascii=False, allow_nan=False)
    except RecursionError:
        raise UnsupportedValue(_type_name(value), "it contains itself") from None


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {_json_key(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, bool | np.bool_):
        return bool(value)
    out = sql_value(value)
    if type(out) is float and not math.isfinite(out):
        return None  # JSON has no NaN or infinity; SQLite's json functions reject them
    if isinstance(out, bytes):
        raise UnsupportedValue(_type_name(value), "bytes inside a nested value")
    return out


def _json_key(key: Any) -> str:
    text = sql_value(key)
    return text if isinstance(text, str) else json.dumps(text)


_BY_TYPE: dict[type, Callable[[Any], Any]] = {
    type(None): lambda v: None,
    type(pd.NaT): lambda v: None,
    type(pd.NA): lambda v: None,
    bool: int,
    int: _int,
    float: _float,
    str: str,
    bytes: bytes,
    bytearray: bytes,
    memoryview: bytes,
    Decimal: _decimal,
    dt.datetime: lambda v: v.isoformat(),  # pd.Timestamp too (a subclass)
    dt.date: lambda v: v.isoformat(),
    dt.time: lambda v: v.isoformat(),
    dt.timedelta: _timedelta,  # pd.Timedelta too; stored as seconds
    np.datetime64: _datetime64,
    np.timedelta64: _timedelta64,
    np.generic: _numpy_scalar,
    np.ndarray: _numpy_array,
    dict: _json_text,
    list: _json_text,
    tuple: _json_text,
    Mapping: _json_text,
    uuid.UUID: str,
    PurePath: str,
    enum.Enum: _enum,
}
_CONVERTERS: dict[type, Callable[[Any], Any]] = {}


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
        folded = name.translate(_ASCII_LOWER)  # SQLite compares names ASCII-case-insensitively
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
            rows.append(tuple(None if v is missing else sql_value(v) for v in values))
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
def frame_rows(df: pd.DataFrame) -> tuple[tuple[str, ...], list[tuple]]:
    """Columns and converted rows of a DataFrame, column by column with numpy.

    A named index (or every level of a MultiIndex, e.g. the keys of a groupby result) is
    kept as leading columns; an unnamed single index is a row number and is dropped.
    """
    df = _index_as_columns(df)
    names = _check_names([column_name(c) for c in df.columns])
    columns = []
    for name, (_, series) in zip(names, df.items(), strict=True):
        try:
            columns.append(column_values(series))
        except UnsupportedValue as exc:
            raise exc.where(column=name) from None
    if not columns:
        return names, [() for _ in range(len(df))]
    return names, list(zip(*columns, strict=True))


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


def column_values(series: pd.Series) -> list:
    """One column's values as SQLite stores them, vectorised where the dtype allows."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _categorical(series)
    if isinstance(dtype, pd.DatetimeTZDtype):
        return _iso_datetime_tz(series)
    if isinstance(dtype, pd.PeriodDtype):
        return _masked(series.astype(str).to_numpy(dtype=object), series.isna().to_numpy())
    if isinstance(dtype, np.dtype):
        convert = _BY_KIND.get(dtype.kind)
        if convert is not None:
            return convert(series.to_numpy())
    if isinstance(dtype, pd.SparseDtype):
        return column_values(series.sparse.to_dense())
    # nullable extension dtypes (Int64, Float64, boolean, string, ...) and object columns
    return _objects(series.to_numpy(dtype=object, na_value=None))


def _masked(values: np.ndarray, mask: np.ndarray) -> list:
    """`values` (an object array) with None where `mask` is set, as a list."""
    if mask.any():
        values = values.copy()  # it may be the caller's own data
        values[mask] = None
    return values.tolist()


def _bools(values: np.ndarray) -> list:
    return values.astype(np.int64).tolist()


def _ints(values: np.ndarray) -> list:
    return values.tolist()


def _uints(values: np.ndarray) -> list:
    if values.size and values.max() > INT64_MAX:
        raise UnsupportedValue(str(values.dtype), "a value outside SQLite's 64-bit integer range")
    return values.tolist()


def _floats(values: np.ndarray) -> list:
    return _masked(values.astype(np.float64).astype(object), np.isnan(values))


def _complex(values: np.ndarray) -> list:
    raise UnsupportedValue(str(values.dtype))


def _iso_datetime64(values: np.ndarray) -> list:
    """ISO 8601 text: whole seconds when every value allows, else micro- or nanoseconds.

    Built as bytes from a table of the distinct dates (usually few) and a table of the
    86,400 times of day, several times faster than `np.datetime_as_string`.
    """
    unit = np.datetime_data(values.dtype)[0]
    nat = np.isnat(values)
    if not len(values):
        return []
    if unit not in _NS_PER:
        if unit in ("h", "m"):
            unit = "s"  # "2024-01-02T03" is not a time SQLite reads
        text = np.datetime_as_string(values, unit="D" if unit == "W" else unit)
        return _masked(text.astype(object), nat)
    per_s = 10**9 // _NS_PER[unit]
    seconds, frac = np.divmod(values.view(np.int64), per_s)
    days, second_of_day = np.divmod(seconds, 86_400)
    days[nat] = 0
    frac[nat] = 0
    codes, uniques = pd.factorize(days)
    if uniques.min() < _DAY_MIN or uniques.max() > _DAY_MAX:  # years outside 0001-9999
        text = np.datetime_as_string(values, unit="s" if not frac.any() else unit)
        return _masked(text.astype(object), nat)
    dates = np.datetime_as_string(uniques.astype("datetime64[D]")).astype("S10")
    digits = 0 if not frac.any() else 9 if unit == "ns" and (frac % 1000).any() else 6
    fields = [("date", "S10"), ("T", "S1"), ("time", "S8"), ("frac", f"S{digits + 1}")]
    buf = np.empty(len(values), dtype=[*fields[: 3 + bool(digits)], ("end", "S1")])
    buf["date"] = dates[codes]
    buf["T"] = b"T"
    buf["time"] = _times_of_day()[second_of_day]
    buf["end"] = b"\n"  # one decode and split makes all the strings at C speed
    if digits:
        grid = buf.view(np.uint8).reshape(len(values), -1)
        grid[:, 19] = ord(".")
        frac = frac * 10**digits // per_s
        for k in range(digits):
            grid[:, 20 + k] = frac // 10 ** (digits - 1 - k) % 10 + ord("0")
    out = buf.tobytes().decode("ascii").split("\n")
    out.pop()
    for i in np.flatnonzero(nat).tolist():
        out[i] = None
    return out


_TABLES: dict[str, np.ndarray] = {}
_DAY_MIN = int(np.datetime64("0001-01-01", "D").astype(np.int64))
_DAY_MAX = int(np.datetime64("9999-12-31", "D").astype(np.int64))


def _times_of_day() -> np.ndarray:
    """ "HH:MM:SS" as 8 bytes for each second of a day, made on first use."""
    if "times" not in _TABLES:
        text = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)]
        _TABLES["times"] = np.array(text, dtype="S8")
    return _TABLES["times"]


def _timedelta64s(values: np.ndarray) -> list:
    nat = np.isnat(values)
    seconds = values.astype("timedelta64[ns]").view(np.int64) / 1e9
    return _masked(seconds.astype(object), nat)


def _iso_datetime_tz(series: pd.Series) -> list:
    """ISO 8601 text with each value's own UTC offset, as `Timestamp.isoformat()` gives."""
    local = series.dt.tz_localize(None).to_numpy()
    utc = series.dt.tz_convert(None).to_numpy()
    ok = ~np.isnat(local)
    text = np.array(_iso_datetime64(local), dtype=object)
    minutes = (local[ok] - utc[ok]) // np.timedelta64(1, "m")
    codes, uniques = pd.factorize(minutes)
    suffixes = np.array([_offset(int(m)) for m in uniques], dtype=object)
    text[ok] = text[ok] + suffixes[codes]
    return text.tolist()


def _offset(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{mins:02d}"


def _categorical(series: pd.Series) -> list:
    categories = column_values(pd.Series(series.cat.categories))
    codes = series.cat.codes.to_numpy()
    values = np.empty(len(categories) + 1, dtype=object)
    values[:-1] = categories
    return values[codes].tolist()  # code -1 (missing) takes the trailing None


_SIMPLE = {str, int, float, type(None), type(pd.NaT), type(pd.NA)}


def _objects(values: np.ndarray) -> list:
    """An object column: plain str/int/float/missing fast, anything else value by value."""
    types = set(map(type, values))
    if types <= _SIMPLE and (
        int not in types or all(INT64_MIN <= v <= INT64_MAX for v in values if type(v) is int)
    ):
        if types <= {str, int, type(None)}:
            return values.tolist()
        return _masked(values, pd.isna(values))
    out = []
    for i, value in enumerate(values):
        try:
            out.append(sql_value(value))
        except UnsupportedValue as exc:
            raise exc.where(row=i) from None
    return out


_BY_KIND: dict[str, Callable[[np.ndarray], list]] = {
    "b": _bools,
    "i": _ints,
    "u": _uints,
    "f": _floats,
    "c": _complex,
    "M": _iso_datetime64,
    "m": _timedelta64s,
}


# --- any of the above -----------------------------------------------------------------------
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
