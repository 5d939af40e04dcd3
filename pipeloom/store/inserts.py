"""Many rows per INSERT statement: `INSERT ... VALUES (?, ?), (?, ?), ...`.

`executemany` steps its statement once per row, and Python's sqlite3 releases and takes
back the GIL around every step: with worker threads waiting for the GIL, each row hands
it over, and a million rows cost a million hand-offs. One statement of up to 256 rows
steps once, so SQLite inserts them while the workers run, and SQLite's own per-statement
work (reset, bind, halt) is paid once per chunk: about half the CPU time per row.

Chunks are powers of two (256, 128, ..., 1 rows), so a table needs at most nine distinct
statements, all kept in the connection's statement cache. Rows are inserted in order,
one at a time within a statement, so conflicts and triggers see what `executemany` shows.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from itertools import chain, islice
from typing import Any

from .savepoints import savepoint

__all__ = [
    "MAX_ROWS",
    "ManyRowsCursor",
    "RowsStatement",
    "chunk_sizes",
    "executemany_in_chunks",
    "insert_columns",
    "insert_flat",
    "insert_many",
    "insert_plan",
    "rows_per_statement",
]

MAX_ROWS = 256
"""Rows per statement at most: more saves little and makes longer statements to parse."""


def rows_per_statement(conn: sqlite3.Connection, width: int) -> int:
    """The largest power of two of rows (at most MAX_ROWS) whose parameters SQLite allows."""
    limit = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    fits = max(1, min(MAX_ROWS, limit // max(1, width)))
    return 1 << (fits.bit_length() - 1)


def chunk_sizes(n: int, per: int) -> list[int]:
    """`n` rows as full chunks of `per`, then the rest as falling powers of two."""
    sizes = [per] * (n // per)
    rest = n % per
    while rest:
        size = 1 << (rest.bit_length() - 1)
        sizes.append(size)
        rest -= size
    return sizes


class RowsStatement:
    """The INSERT of n rows: `head` (up to `VALUES `), n copies of one row's `group`, `tail`.

    Each size's text is built once and kept: `chunk_sizes` makes at most nine sizes.
    """

    __slots__ = ("_group", "_head", "_sizes", "_tail")

    def __init__(self, head: str, group: str, tail: str = "") -> None:
        self._head, self._group, self._tail = head, group, tail
        self._sizes: dict[int, str] = {}

    @classmethod
    def of_width(cls, head: str, width: int, tail: str = "") -> RowsStatement:
        """The statement whose rows are `width` plain `?` parameters each."""
        return cls(head, "(" + ", ".join("?" * width) + ")", tail)

    def sql(self, n: int) -> str:
        """The statement's text for `n` rows."""
        text = self._sizes.get(n)
        if text is None:
            text = self._sizes[n] = self._head + ", ".join([self._group] * n) + self._tail
        return text


def insert_many(
    conn: sqlite3.Connection,
    statement: RowsStatement,
    n: int,
    per: int,
    values: Callable[[int, int], Sequence[Any]],
) -> None:
    """Insert `n` rows, at most `per` a statement; `values(start, size)` gives a chunk's."""
    start = 0
    for size in chunk_sizes(n, per):
        conn.execute(statement.sql(size), values(start, size))
        start += size


def insert_flat(
    conn: sqlite3.Connection, statement: RowsStatement, width: int, flat: Sequence, per: int
) -> None:
    """Insert `flat` (row after row, `width` values each) in chunks of at most `per` rows."""
    insert_many(
        conn, statement, len(flat) // width, per, lambda s, n: flat[s * width : (s + n) * width]
    )


def insert_columns(conn: sqlite3.Connection, head: str, tail: str, columns: Sequence[list]) -> None:
    """Insert rows given column by column (equal lengths), many rows per statement.

    `head` is the statement up to `VALUES `, `tail` what follows the rows (an ON
    CONFLICT clause, or "").
    """
    width, n = len(columns), len(columns[0])
    per = rows_per_statement(conn, width)
    statement = RowsStatement.of_width(head, width, tail)
    block = per * 64  # rows interleaved at a time: a big message is never copied whole
    for start in range(0, n, block):
        end = min(n, start + block)
        flat: list = [None] * ((end - start) * width)
        for i, column in enumerate(columns):
            flat[i::width] = column[start:end]  # interleaved at C speed: row after row
        insert_flat(conn, statement, width, flat, per)


