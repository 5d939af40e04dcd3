"""A pandas column as a list of SQLite-ready values, converted with numpy, not row by row."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from .datetimes import iso_datetime64, masked
from .scalars import INT64_MAX, INT64_MIN, UnsupportedValue, cell_value

__all__ = ["column_values", "typed_column_values"]

_NONE = type(None)


def column_values(series: pd.Series) -> list:
    """One column's values as SQLite stores them, vectorised where the dtype allows."""
    return typed_column_values(series)[0]


def typed_column_values(series: pd.Series) -> tuple[list, set[type] | None]:
    """`column_values`, and the types of its non-NULL values when converting learnt them.

    An object column is scanned for types anyway; handing them on spares the caller that
    wants declared types a second pass over the values. None means "not learnt".
    """
    dtype = series.dtype
    if isinstance(dtype, np.dtype):
        convert = _BY_KIND.get(dtype.kind)
        if convert is not None:
            return convert(series.to_numpy()), None
    elif isinstance(dtype, pd.CategoricalDtype):
        return _categorical(series), None
    elif isinstance(dtype, pd.DatetimeTZDtype):
        return _iso_datetime_tz(series), None
    elif isinstance(dtype, pd.PeriodDtype):
        return masked(series.astype(str).to_numpy(dtype=object), series.isna().to_numpy()), None
    elif isinstance(dtype, pd.SparseDtype):
        return column_values(series.sparse.to_dense()), None
    elif isinstance(dtype, pd.StringDtype):
        # str or missing (NaN or NA, which _objects makes None): no copy to set na_value
        return _objects(series.to_numpy(dtype=object))
    # nullable extension dtypes (Int64, Float64, boolean, string, ...) and object columns
    return _objects(series.to_numpy(dtype=object, na_value=None))


def _bools(values: np.ndarray) -> list:
    return values.astype(np.int64).tolist()


def _ints(values: np.ndarray) -> list:
    return values.tolist()


def _uints(values: np.ndarray) -> list:
    if values.size and values.max() > INT64_MAX:
        raise UnsupportedValue(str(values.dtype), "a value outside SQLite's 64-bit integer range")
    return values.tolist()


def _floats(values: np.ndarray) -> list:
    nan = np.isnan(values)
    if not nan.any():  # tolist gives the same Python floats, without an object array
        return values.astype(np.float64, copy=False).tolist()
    return masked(values.astype(np.float64).astype(object), nan)


def _complex(values: np.ndarray) -> list:
    raise UnsupportedValue(str(values.dtype))


def _timedelta64s(values: np.ndarray) -> list:
    nat = np.isnat(values)
    seconds = values.astype("timedelta64[ns]").view(np.int64) / 1e9
    return masked(seconds.astype(object), nat)


def _iso_datetime_tz(series: pd.Series) -> list:
    """ISO 8601 text with each value's own UTC offset, as `Timestamp.isoformat()` gives."""
    local = series.dt.tz_localize(None).to_numpy()
    utc = series.dt.tz_convert(None).to_numpy()
    ok = ~np.isnat(local)
    text = np.array(iso_datetime64(local), dtype=object)
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


_SIMPLE = {str, int, float, _NONE, type(pd.NaT), type(pd.NA)}
_STR_INT_NONE = {str, int, _NONE}


def _objects(values: np.ndarray) -> tuple[list, set[type] | None]:
    """An object column: plain str/int/float/missing fast, anything else value by value."""
    items = values.tolist()  # the same objects; a list is quicker to scan than the array
    types = set(map(type, items))
    if types <= _SIMPLE and (
        int not in types or all(INT64_MIN <= v <= INT64_MAX for v in items if type(v) is int)
    ):
        if types <= _STR_INT_NONE:
            types.discard(_NONE)
            return items, types
        return masked(values, pd.isna(values)), None
    out = []
    for i, value in enumerate(items):
        try:
            out.append(cell_value(value))
        except UnsupportedValue as exc:
            raise exc.where(row=i) from None
    return out, None


_BY_KIND: dict[str, Callable[[np.ndarray], list]] = {
    "b": _bools,
    "i": _ints,
    "u": _uints,
    "f": _floats,
    "c": _complex,
    "M": iso_datetime64,
    "m": _timedelta64s,
}


# --- any of the above -----------------------------------------------------------------------
