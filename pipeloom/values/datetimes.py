"""numpy datetimes as ISO 8601 text, fast: built as bytes from tables, not value by value."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["NS_PER", "iso_datetime64", "masked"]

NS_PER = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
"""Nanoseconds per unit, for the units stored with sub-second digits."""


def masked(values: np.ndarray, mask: np.ndarray) -> list:
    """`values` (an object array) with None where `mask` is set, as a list."""
    if mask.any():
        values = values.copy()  # it may be the caller's own data
        values[mask] = None
    return values.tolist()


def iso_datetime64(values: np.ndarray) -> list:
    """ISO 8601 text, each value spelt as `Timestamp.isoformat()` spells it.

    Whole seconds when the value has no fraction, else micro- or nanoseconds: one spelling
    per instant whatever the other values of the batch, so a key never lands twice. Built
    as bytes from a table of the distinct dates (usually few) and a table of the 86,400
    times of day, several times faster than `np.datetime_as_string`.
    """
    unit = np.datetime_data(values.dtype)[0]
    nat = np.isnat(values)
    if not len(values):
        return []
    if unit not in NS_PER:
        if unit in ("h", "m"):
            unit = "s"  # "2024-01-02T03" is not a time SQLite reads
        text = np.datetime_as_string(values, unit="D" if unit == "W" else unit)
        return masked(text.astype(object), nat)
    per_s = 10**9 // NS_PER[unit]
    seconds, frac = np.divmod(values.view(np.int64), per_s)
    days, second_of_day = np.divmod(seconds, 86_400)
    days[nat] = 0
    frac[nat] = 0
    codes, uniques = pd.factorize(days)
    if uniques.min() < _DAY_MIN or uniques.max() > _DAY_MAX:  # years outside 0001-9999
        return _numpy_spelt(values, frac, nat, unit)
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
        scaled = frac * 10**digits // per_s
        for k in range(digits):
            grid[:, 20 + k] = scaled // 10 ** (digits - 1 - k) % 10 + ord("0")
        grid[frac == 0, 19 : 20 + digits] = 0  # NUL bytes, removed below: whole seconds
        if digits == 9:
            grid[(frac != 0) & (frac % 1000 == 0), 26:29] = 0  # microseconds
    out = buf.tobytes().replace(b"\0", b"").decode("ascii").split("\n")
    out.pop()
    for i in np.flatnonzero(nat).tolist():
        out[i] = None
    return out


def _numpy_spelt(values: np.ndarray, frac: np.ndarray, nat: np.ndarray, unit: str) -> list:
    """`iso_datetime64` for years numpy alone can spell; whole seconds where no fraction."""
    text = np.datetime_as_string(values, unit=unit).astype(object)
    whole = frac == 0
    text[whole] = np.datetime_as_string(values[whole], unit="s")
    return masked(text, nat)


_TABLES: dict[str, np.ndarray] = {}
_DAY_MIN = int(np.datetime64("0001-01-01", "D").astype(np.int64))
_DAY_MAX = int(np.datetime64("9999-12-31", "D").astype(np.int64))


def _times_of_day() -> np.ndarray:
    """ "HH:MM:SS" as 8 bytes for each second of a day, made on first use."""
    if "times" not in _TABLES:
        text = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)]
        _TABLES["times"] = np.array(text, dtype="S8")
    return _TABLES["times"]
