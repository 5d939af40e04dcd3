"""`loom.map` keeps data as it is: values, types whatever the arrival order, honest keys."""

from __future__ import annotations

import datetime as dt
import math
import threading
from decimal import Decimal

import pandas as pd
import pytest

from pipeloom_nb import Loom

from .helpers import rows

pytestmark = pytest.mark.workers(4)


def test_text_that_looks_like_a_number_stays_text_beside_numbers(loom, db_path):
    values = {1: 7, 2: "007", 3: "12345678901234567891", 4: "1e3", 5: 2.5}
    result = loom.map(
        lambda i: {"id": i, "v": values[i]}, list(values), "t", key="id", mode="merge"
    )
    assert result.ok
    back = loom.table("t").set_index("id")["v"].to_dict()
    assert back == values
    assert {type(v) for v in back.values()} == {int, str, float}
    assert rows(db_path, "SELECT typeof(v) FROM t WHERE id = 2") == [("text",)]


def test_a_decimal_keeps_every_digit(loom):
    exact = Decimal("12345678901234567.89")
    assert loom.map(lambda i: {"id": i, "amount": exact}, [1], "t").ok
    assert loom.table("t")["amount"].tolist() == ["12345678901234567.89"]


def test_the_column_does_not_depend_on_which_item_lands_first(tmp_path):
    """`amount` is "12.50" for some items and 12.5 for others: each is kept as it came."""
    amounts = {i: "12.50" if i % 2 else 12.5 for i in range(40)}
    for order in (list(amounts), list(reversed(amounts))):
        loom = Loom(tmp_path / f"{order[0]}.db", workers=8, progress=False)
        gate = threading.Barrier(2, timeout=5)

        def fetch(i, gate=gate, first=order[0], second=order[1]):
            if i in (first, second):
                gate.wait()  # both start before any other item of `order`
            return {"id": i, "amount": amounts[i]}

        assert loom.map(fetch, order, "orders", workers=2).ok
        back = loom.table("orders").set_index("id")["amount"].to_dict()
        assert back == amounts


def test_numbers_stay_numbers_where_the_column_holds_numbers(loom):
    data = {1: 3, 2: 2.5, 3: None}
    assert loom.map(lambda i: {"id": i, "x": data[i], "n": 2**60 + i}, list(data), "t").ok
    df = loom.table("t").sort_values("id")
    assert df["x"].dtype == "float64"
    assert df["n"].dtype == "int64"
    assert df["n"].tolist() == [2**60 + 1, 2**60 + 2, 2**60 + 3]  # exact, not via floats
    assert df["x"].tolist()[:2] == [3.0, 2.5] and math.isnan(df["x"].tolist()[2])


def test_integers_with_a_missing_value_come_back_exact(loom):
    assert loom.map(lambda i: {"id": i, "n": None if i == 2 else 2**60 + i}, [1, 2], "t").ok
    df = loom.table("t").sort_values("id")
    assert str(df["n"].dtype) == "Int64"
    assert df["n"].tolist()[0] == 2**60 + 1


def test_freeze_refuses_a_new_type_naming_item_column_value_and_types(loom):
    assert loom.map(lambda i: {"id": i, "amount": 12.5}, [1, 2], "t").ok
    result = loom.map(lambda i: {"id": i, "amount": "12.50"}, [3], "t", schema="freeze")
    assert result.status == "error"
    message = result.summary.errors[0].message
    for part in ("item 3", "'amount'", "REAL", "TEXT", "'12.50'", "frozen"):
        assert part in message
    assert sorted(loom.table("t")["id"]) == [1, 2]  # nothing of item 3 loaded


def test_freeze_takes_an_integer_in_a_column_of_floats(loom):
    assert loom.map(lambda i: {"id": i, "amount": 12.5}, [1], "t").ok
    assert loom.map(lambda i: {"id": i, "amount": 12}, [2], "t", schema="freeze").ok


def test_a_typed_column_declared_elsewhere_refuses_a_value_it_would_change(db_path):
    loom = Loom(db_path, progress=False)
    loom.schema("CREATE TABLE t (id INTEGER, code INTEGER)")
    result = loom.map(lambda i: {"id": i, "code": "007"}, [1], "t")
    assert result.status == "error"
    message = result.summary.errors[0].message
    assert "'code'" in message and "'007'" in message and "INTEGER affinity" in message
    assert rows(db_path, "SELECT count(*) FROM t") == [(0,)]


@pytest.mark.parametrize("missing", [None, float("nan"), pd.NA])
def test_a_missing_key_is_that_items_error(loom, missing):
    result = loom.map(
        lambda i: {"id": missing if i == 2 else i, "v": i}, [1, 2, 3], "t", key="id", mode="merge"
    )
    assert result.status == "error" and result.counts["done"] == 2
    message = result.summary.errors[0].message
    assert "item 2" in message and "'id'" in message
    loom.map(lambda i: {"id": i, "v": i}, [1, 3], "t", key="id", mode="merge")
    assert sorted(loom.table("t")["id"]) == [1, 3]  # no NULL id, no id no item returned


def test_a_missing_part_of_a_composite_key_is_refused(loom):
    result = loom.map(lambda i: {"a": i, "b": None, "v": 1}, [1], "t", key=("a", "b"), mode="merge")
    assert result.status == "error" and "'b'" in result.summary.errors[0].message


def test_a_timestamp_key_has_one_spelling_whatever_its_batch(loom):
    instant = pd.Timestamp("2024-03-01 12:00:00")

    def fetch(i):
        times = [instant, instant + pd.Timedelta(microseconds=500)] if i == 1 else [instant]
        return pd.DataFrame({"at": times, "v": i})

    for _ in range(2):
        assert loom.map(fetch, [1, 2], "t", key="at", mode="merge").ok
    assert sorted(loom.table("t")["at"]) == ["2024-03-01T12:00:00", "2024-03-01T12:00:00.000500"]
    assert loom.map(
        lambda i: {"at": dt.datetime(2024, 3, 1, 12), "v": 9}, [3], "t", key="at", mode="merge"
    ).ok
    assert len(loom.table("t")) == 2


def test_a_key_that_changes_type_is_kept_as_it_came(loom):
    assert loom.map(lambda i: {"id": i, "v": 1}, [1, 2], "t", key="id", mode="merge").ok
    assert loom.map(lambda i: {"id": str(i), "v": 2}, [1], "t", key="id", mode="merge").ok
    assert sorted(map(repr, loom.table("t")["id"])) == ["'1'", "1", "2"]
