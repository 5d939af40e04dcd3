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

import sqlite3
from collections.abc import Sequence

__all__ = ["MAX_ROWS", "chunk_sizes", "insert_columns", "insert_flat", "rows_per_statement"]

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


def insert_flat(
    conn: sqlite3.Connection, head: str, tail: str, width: int, flat: Sequence, per: int
) -> None:
    """Insert `flat` (row after row, `width` values each) in chunks of at most `per` rows.

    `head` is the statement up to `VALUES `, `tail` what follows the rows (an ON
    CONFLICT clause, or "").
    """
    group = "(" + ", ".join("?" * width) + ")"
    statements: dict[int, str] = {}
    start = 0
    for size in chunk_sizes(len(flat) // width, per):
        sql = statements.get(size)
        if sql is None:
            sql = statements[size] = head + ", ".join([group] * size) + tail
        end = start + size * width
        conn.execute(sql, flat[start:end])
        start = end


def insert_columns(conn: sqlite3.Connection, head: str, tail: str, columns: Sequence[list]) -> None:
    """Insert rows given column by column (equal lengths), many rows per statement."""
    width = len(columns)
    flat: list = [None] * (len(columns[0]) * width)
    for i, column in enumerate(columns):
        flat[i::width] = column  # interleaved at C speed: row after row
    insert_flat(conn, head, tail, width, flat, rows_per_statement(conn, width))
