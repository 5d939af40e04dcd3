"""Lists of dicts inside rows: held apart as `Nested`, then loaded as child tables.

A field `line_items` holding a list of dicts, in a row for table `orders`, becomes table
`orders__line_items` (as dlt names nested tables): one row per dict, with the top row's
key in `_orders_<key>` and the dict's position in `_index`; deeper lists add their
parent's position (`_line_items_index`). An empty list is no child rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["ROW_ID", "Nested", "child_records", "link_name", "new_row_ids"]

ROW_ID = "_row_id"
"""The column made for rows with nested lists and no key: what their children point to."""


class Nested:
    """A list of dicts found in a row; its items become rows of a child table."""

    __slots__ = ("items",)

    def __init__(self, items: Sequence[Mapping[Any, Any]]) -> None:
        self.items = items

    def __repr__(self) -> str:
        return f"Nested({list(self.items)!r})"


def link_name(top: str, key: str) -> str:
    """The column of a child row holding the top row's `key` (`_orders_id`)."""
    return f"_{top}_{key.lstrip('_')}"


def child_records(
    values: Sequence[Any], links: Sequence[tuple], link_names: tuple[str, ...]
) -> list[dict]:
    """The child rows of one nested column: each item with its links and `_index`.

    `values` holds one entry per parent row (`Nested`, or None where the row had none);
    `links` the values of `link_names` for each parent row.
    """
    made = (*link_names, "_index")
    out = []
    for value, link in zip(values, links, strict=True):
        if type(value) is not Nested:
            continue
        for i, item in enumerate(value.items):
            taken = [n for n in made if n in item]
            if taken:
                raise ValueError(
                    f"a nested row has its own field {taken[0]!r}, a column pipeloom makes "
                    "to link it to its parent: rename that field"
                )
            out.append({**dict(zip(made, (*link, i), strict=True)), **item})
    return out


def new_row_ids(n: int) -> list[str]:
    """`n` fresh ids for rows that have children and no key."""
    return [uuid.uuid4().hex for _ in range(n)]
