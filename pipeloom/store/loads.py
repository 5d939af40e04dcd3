"""How the writer applies `Rows`: create the table typed, evolve it, append, merge or stage.

Runs on the writer's connection inside the message's savepoint, so a load that fails
leaves nothing behind and fails only its task. `replace` writes to a staging table; the
writer calls `finish` as the run closes, which swaps the contents in (the table keeps its
definition, indexes and triggers) when the run ended well, and drops the stage if not.
"""

from __future__ import annotations

import sqlite3
from itertools import chain

from ..errors import ConfigError
from ..rows import Rows
from .connection import quote_identifier
from .inserts import insert_columns, insert_flat, rows_per_statement
from .tables import OWN_TABLES

__all__ = ["STAGE_PREFIX", "RowsLoader", "check_target_table"]

STAGE_PREFIX = "_pipeloom_stage_"
"""Tables being filled by `mode="replace"` until their run ends."""

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _fold(name: str) -> str:
    return name.translate(_ASCII_LOWER)  # SQLite compares names ASCII-case-insensitively


def check_target_table(table: str) -> str:
    """ConfigError for a table that is pipeloom's own (any case), SQLite's, or a stage."""
    folded = _fold(table)
    if folded in OWN_TABLES or folded.startswith(("sqlite_", STAGE_PREFIX)):
        raise ConfigError(
            f"table {table!r} is one of pipeloom's or SQLite's own tables (reserved); "
            "load rows into another"
        )
    quote_identifier(table)
    return table


class RowsLoader:
    """Applies `Rows` messages for one run; remembers the tables it has checked."""

    def __init__(self) -> None:
        self._columns: dict[str, set[str]] = {}
        self._keyed: set[tuple[str, tuple[str, ...]]] = set()
        self._stages: dict[str, tuple[str, str]] = {}
        """Folded table name -> (the name as first given, its stage)."""

    def apply(self, conn: sqlite3.Connection, msg: Rows) -> None:
        """Load one message's rows (inside the caller's savepoint)."""
        check_target_table(msg.table)
        if not msg.columns:
            return
        new_stage = msg.mode == "replace" and _fold(msg.table) not in self._stages
        table = self._stage(conn, msg) if msg.mode == "replace" else msg.table
        try:
            self._ensure_table(conn, table, msg)
            if msg.key and msg.mode != "append":
                self._ensure_key(conn, table, msg.key)
            _insert(conn, table, msg)
        except BaseException:
            self._forget(table, msg.table if new_stage else None)
            raise

    @property
    def staged(self) -> bool:
        """True when a `replace` load waits for the run's end."""
        return bool(self._stages)

    def _forget(self, table: str, stage_of: str | None) -> None:
        """The savepoint undoes what this message created: forget it too."""
        self._columns.pop(_fold(table), None)
        self._keyed = {k for k in self._keyed if k[0] != _fold(table)}
        if stage_of is not None:
            self._stages.pop(_fold(stage_of), None)

    def finish(self, conn: sqlite3.Connection, ok: bool) -> None:
        """Swap staged contents in when the run ended well; drop the stages either way."""
        for table, stage in self._stages.values():
            if ok:
                self._swap(conn, table, stage)
            conn.execute(f"DROP TABLE IF EXISTS {quote_identifier(stage)}")
        self._stages.clear()

    def _stage(self, conn: sqlite3.Connection, msg: Rows) -> str:
        known = self._stages.get(_fold(msg.table))
        if known is not None:
            return known[1]
        stage = STAGE_PREFIX + _fold(msg.table)
        self._stages[_fold(msg.table)] = (msg.table, stage)
        conn.execute(f"DROP TABLE IF EXISTS {quote_identifier(stage)}")
        self._columns.pop(_fold(stage), None)
        return stage

    def _ensure_table(self, conn: sqlite3.Connection, table: str, msg: Rows) -> None:
        have = self._columns.get(_fold(table))
        if have is None:
            have = self._columns[_fold(table)] = _table_columns(conn, table)
        if not have:
            conn.execute(_create_sql(table, msg))
            have.update(_fold(c) for c in msg.columns)
            return
        new = [(c, t) for c, t in zip(msg.columns, msg.types, strict=True) if _fold(c) not in have]
        if new and msg.schema == "freeze":
            names = ", ".join(repr(c) for c, _ in new)
            raise ConfigError(
                f"table {msg.table!r} is frozen (schema='freeze'): new column(s) {names}"
            )
        for name, sql_type in new:
            column = f"{quote_identifier(name)} {sql_type}".rstrip()
            conn.execute(f"ALTER TABLE {quote_identifier(table)} ADD COLUMN {column}")
            have.add(_fold(name))

    def _ensure_key(self, conn: sqlite3.Connection, table: str, key: tuple[str, ...]) -> None:
        if (_fold(table), key) in self._keyed:
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
        self._keyed.add((_fold(table), key))

    def _swap(self, conn: sqlite3.Connection, table: str, stage: str) -> None:
        target, source = quote_identifier(table), quote_identifier(stage)
        if not _table_columns(conn, table):
            conn.execute(f"ALTER TABLE {source} RENAME TO {target}")
            return
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({source})")]
        have = _table_columns(conn, table)
        for name in cols:
            if _fold(name) not in have:
                conn.execute(f"ALTER TABLE {target} ADD COLUMN {quote_identifier(name)}")
        names = ", ".join(quote_identifier(c) for c in cols)
        conn.execute(f"DELETE FROM {target}")
        conn.execute(f"INSERT INTO {target} ({names}) SELECT {names} FROM {source}")


def _table_columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {_fold(r[1]) for r in conn.execute(f"PRAGMA table_info({quote_identifier(table)})")}


def _has_unique(conn: sqlite3.Connection, table: str, key: tuple[str, ...]) -> bool:
    """True when a primary key or unique index covers exactly `key`."""
    want = sorted(_fold(k) for k in key)
    pk = [r for r in conn.execute(f"PRAGMA table_info({quote_identifier(table)})") if r[5]]
    if pk and sorted(_fold(r[1]) for r in pk) == want:
        return True
    for idx in conn.execute(f"PRAGMA index_list({quote_identifier(table)})"):
        if idx[2]:  # unique
            cols = conn.execute(f"PRAGMA index_info({quote_identifier(idx[1])})").fetchall()
            if sorted(_fold(c[2]) for c in cols) == want:
                return True
    return False


def _create_sql(table: str, msg: Rows) -> str:
    cols = [
        f"{quote_identifier(c)} {t}".rstrip() for c, t in zip(msg.columns, msg.types, strict=True)
    ]
    if msg.key and msg.mode != "append":
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
    insert_flat(conn, head, tail, width, flat, rows_per_statement(conn, width))


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
