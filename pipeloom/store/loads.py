"""How the writer applies `Rows`: create the table, evolve it, append, merge or stage.

Runs on the writer's connection inside the message's savepoint, so a load that fails
leaves nothing behind and fails only its task. Columns are made with no type: SQLite then
keeps every value as it was given ("007" stays text, 7 stays a number, side by side if
the data has both), and `Rows.types` says which types a column holds. Key columns are
NOT NULL. `merge` upserts on the key and replaces the merged rows' nested rows (deleted,
then inserted anew); `replace` writes to a staging table (see `stages`).
"""

from __future__ import annotations

import sqlite3
from itertools import chain

from ..core.rows import Rows
from ..errors import ConfigError
from ..values.names import fold
from ..values.nested import link_name
from .connection import quote_identifier
from .inserts import RowsStatement, insert_columns, insert_flat, rows_per_statement
from .shapes import Shapes
from .stages import STAGE_PREFIX, Stages
from .tables import OWN_TABLES
from .typecheck import check_types, note_types

__all__ = ["STAGE_PREFIX", "RowsLoader", "check_target_table"]


def check_target_table(table: str) -> str:
    """ConfigError for a table that is pipeloom's own (any case), SQLite's, or a stage."""
    folded = fold(table)
    if folded in OWN_TABLES or folded.startswith(("sqlite_", STAGE_PREFIX)):
        raise ConfigError(
            f"table {table!r} is one of pipeloom's or SQLite's own tables (reserved); "
            "load rows into another"
        )
    quote_identifier(table)
    return table


class RowsLoader:
    """Applies `Rows` messages for one run; remembers the tables it has read."""

    def __init__(self) -> None:
        self.shapes = Shapes()
        self.stages = Stages()
        self.run_id = 0
        """The run's id: it names the run's staging tables."""
        self._keyed: set[tuple[str, tuple[str, ...]]] = set()

    @property
    def staged(self) -> bool:
        """True when a `replace` load waits for the run's end."""
        return bool(self.stages)

    def apply(self, conn: sqlite3.Connection, msg: Rows) -> None:
        """Load one message's rows and its nested rows (inside the caller's savepoint)."""
        self.shapes.check(conn)
        made: list[str] = []
        try:
            self._apply(conn, msg, made)
        except BaseException:
            self.shapes.changed()  # the savepoint undoes what this message created
            self._keyed.clear()
            for table in made:
                self.stages.forget(table)
            raise

    def finish(self, conn: sqlite3.Connection, ok: bool) -> None:
        """Swap staged contents in when the run ended well; drop the stages either way."""
        self.stages.finish(conn, self.shapes, ok)

    def _apply(self, conn: sqlite3.Connection, msg: Rows, made: list[str]) -> None:
        check_target_table(msg.table)
        table = msg.table
        if msg.mode == "replace":
            if not self.stages.staged_for(msg.table):
                made.append(msg.table)
            table = self.stages.stage(conn, msg.table, self.run_id, top=not msg.link)
        if msg.columns:
            self._load(conn, table, msg)
        for child in msg.children:
            self._apply(conn, child, made)

    def _load(self, conn: sqlite3.Connection, table: str, msg: Rows) -> None:
        frozen = msg.schema == "freeze"
        if table != msg.table and frozen:
            self._refuse_new_columns(conn, msg.table, msg)
        check_types(conn, self.shapes, msg.table, msg, frozen)
        self._ensure_table(conn, table, msg)
        if msg.key and msg.mode != "append":
            self._ensure_key(conn, table, msg.key)
        if msg.mode == "merge" and msg.key and not msg.link:
            self._drop_nested(conn, msg)
        _insert(conn, table, msg)
        note_types(conn, self.shapes, table, msg)

    def _refuse_new_columns(self, conn: sqlite3.Connection, table: str, msg: Rows) -> None:
        have = self.shapes.columns(conn, table)
        new = [c for c in msg.columns if fold(c) not in have]
        if have and new:
            names = ", ".join(repr(c) for c in new)
            raise ConfigError(
                f"table {msg.table!r} is frozen (schema='freeze'): new column(s) {names}"
            )

    def _ensure_table(self, conn: sqlite3.Connection, table: str, msg: Rows) -> None:
        have = self.shapes.columns(conn, table)
        if not have:
            conn.execute(_create_sql(table, msg))
            if msg.link:
                index = quote_identifier(f"pipeloom_link_{msg.table}")
                links = ", ".join(map(quote_identifier, msg.link))
                conn.execute(
                    f"CREATE INDEX IF NOT EXISTS {index} ON {quote_identifier(table)} ({links})"
                )
            self.shapes.changed()
            return
        if msg.schema == "freeze" and table == msg.table:  # a stage: checked in `_load`
            self._refuse_new_columns(conn, table, msg)
        new = [c for c in msg.columns if fold(c) not in have]
        for name in new:
            conn.execute(
                f"ALTER TABLE {quote_identifier(table)} ADD COLUMN {quote_identifier(name)}"
            )
        if new:
            self.shapes.changed()

    def _ensure_key(self, conn: sqlite3.Connection, table: str, key: tuple[str, ...]) -> None:
        if (fold(table), key) in self._keyed:
            return
        if not _has_unique(conn, table, key):
            index = quote_identifier(f"pipeloom_key_{table}_{'_'.join(key)}")
            cols = ", ".join(quote_identifier(k) for k in key)
            try:
                conn.execute(f"CREATE UNIQUE INDEX {index} ON {quote_identifier(table)} ({cols})")
            except sqlite3.IntegrityError as exc:
                raise ConfigError(
                    f"table {table!r} already holds rows with the same {', '.join(key)}: "
                    "merge needs that key unique (de-duplicate the table, or load with "
                    "mode='replace' once)"
                ) from exc
            self.shapes.changed()
        self._keyed.add((fold(table), key))

    def _drop_nested(self, conn: sqlite3.Connection, msg: Rows) -> None:
        """Delete the nested rows of the rows being merged: the new lists replace them."""
        nested = self.shapes.tables_under(conn, msg.table)
        if not nested:
            return
        links = [link_name(msg.table, k) for k in msg.key]
        at = [msg.columns.index(k) for k in msg.key]
        keys = list({tuple(r[i] for i in at) for r in msg.iter_rows()})
        where = " AND ".join(f"{quote_identifier(n)} = ?" for n in links)
        for table in nested:
            if all(fold(n) in self.shapes.columns(conn, table) for n in links):
                conn.executemany(f"DELETE FROM {quote_identifier(table)} WHERE {where}", keys)