# --- executemany of a plain INSERT, many rows per statement ------------------------------------
_IDENT = r'(?:"(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\]|[A-Za-z_][\w$]*)'
_PLAN = re.compile(
    r"\s*((?:INSERT(?:\s+OR\s+(?:ROLLBACK|ABORT|REPLACE|FAIL|IGNORE))?|REPLACE)\s+INTO\s+"
    rf"{_IDENT}(?:\s*\.\s*{_IDENT})?\s*(?:\([^()?;]*\))?\s*VALUES\s*)"
    r"(\(\s*\?(?:\s*,\s*\?)*\s*\))"
    r"(\s+ON\s+CONFLICT\b[^?;]*?|)\s*;?\s*",
    re.IGNORECASE | re.DOTALL,
)
_PLANS: dict[str, tuple[str, str, int] | None] = {}


def insert_plan(sql: str) -> tuple[str, str, int] | None:
    """(head, tail, width) of `INSERT ... VALUES (?, ...) [ON CONFLICT ...]`, else None.

    Anything else (named or numbered parameters, RETURNING, comments, several
    statements, INSERT ... SELECT) gets None and runs as `executemany` runs it.
    """
    if sql in _PLANS:
        return _PLANS[sql]
    match = _PLAN.fullmatch(sql)
    plan = None
    if match and "--" not in sql and "/*" not in sql and not _RETURNING.search(match[3]):
        plan = (match[1], match[3], match[2].count("?"))
    if len(_PLANS) >= 1024:
        _PLANS.clear()
    _PLANS[sql] = plan
    return plan


_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)
_ROWCOUNT = sqlite3.Cursor.rowcount


class ManyRowsCursor(sqlite3.Cursor):
    """What `executemany` returns: `rowcount` is every chunk's, `lastrowid` stays unset."""

    changed = 0

    @property
    def rowcount(self) -> int:  # type: ignore[override]
        """Rows inserted or updated by the whole call, as `executemany` counts them."""
        return self.changed

    @property
    def lastrowid(self) -> None:  # type: ignore[override]
        """None, as after `executemany`."""
        return None


def executemany_in_chunks(
    conn: sqlite3.Connection,
    plan: tuple[str, str, int],
    sql: str,
    parameters: Iterable[Any],
    executemany: Callable[[str, Iterable[Any]], sqlite3.Cursor],
) -> sqlite3.Cursor:
    """`conn.executemany(sql, parameters)` for an `insert_plan`, many rows per statement.

    A chunk that is not all tuples or lists of the right length, or whose statement
    fails, runs through `executemany` itself (a failed statement is first rolled back to
    a savepoint taken before it), so the rows before a failing one land and the error is
    the one `executemany` raises.
    """
    head, tail, width = plan
    per = rows_per_statement(conn, width)
    cursor = conn.cursor(ManyRowsCursor)
    statement = RowsStatement.of_width(head, width, tail)
    rows = iter(parameters)
    while chunk := list(islice(rows, per)):
        if not (set(map(type, chunk)) <= _SEQUENCES and set(map(len, chunk)) == {width}):
            cursor.changed += executemany(sql, chunk).rowcount
            continue
        start = 0
        for size in chunk_sizes(len(chunk), per):
            part = chunk[start : start + size]
            start += size
            stmt = statement.sql(size)
            try:  # ON CONFLICT FAIL keeps a failing statement's earlier rows: undo them
                with savepoint(conn, "pipeloom_rows"):
                    cursor.execute(stmt, list(chain.from_iterable(part)))
            except Exception:  # binding, a constraint, an adapter
                if not conn.in_transaction:
                    raise  # SQLite rolled back the whole transaction: nothing to re-run into
                cursor.changed += executemany(sql, part).rowcount
                continue
            cursor.changed += _ROWCOUNT.__get__(cursor)
    return cursor


_SEQUENCES = {tuple, list}
