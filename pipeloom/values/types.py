"""Which SQLite types a column's values have: found in the worker, checked by the writer."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["STORAGE", "column_storage", "dtype_types", "storage_set"]

STORAGE = {int: "INTEGER", float: "REAL", str: "TEXT", bytes: "BLOB"}
"""The SQLite storage class of each Python type a converted value can have."""

_BY_KIND = {"i": {int}, "u": {int}, "b": {int}, "f": {float}, "M": {str}, "m": {float}}


def column_storage(types: set[type]) -> str:
    """The storage classes of `types`, sorted and joined: `INTEGER`, `INTEGER|TEXT`, ""."""
    return "|".join(sorted(STORAGE[t] for t in types if t in STORAGE))


def storage_set(spelt: str) -> frozenset[str]:
    """`column_storage`'s text back as a set of storage classes."""
    return frozenset(spelt.split("|")) if spelt else frozenset()


def dtype_types(dtype: Any) -> set[type] | None:
    """The types every converted value of a column of `dtype` has; None if the values tell."""
    if isinstance(dtype, pd.DatetimeTZDtype):
        return {str}
    return _BY_KIND.get(getattr(dtype, "kind", "O"))
