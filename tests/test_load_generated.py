"""Generated records in any order and any batches: what `loom.table` reads back is what went in."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeloom_nb import Loom

FIELDS = ("a", "b", "c")
scalars = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from(["007", "1e3", "12.50", "12345678901234567891", "", " 1"]),
)
children = st.lists(
    st.fixed_dictionaries({}, optional={"sku": scalars, "qty": scalars}), max_size=3
)


@st.composite
def batches(draw):
    """Records with unique ids, fields missing or of any type, split into batches in any order."""
    n = draw(st.integers(min_value=1, max_value=12))
    records = []
    for i in range(n):
        record = {"id": i}
        record.update(draw(st.fixed_dictionaries({}, optional=dict.fromkeys(FIELDS, scalars))))
        if draw(st.booleans()):
            record["tags"] = draw(st.lists(st.integers(0, 9) | st.text(max_size=3), min_size=1))
        if draw(st.booleans()):
            record["items"] = draw(children)
        records.append(record)
    cuts = sorted(draw(st.sets(st.integers(1, max(1, n - 1)), max_size=n)))
    parts = [records[i:j] for i, j in zip([0, *cuts], [*cuts, n], strict=True) if records[i:j]]
    return records, draw(st.permutations(parts))


def same(stored, given):
    """Equal as the reader promises: missing is missing, numbers by value, text exactly."""
    if given is None:
        return (
            stored is None or (isinstance(stored, float) and math.isnan(stored)) or stored is pd.NA
        )
    if isinstance(given, str):
        return isinstance(stored, str) and stored == given
    if isinstance(given, int) and isinstance(stored, int):
        return stored == given
    return not isinstance(stored, str) and float(stored) == float(given)


def column(frame, name, n):
    return frame[name].tolist() if name in frame else [None] * n


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches())
def test_what_is_read_back_is_what_was_returned(data):
    records, parts = data
    with tempfile.TemporaryDirectory() as tmp:
        loom = Loom(Path(tmp) / "g.db", workers=4, progress=False)
        by_first = {part[0]["id"]: part for part in parts}
        result = loom.map(by_first.get, list(by_first), "t", key="id", mode="merge")
        assert result.ok, result.summary.errors
        frame = loom.table("t").sort_values("id").reset_index(drop=True)
        assert frame["id"].tolist() == [r["id"] for r in records]
        for name in FIELDS:
            for got, record in zip(column(frame, name, len(records)), records, strict=True):
                assert same(got, record.get(name)), (name, got, record.get(name))
        for got, record in zip(column(frame, "tags", len(records)), records, strict=True):
            assert (json.loads(got) if isinstance(got, str) else None) == record.get("tags")
        expect = {(r["id"], i): item for r in records for i, item in enumerate(r.get("items", []))}
        got = _children(loom)
        assert sorted(got) == sorted(expect)
        for where, item in expect.items():
            for name in ("sku", "qty"):
                assert same(got[where].get(name), item.get(name)), (where, name)


def _children(loom):
    if "t__items" not in loom.tables:
        return {}
    rows = loom.table("t__items").to_dict("records")
    return {(row["_t_id"], row["_index"]): row for row in rows}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches(), st.data())
def test_a_batch_with_a_missing_key_is_its_items_error_and_the_rest_load(data, draw):
    _, parts = data
    broken = draw.draw(st.sampled_from(parts))
    broken[draw.draw(st.integers(0, len(broken) - 1))]["id"] = draw.draw(
        st.sampled_from([None, float("nan"), pd.NA])
    )
    with tempfile.TemporaryDirectory() as tmp:
        loom = Loom(Path(tmp) / "g.db", workers=4, progress=False)
        by_item = dict(enumerate(parts))
        result = loom.map(by_item.get, list(by_item), "t", key="id", mode="merge")
        assert result.counts.get("error") == 1
        bad = next(i for i, part in by_item.items() if part is broken)
        message = result.summary.errors[0].message
        assert f"item {bad}" in message and "'id'" in message
        loaded = loom.table("t")["id"].tolist() if "t" in loom.tables else []
        assert sorted(loaded) == sorted(r["id"] for p in parts if p is not broken for r in p)
