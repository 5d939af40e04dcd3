"""A table read back as a DataFrame with each column's values as they were stored.

`pd.read_sql_query` turns a column of integers with a NULL into floats (2**60 + 1 then
comes back changed) and has no say on mixed columns. Here a column is typed by what it
holds: integers are `int64` (`Int64` with missing values), numbers with a fraction
`float64`, and a column mixing text and numbers is `object` with each value as stored.
"""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd

__all__ = ["frame_from_cursor"]

_EXACT_FLOAT = 2**53
"""Integers beyond this are kept as they are, not turned into floats beside a REAL."""


def frame_from_cursor(cursor: sqlite3.Cursor) -> pd.DataFrame:
    """The cursor's rows as a DataFrame, each column typed by the values it holds."""
    names = [d[0] for d in cursor.description or ()]
    rows = cursor.fetchall()
    if not rows:
        return pd.DataFrame({n: pd.Series([], dtype=object) for n in names}, columns=names)
    grid = np.empty((len(rows), len(names)), dtype=object)
    grid[:] = rows
    data = {i: _column(grid[:, i]) for i in range(len(names))}
    frame = pd.DataFrame(data)
    frame.columns = names
    return frame


def _column(values: np.ndarray) -> np.ndarray | pd.api.extensions.ExtensionArray:
    kind = pd.api.types.infer_dtype(values, skipna=True)
    missing = pd.isna(values)
    if kind == "integer":
        if missing.any():
            return pd.array(values, dtype="Int64")
        return values.astype(np.int64)
    if kind == "floating" or (kind == "mixed-integer-float" and _exact(values, missing)):
        return values.astype(np.float64)
    return values


def _exact(values: np.ndarray, missing: np.ndarray) -> bool:
    """True when every integer among the numbers is one a float holds exactly."""
    return all(abs(v) <= _EXACT_FLOAT for v in values[~missing].tolist() if type(v) is int)
