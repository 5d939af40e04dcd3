"""`loom.map` never corrupts or silently drops data (issue 12, section 5), on real files."""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from pipeloom import ConfigError
from pipeloom_nb import Loom

from .helpers import rows


class Calls:
    """Items fn was called with, from any worker thread."""

    def __init__(self):
        self.items, self.lock = [], threading.Lock()

    def add(self, item):
        with self.lock:
            self.items.append(item)


# --- task identity is the item -----------------------------------------------------------------
def test_resume_after_reordered_and_extended_list_runs_exactly_the_items_not_done(loom, db_path):
    calls, failing = Calls(), {3, 5}

    def load(item):
        calls.add(item)
        if item in failing:
            raise RuntimeError(f"flaky {item}")
        return {"item": item, "square": item * item}

    first = loom.map(load, [1, 2, 3, 4, 5, 6], table="squares")
    assert first.counts == {"done": 4, "error": 2}
    failing.clear()
    calls.items.clear()

    again = loom.map(load, [7, 6, 5, 4, 3, 2, 1], table="squares", resume=True)

    assert sorted(calls.items) == [3, 5, 7]
    assert again.counts == {"done": 3, "skipped": 4}
    got = rows(db_path, "SELECT item, square FROM squares ORDER BY item")
    assert got == [(i, i * i) for i in range(1, 8)]
    ids = rows(db_path, "SELECT id, name FROM task_runs WHERE run_id = 2 ORDER BY id")
    assert ids == [(i, str(i)) for i in range(1, 8)]


def test_resume_into_another_table_skips_nothing(loom, db_path):
    def load(year):
        return {"year": year}

    loom.map(load, [1, 2, 3], table="y2023")
    result = loom.map(load, [1, 2, 3], table="y2024", resume=True)

    assert result.counts == {"done": 3}
    assert rows(db_path, "SELECT count(*) FROM y2024") == [(3,)]
    names = [r[0] for r in rows(db_path, "SELECT name FROM pipeline_runs ORDER BY run_id")]
    assert names[0].endswith("-> y2023") and names[1].endswith("-> y2024")


@dataclass(frozen=True)
class Page:
    region: str
    number: int


def test_items_without_an_id_of_their_own_get_stable_keys_across_runs(loom, db_path):
    calls = Calls()

    def load(item):
        calls.add(item)
        return {"region": item["region"], "n": item["n"]}

    loom.map(load, [{"region": "eu", "n": 1}, {"region": "us", "n": 2}], table="pages")
    calls.items.clear()
    rebuilt = [{"n": 2, "region": "us"}, {"n": 3, "region": "us"}, {"n": 1, "region": "eu"}]
    loom.map(load, rebuilt, table="pages", resume=True)

    assert calls.items == [{"n": 3, "region": "us"}]
    assert sorted(rows(db_path, "SELECT region, n FROM pages")) == [
        ("eu", 1),
        ("us", 2),
        ("us", 3),
    ]


def test_item_key_chooses_the_identity(loom, db_path):
    calls = Calls()

    def load(page):
        calls.add(page)
        return {"region": page.region, "number": page.number}

    def key(page):
        return f"{page.region}/{page.number}"

    loom.map(load, [Page("eu", 1), Page("eu", 2)], table="pages", item_key=key)
    calls.items.clear()
    loom.map(load, [Page("eu", 2), Page("eu", 3)], table="pages", item_key=key, resume=True)

    assert calls.items == [Page("eu", 3)]
    ids = rows(db_path, "SELECT id FROM task_runs WHERE status = 'done' ORDER BY run_id, id")
    assert [i for (i,) in ids] == ["eu/1", "eu/2", "eu/3"]


def test_different_items_with_one_key_are_refused_before_any_work(loom, db_path):
    calls = Calls()
    with pytest.raises(ConfigError, match="are different and have the same key 'a'"):
        loom.map(lambda i: calls.add(i), ["A", "a"], table="t", item_key=str.lower)
    assert calls.items == [] and not db_path.exists()


def test_an_item_given_twice_is_mapped_once_and_the_result_says_so(loom):
    calls = Calls()
    result = loom.map(lambda i: calls.add(i), [1, 2, 3, 2], table="t")
    assert sorted(calls.items) == [1, 2, 3]
    assert result.summary.repeated == 1 and "1 repeated items mapped once" in str(result.summary)


def test_an_item_with_no_stable_key_asks_for_item_key(loom, db_path):
    class Opaque:
        pass

    with pytest.raises(ConfigError, match="item_key="):
        loom.map(lambda i: {"x": 1}, [Opaque(), Opaque()], table="t")
    assert not db_path.exists()


