"""`Rows`: typed, idempotent loads with no handler and no CREATE TABLE."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pipeloom import ConfigError, Rows, TaskDef, run_pipeline
from pipeloom_nb import Loom

from .helpers import rows, statuses


def load(db_path, make_rows, n=3, **kw):
    def worker(task, q):
        q.put(make_rows(task))

    return run_pipeline(
        db_path, [TaskDef(i, f"t{i}") for i in range(n)], worker_fn=worker, progress=False, **kw
    )


def declared(db_path, table):
    return {r[1]: r[2] for r in rows(db_path, f"PRAGMA table_info({table})")}


def test_the_table_keeps_each_value_with_its_own_type(db_path):
    def make(task):
        df = pd.DataFrame(
            {
                "id": [task.task_id],
                "price": [1.5],
                "name": ["x"],
                "when": [pd.Timestamp("2024-01-02 03:04:05")],
                "ok": [True],
                "tags": [["a", "b"]],
            }
        )
        return Rows("orders", df, task_id=task.task_id)

    assert load(db_path, make).ok
    assert set(declared(db_path, "orders").values()) == {""}  # no affinity: nothing converted
    got = rows(
        db_path,
        "SELECT typeof(id), typeof(price), typeof(name), typeof(ok), "
        "json_extract(tags, '$[1]'), \"when\" FROM orders WHERE id = 1",
    )
    assert got == [("integer", "real", "text", "integer", "b", "2024-01-02T03:04:05")]


def test_merge_twice_never_duplicates_and_updates_values(db_path):
    for version in (1, 2):
        summary = load(
            db_path,
            lambda task, v=version: Rows(
                "orders", [{"id": task.task_id, "v": v}], key="id", mode="merge"
            ),
        )
        assert summary.ok
    assert rows(db_path, "SELECT id, v FROM orders ORDER BY id") == [(0, 2), (1, 2), (2, 2)]


def test_merge_on_a_compound_key(db_path):
    def make(task):
        return Rows(
            "t", [{"a": 1, "b": task.task_id % 2, "v": task.task_id}], key=("a", "b"), mode="merge"
        )

    assert load(db_path, make, n=4).ok
    assert rows(db_path, "SELECT a, b, v FROM t ORDER BY b") == [(1, 0, 2), (1, 1, 3)]


def test_merge_into_a_table_with_duplicate_keys_is_a_clear_error(db_path):
    load(db_path, lambda task: Rows("t", [{"id": 1}]), n=2)
    summary = load(
        db_path,
        lambda task: Rows("t", [{"id": 1}], key="id", mode="merge", task_id=task.task_id),
        n=1,
    )
    assert summary.status == "error"
    assert "merge needs that key unique" in summary.errors[0].message


def test_replace_swaps_contents_when_the_run_ends_well(db_path):
    load(db_path, lambda task: Rows("t", [{"id": task.task_id, "gen": 1}], mode="replace"))
    assert rows(db_path, "SELECT count(*), max(gen) FROM t") == [(3, 1)]
    load(db_path, lambda task: Rows("t", [{"id": task.task_id, "gen": 2}], mode="replace"), n=2)
    assert rows(db_path, "SELECT id, gen FROM t ORDER BY id") == [(0, 2), (1, 2)]
    assert not [n for (n,) in rows(db_path, "SELECT name FROM sqlite_master") if "stage" in n]


def test_replace_keeps_the_old_contents_when_the_run_fails(db_path):
    load(db_path, lambda task: Rows("t", [{"id": task.task_id}], mode="replace"))

    def worker(task, q):
        q.put(Rows("t", [{"id": 100 + task.task_id}], mode="replace"))
        if task.task_id == 1:
            raise OSError("page 1 failed")

    summary = run_pipeline(
        db_path, [TaskDef(i, f"t{i}") for i in range(3)], worker_fn=worker, progress=False
    )
    assert summary.status == "error"
    assert rows(db_path, "SELECT id FROM t ORDER BY id") == [(0,), (1,), (2,)]


def test_new_columns_evolve_the_table_and_freeze_refuses_them(db_path):
    load(db_path, lambda task: Rows("t", [{"id": task.task_id}]), n=1)
    load(db_path, lambda task: Rows("t", [{"id": 9, "extra": 1.5}]), n=1)
    assert list(declared(db_path, "t")) == ["id", "extra"]
    summary = load(
        db_path,
        lambda task: Rows("t", [{"id": 10, "more": "x"}], schema="freeze", task_id=task.task_id),
        n=1,
    )
    assert summary.status == "error" and "'more'" in summary.errors[0].message
    assert statuses(db_path) == {0: "error"}
    assert "more" not in declared(db_path, "t")


def test_an_unstorable_value_names_the_column_and_type():
    with pytest.raises(TypeError, match=r"column 'bad'.*type set"):
        Rows("t", [{"ok": 1, "bad": {1, 2}}])


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"mode": "upsert"}, "mode must be one of"),
        ({"mode": "merge"}, "needs key="),
        ({"schema": "loose"}, "schema must be one of"),
        ({"key": "nope", "mode": "merge"}, "not in the data"),
    ],
)
def test_bad_options_are_config_errors(kw, match):
    with pytest.raises(ConfigError, match=match):
        Rows("t", [{"id": 1}], **kw)


def test_rows_for_pipelooms_own_tables_fail_their_task(db_path):
    summary = load(db_path, lambda task: Rows("Task_Runs", [{"id": 1}], task_id=task.task_id), 1)
    assert summary.status == "error" and "reserved" in summary.errors[0].message


def test_loom_map_merge_twice_and_map_into_a_frozen_table(tmp_path):
    loom = Loom(tmp_path / "m.db", workers=4, progress=False)

    def fetch(page):
        return [{"id": page * 10 + i, "page": page, "at": dt.date(2024, 1, page)} for i in range(3)]

    for _ in range(2):
        result = loom.map(fetch, range(1, 6), table="orders", key="id", mode="merge")
        assert result.ok
    df = loom.tables["orders"]
    assert len(df) == 15 and df["id"].is_unique
    assert df["at"].iloc[0] == "2024-01-01"
    with pytest.raises(ConfigError, match="needs key="):
        loom.map(fetch, [1], table="orders", mode="merge")
