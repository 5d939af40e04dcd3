"""One Python, numpy or pandas value as SQLite stores it; `UnsupportedValue` when it cannot."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import math
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd

from ..errors import UnsupportedValue
from .datetimes import iso_datetime64
from .nested import Nested

__all__ = ["INT64_MAX", "INT64_MIN", "UnsupportedValue", "as_json", "cell_value", "sql_value"]

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_NULL_TYPES = (type(None), type(pd.NaT), type(pd.NA))


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


def cell_value(value: Any) -> Any:
    """`sql_value` for a value in a row, where a list of dicts is `Nested` (a child table)."""
    t = type(value)
    if t is list or t is tuple:
        return _list(value)
    return sql_value(value)


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
    return iso_datetime64(np.array([value]))[0]


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


def _list(value: list | tuple) -> str | Nested:
    """A list of dicts (or an empty list) as `Nested` rows for a child table; else JSON."""
    if all(isinstance(v, Mapping) for v in value):
        return Nested(value)
    return _json_text(value)


def as_json(value: Any) -> Any:
    """`value`, with a `Nested` list turned back into JSON text (it sits among other values)."""
    return _json_text(list(value.items)) if type(value) is Nested else value


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