# --- values are stored as what they are --------------------------------------------------------
def test_values_from_frames_and_dicts_keep_their_types(loom, db_path):
    def load(item):
        if item == "frame":
            return pd.DataFrame(
                {
                    "n": np.array([1, 2], dtype=np.int32),
                    "x": [0.5, np.nan],
                    "at": pd.to_datetime(["2024-03-01 12:30:00", None]),
                    "utc": pd.to_datetime(["2024-03-01 12:30:00+00:00", None]),
                    "flag": [True, False],
                    "nullable": pd.array([7, None], dtype="Int64"),
                    "label": ["a", None],
                    "kind": pd.Categorical(["p", None]),
                }
            )
        return {
            "n": np.int64(3),
            "x": np.float32(1.5),
            "at": pd.Timestamp("2024-03-02 08:00:00"),
            "day": dt.date(2024, 3, 2),
            "flag": np.bool_(True),
            "nullable": pd.NA,
            "label": pd.NaT,
            "price": Decimal("9.95"),
            "payload": {"tags": ["a", "b"], "count": np.int64(2), "when": pd.Timestamp(0)},
        }

    result = loom.map(load, ["frame", "dicts"], table="vals")
    assert result.counts == {"done": 2}
    got = rows(
        db_path,
        "SELECT typeof(n), n, typeof(x), x, at, utc, flag, nullable, label, kind, day, "
        "price, payload FROM vals ORDER BY n",
    )
    assert got == [
        ("integer", 1, "real", 0.5, "2024-03-01T12:30:00", "2024-03-01T12:30:00+00:00",
         1, 7, "a", "p", None, None, None),
        ("integer", 2, "null", None, None, None, 0, None, None, None, None, None, None),
        ("integer", 3, "real", 1.5, "2024-03-02T08:00:00", None, 1, None, None, None,
         "2024-03-02", 9.95, '{"tags": ["a", "b"], "count": 2, "when": "1970-01-01T00:00:00"}'),
    ]  # fmt: skip
    assert rows(db_path, "SELECT json_extract(payload, '$.tags[1]') FROM vals WHERE n = 3") == [
        ("b",)
    ]
    blobs = rows(
        db_path, "SELECT count(*) FROM vals WHERE typeof(n) = 'blob' OR typeof(x) = 'blob'"
    )
    assert blobs == [(0,)]


def test_named_index_and_groupby_keys_are_kept_as_columns(loom, db_path):
    sales = pd.DataFrame({"region": ["eu", "eu", "us"], "year": [1, 2, 1], "amount": [1, 2, 3]})

    def load(item):
        if item == "grouped":
            return sales.groupby(["region", "year"]).sum()
        return sales.set_index("region")

    assert loom.map(load, ["grouped", "indexed"], table="sales").ok
    assert loom.table_names() == ["pipeline_runs", "sales", "task_attempts", "task_runs"]
    assert list(loom.tables) == ["sales"]
    got = rows(db_path, "SELECT region, year, amount FROM sales ORDER BY region, year, amount")
    assert got == [
        ("eu", 1, 1),
        ("eu", 1, 1),
        ("eu", 2, 2),
        ("eu", 2, 2),
        ("us", 1, 3),
        ("us", 1, 3),
    ]


def test_columns_differing_only_in_case_are_one_column(loom, db_path):
    def load(item):
        return {"Id": item} if item == 1 else {"id": item}

    assert loom.map(load, [1, 2], table="t").counts == {"done": 2}
    assert rows(db_path, 'SELECT "id" FROM t ORDER BY 1') == [(1,), (2,)]


def test_an_unsupported_value_fails_its_item_naming_column_type_and_item(loom, db_path):
    def load(item):
        return {"page": item, "tags": {"a", "b"} if item == 98 else ["a"]}

    result = loom.map(load, [97, 98, 99], table="pages")

    assert result.counts == {"done": 2, "error": 1}
    message = result.errors.message[0]
    assert "item 98" in message and "column 'tags'" in message and "type set" in message
    assert rows(db_path, "SELECT page FROM pages ORDER BY page") == [(97,), (99,)]


# --- what map may touch ----------------------------------------------------------------------
@pytest.mark.parametrize("table", ["task_runs", "PIPELINE_RUNS", "Task_Runs", "sqlite_stat1"])
def test_map_into_pipelooms_or_sqlites_own_tables_is_refused(loom, db_path, table):
    calls = Calls()
    loom.map(lambda i: {"x": i}, [1], table="ok")
    with pytest.raises(ConfigError, match="own tables"):
        loom.map(lambda i: calls.add(i), [1, 2], table=table)
    assert calls.items == []
    assert rows(db_path, "SELECT count(*) FROM pipeline_runs") == [(1,)]


@pytest.mark.parametrize(
    "path", [":memory:", "", "file::memory:?cache=shared", "file:x?mode=memory"]
)
def test_an_in_memory_loom_is_refused_up_front(path):
    with pytest.raises(ConfigError, match="in-memory database"):
        Loom(path)


def test_sql_cannot_create_files(loom, tmp_path):
    loom.map(lambda i: {"x": i}, [1], table="t")
    before = set(tmp_path.iterdir())
    attach, vacuum = tmp_path / "attached.db", tmp_path / "copy.db"
    for query in (f"ATTACH '{attach}' AS other", f"VACUUM INTO '{vacuum}'"):
        with pytest.raises(pd.errors.DatabaseError, match="authoriz"):
            loom.sql(query)
    with pytest.raises(pd.errors.DatabaseError, match="authoriz"):
        loom.sql("PRAGMA query_only = OFF")
    assert set(tmp_path.iterdir()) == before
    assert loom.sql("SELECT x FROM t").x.tolist() == [1]


def test_payload_json_is_valid_for_sqlite(loom, db_path):
    def load(item):
        return {"k": item, "nested": {"nan": float("nan"), "inf": np.inf, "vals": np.arange(2)}}

    assert loom.map(load, [1], table="j").ok
    (text,) = rows(db_path, "SELECT nested FROM j")[0]
    assert json.loads(text) == {"nan": None, "inf": None, "vals": [0, 1]}
    assert rows(db_path, "SELECT json_valid(nested) FROM j") == [(1,)]
