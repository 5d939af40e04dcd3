"""`mode="replace"`: rows fill a staging table of their run's own, swapped in at the end.

Each run stages apart (`_pipeloom_stage_<run>_<table>`), so two runs replacing one table
never mix their rows: the last to finish wins whole. A run that loaded no rows at all
empties the table (its columns kept), and a top table's nested tables are replaced with
it: one left without rows in this run is emptied too.
"""

from __future__ import annotations

import sqlite3
from typing import NamedTuple

from ..values.names import fold
from .connection import quote_identifier
from .shapes import Shapes

__all__ = ["STAGE_PREFIX", "Stages", "drop_stages_of"]

STAGE_PREFIX = "_pipeloom_stage_"
"""Tables being filled by `mode="replace"` until their run ends."""


class Stage(NamedTuple):
    """One table being replaced."""

    table: str
    """The name as first given."""
    stage: str
    """Where its rows go until the run ends."""
    top: bool
    """True for a table loaded directly, False for a nested one."""


class Stages:
    """The tables one run replaces."""

    def __init__(self) -> None:
        self._staged: dict[str, Stage] = {}

    def __bool__(self) -> bool:
        return bool(self._staged)

    def stage(self, conn: sqlite3.Connection, table: str, run_id: int, top: bool) -> str:
        """The staging table for `table` in run `run_id`, dropped afresh on first use."""
        known = self._staged.get(fold(table))
        if known is not None:
            return known.stage
        stage = f"{STAGE_PREFIX}{run_id}_{fold(table)}"
        conn.execute(f"DROP TABLE IF EXISTS {quote_identifier(stage)}")
        self._staged[fold(table)] = Stage(table, stage, top)
        return stage

    def staged_for(self, table: str) -> bool:
        """True once `table` has its stage in this run."""
        return fold(table) in self._staged

    def forget(self, table: str) -> None:
        """The savepoint that made this stage was rolled back."""
        self._staged.pop(fold(table), None)

    def finish(self, conn: sqlite3.Connection, shapes: Shapes, ok: bool) -> None:
        """Swap the staged contents in when the run ended well; drop the stages either way."""
        staged = list(self._staged.values())
        self._staged.clear()
        if ok:
            names = {fold(s.table) for s in staged}
            for s in staged:
                _swap(conn, s.table, s.stage)
            shapes.changed()  # the swaps renamed and altered tables: read them afresh
            for s in staged:
                for nested in shapes.tables_under(conn, s.table) if s.top else ():
                    if fold(nested) not in names:
                        conn.execute(f"DELETE FROM {quote_identifier(nested)}")
        for s in staged:
            conn.execute(f"DROP TABLE IF EXISTS {quote_identifier(s.stage)}")
        shapes.changed()


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA table_info({quote_identifier(table)})")]


def _swap(conn: sqlite3.Connection, table: str, stage: str) -> None:
    target, source = quote_identifier(table), quote_identifier(stage)
    have, cols = _columns(conn, table), _columns(conn, stage)
    if not cols:  # no rows in the whole run: the table is emptied
        if have:
            conn.execute(f"DELETE FROM {target}")
        return
    if not have:
        conn.execute(f"ALTER TABLE {source} RENAME TO {target}")
        return
    folded = {fold(c) for c in have}
    for name in cols:
        if fold(name) not in folded:
            conn.execute(f"ALTER TABLE {target} ADD COLUMN {quote_identifier(name)}")
    names = ", ".join(quote_identifier(c) for c in cols)
    conn.execute(f"DELETE FROM {target}")
    conn.execute(f"INSERT INTO {target} ({names}) SELECT {names} FROM {source}")


def drop_stages_of(conn: sqlite3.Connection, run_ids: list[int]) -> None:
    """Drop the staging tables runs left behind (their process died before the swap)."""
    prefixes = tuple(f"{STAGE_PREFIX}{r}_" for r in run_ids)
    if not prefixes:
        return
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
        if name.startswith(prefixes):
            conn.execute(f"DROP TABLE IF EXISTS {quote_identifier(name)}")
