"""Lists of dicts become child tables; merge replaces a parent's children, replace its tables."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeloom import Rows, TaskDef, run_pipeline
from pipeloom_nb import Loom

from .helpers import rows

pytestmark = pytest.mark.workers(4)


def order(i, skus, taxes=()):
    items = [
        {"sku": s, "qty": n, "taxes": [{"rate": t} for t in taxes]} for n, s in enumerate(skus)
    ]
    return {"id": i, "customer": {"name": f"c{i}"}, "tags": ["a", "b"], "line_items": items}


def children(loom):
    df = loom.table("orders__line_items")
    return sorted(zip(df["_orders_id"], df["_index"], df["sku"], strict=True))


def test_a_list_of_dicts_becomes_a_child_table_linked_to_its_parent(loom):
    api = {1: order(1, ["x", "y"], taxes=[0.2]), 2: order(2, ["z"])}
    assert loom.map(api.get, [1, 2], "orders", key="id", mode="merge").ok
    assert children(loom) == [(1, 0, "x"), (1, 1, "y"), (2, 0, "z")]
    taxes = loom.table("orders__line_items__taxes")
    assert sorted(
        zip(taxes["_orders_id"], taxes["_line_items_index"], taxes["rate"], strict=True)
    ) == [
        (1, 0, 0.2),
        (1, 1, 0.2),
    ]
    parent = loom.table("orders")
    assert "line_items" not in parent.columns  # moved out, not kept twice
    assert parent.loc[parent.id == 1, "tags"].item() == '["a", "b"]'  # scalars lists: JSON
    assert parent.loc[parent.id == 1, "customer"].item() == '{"name": "c1"}'  # objects: JSON
    assert {"orders", "orders__line_items", "orders__line_items__taxes"} <= set(loom.tables)


def test_merge_replaces_a_parents_children(loom):
    api = {17: order(17, ["a", "b", "c"], taxes=[0.1]), 18: order(18, ["d"])}
    assert loom.map(api.get, [17, 18], "orders", key="id", mode="merge").ok
    api[17] = order(17, ["a", "e"])  # b and c removed upstream, e new, no taxes any more
    for _ in range(2):
        assert loom.map(api.get, [17, 18], "orders", key="id", mode="merge").ok
    assert children(loom) == [(17, 0, "a"), (17, 1, "e"), (18, 0, "d")]
    assert loom.table("orders__line_items__taxes").empty


def test_merge_with_an_empty_list_removes_the_children(loom):
    api = {1: order(1, ["a"])}
    loom.map(api.get, [1], "orders", key="id", mode="merge")
    api[1] = order(1, [])
    assert loom.map(api.get, [1], "orders", key="id", mode="merge").ok
    assert children(loom) == []


def test_append_appends_children(loom):
    for _ in range(2):
        assert loom.map(lambda i: order(i, ["a"]), [1], "orders", key="id").ok
    assert children(loom) == [(1, 0, "a"), (1, 0, "a")]


def test_replace_replaces_child_tables_with_their_parent(loom):
    assert loom.map(lambda i: order(i, ["a", "b"], taxes=[1]), [1, 2], "orders", mode="replace").ok
    assert loom.map(lambda i: order(i, ["c"]), [3], "orders", mode="replace").ok
    assert loom.table("orders")["id"].tolist() == [3]
    df = loom.table("orders__line_items")
    assert df["sku"].tolist() == ["c"]
    assert loom.table("orders__line_items__taxes").empty  # none in this run: emptied


def test_children_without_a_key_hang_on_a_made_row_id(loom):
    assert loom.map(lambda i: order(i, ["a", "b"]), [1], "orders").ok
    parent, child = loom.table("orders"), loom.table("orders__line_items")
    assert set(child["_orders_row_id"]) == set(parent["_row_id"])


def test_a_dataframe_column_of_lists_of_dicts_becomes_a_child_table(loom):
    df = pd.DataFrame({"id": [1, 2], "items": [[{"sku": "a"}], None]})
    assert loom.map(lambda i: df, [1], "orders", key="id", mode="merge").ok
    assert loom.table("orders__items")[["_orders_id", "sku"]].values.tolist() == [[1, "a"]]


def test_freeze_applies_to_child_tables(loom):
    assert loom.map(lambda i: order(i, ["a"]), [1], "orders", key="id", mode="merge").ok
    result = loom.map(
        lambda i: {"id": i, "line_items": [{"sku": "b", "colour": "red"}]},
        [2],
        "orders",
        key="id",
        mode="merge",
        schema="freeze",
    )
    assert result.status == "error"
    assert "colour" in result.summary.errors[0].message
    assert sorted(loom.table("orders")["id"]) == [1]  # nothing of item 2, parent included


def test_a_nested_field_named_like_a_link_column_is_refused(loom):
    result = loom.map(lambda i: {"id": i, "xs": [{"_index": 5}]}, [1], "t", key="id", mode="merge")
    assert result.status == "error" and "'_index'" in result.summary.errors[0].message


def test_rows_from_a_worker_carry_children_too(db_path):
    def worker(task, q):
        q.put(Rows("o", [order(task.task_id, ["a"])], key="id", mode="merge", task_id=task.task_id))

    assert run_pipeline(db_path, [TaskDef(1, "one")], worker_fn=worker, progress=False).ok
    assert rows(db_path, "SELECT _o_id, sku FROM o__line_items") == [(1, "a")]


def test_nested_rows_travel_from_pool_processes(tmp_path):
    loom = Loom(tmp_path / "p.db", workers=2, progress=False, executor="processes")
    result = loom.map(lambda i: order(i, ["a", "b"], taxes=[1]), range(4), "orders", key="id",
                      mode="merge")  # fmt: skip
    assert result.ok
    assert len(loom.table("orders__line_items")) == 8
    assert len(loom.table("orders__line_items__taxes")) == 8
