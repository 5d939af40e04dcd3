"""`pipeloom.values`: what goes in comes back, through a real SQLite file."""

from __future__ import annotations

import json
import math
import sqlite3

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames, range_indexes

from pipeloom.values import UnsupportedValue, records_rows, sql_value, to_rows

TIMES = st.datetimes(
    min_value=pd.Timestamp("1700-01-01").to_pydatetime(),
    max_value=pd.Timestamp("2200-01-01").to_pydatetime(),
)
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)
FRAMES = data_frames(
    [
        column("i", dtype=np.int64),
        column("f", dtype=np.float64),
        column("b", dtype=bool),
        column("s", elements=st.none() | TEXT, dtype=object),
        column("t", elements=st.none() | TIMES, dtype="datetime64[ns]"),
    ],
    index=range_indexes(max_size=20),
)


def through_sqlite(tmp_path_factory, columns, rows):
    path = tmp_path_factory.mktemp("values") / "v.db"
    conn = sqlite3.connect(path)
    try:
        names = ", ".join(f'"{c}"' for c in columns)
        conn.execute(f"CREATE TABLE v ({names})")
        conn.executemany(f"INSERT INTO v VALUES ({', '.join('?' * len(columns))})", rows)
        conn.commit()
        return conn.execute(f"SELECT {names} FROM v ORDER BY rowid").fetchall()
    finally:
        conn.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=FRAMES)
def test_frames_round_trip_through_sqlite(tmp_path_factory, df):
    columns, rows = to_rows(df)
    back = through_sqlite(tmp_path_factory, columns, rows)
    assert columns == ("i", "f", "b", "s", "t") and len(back) == len(df)
    for (i, f, b, s, t), (_, orig) in zip(back, df.iterrows(), strict=True):
        assert i == orig.i and type(i) is int
        assert (f is None) if math.isnan(orig.f) else f == orig.f
        assert b == int(orig.b)
        assert s == (None if pd.isna(orig.s) else orig.s)
        assert (t is None) if pd.isna(orig.t) else pd.Timestamp(t) == orig.t


@settings(max_examples=60, deadline=None)
@given(df=FRAMES)
def test_frame_and_records_paths_agree(df):
    _, fast = to_rows(df)
    _, slow = records_rows(df.to_dict("records"))
    for a, b in zip(fast, slow, strict=True):
        assert a[:4] == b[:4]
        assert (a[4] is None and b[4] is None) or pd.Timestamp(a[4]) == pd.Timestamp(b[4])


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=10,
)


def _expected(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list):
        return [_expected(v) for v in value]
    if isinstance(value, dict):
        return {k: _expected(v) for k, v in value.items()}
    return value


@given(value=st.lists(JSONISH, max_size=3) | st.dictionaries(TEXT, JSONISH, max_size=3))
def test_nested_values_are_valid_json_text(value):
    text = sql_value(value)
    assert json.loads(text) == _expected(value)


def test_conversion_leaves_the_callers_frame_alone():
    df = pd.DataFrame({"s": pd.Series(["a", None, np.nan], dtype=object), "f": [1.0, np.nan, 2]})
    before = df.copy()
    to_rows(df)
    pd.testing.assert_frame_equal(df, before)


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ([{"a": 1}, {"a": 2**64}], "column 'a', row 1"),
        (pd.DataFrame({"c": [1 + 2j]}), "column 'c'"),
        (pd.DataFrame({"o": [1, object()]}), "column 'o', row 1"),
    ],
)
def test_unsupported_values_name_their_column(data, where):
    with pytest.raises(UnsupportedValue, match=where):
        to_rows(data)
