"""`Page`: what a mapped function returns for one page of a paginated API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Page"]


@dataclass(frozen=True, slots=True)
class Page:
    """Rows of one page, and the item(s) to fetch next, as new tasks of the same map.

    `next` is one item, a list of items, or None (the last page). Each item is mapped by
    the same function: cursor, offset and page-number pagination are each a two-line
    function. The same item added twice (an order repeated across pages) is mapped once.
    """

    rows: Any
    """What to load: a DataFrame, a dict or a list of dicts (as `fn` may return)."""
    next: Any = None
    """The next item, a list of items, or None."""

    def next_items(self) -> list[Any]:
        """`next` as a list: [] for None, a list or tuple as it is, else one item."""
        if self.next is None:
            return []
        return list(self.next) if isinstance(self.next, list | tuple) else [self.next]