def _has_unique(conn: sqlite3.Connection, table: str, key: tuple[str, ...]) -> bool:
    """True when a primary key or unique index covers exactly `key`."""
    want = sorted(fold(k) for k in key)
    pk = [r for r in conn.execute(f"PRAGMA table_info({quote_identifier(table)})") if r[5]]
    if pk and sorted(fold(r[1]) for r in pk) == want:
        return True
    for idx in conn.execute(f"PRAGMA index_list({quote_identifier(table)})"):
        if idx[2]:  # unique
            cols = conn.execute(f"PRAGMA index_info({quote_identifier(idx[1])})").fetchall()
            if sorted(fold(c[2]) for c in cols) == want:
                return True
    return False


def _create_sql(table: str, msg: Rows) -> str:
    """Columns with no type (values kept as they are); key columns NOT NULL."""
    keyed = bool(msg.key) and msg.mode != "append"
    key = set(msg.key or ()) if keyed else set()
    cols = [quote_identifier(c) + (" NOT NULL" if c in key else "") for c in msg.columns]
    if keyed:
        cols.append(f"PRIMARY KEY ({', '.join(quote_identifier(k) for k in msg.key)})")
    return f"CREATE TABLE {quote_identifier(table)} ({', '.join(cols)})"


def _insert(conn: sqlite3.Connection, table: str, msg: Rows) -> None:
    """The message's rows, many per statement (see `inserts`)."""
    head, tail = _insert_sql(table, msg)
    if msg.by_column is not None:
        insert_columns(conn, head, tail, msg.by_column)
        return
    width = len(msg.columns)
    flat = list(chain.from_iterable(msg.rows))
    statement = RowsStatement.of_width(head, width, tail)
    insert_flat(conn, statement, width, flat, rows_per_statement(conn, width))


def _insert_sql(table: str, msg: Rows) -> tuple[str, str]:
    """The INSERT statement up to `VALUES `, and what follows the rows (ON CONFLICT)."""
    cols = ", ".join(quote_identifier(c) for c in msg.columns)
    head = f"INSERT INTO {quote_identifier(table)} ({cols}) VALUES "
    if not msg.key or msg.mode == "append":
        return head, ""
    conflict = ", ".join(quote_identifier(k) for k in msg.key)
    updates = [c for c in msg.columns if c not in msg.key]
    if not updates:
        return head, f" ON CONFLICT({conflict}) DO NOTHING"
    sets = ", ".join(f"{quote_identifier(c)}=excluded.{quote_identifier(c)}" for c in updates)
    return head, f" ON CONFLICT({conflict}) DO UPDATE SET {sets}"
