"""Read-only queries as DataFrames, safe while a run writes."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd

from pipeloom.errors import ConfigError
from pipeloom.store.connection import connect_readonly

from .frames import frame_from_cursor

__all__ = ["check_shared_db", "read_sql", "read_table", "table_names"]

# ATTACH would create a database file (VACUUM INTO attaches its target too); DETACH and
# the pragmas that switch writing back on have no place on a reader either.
_DENIED_PRAGMAS = {"query_only", "writable_schema", "journal_mode", "wal_checkpoint"}


def check_shared_db(db_path: str | Path) -> str:
    """`db_path` as text; ConfigError for an in-memory database, which no reader could see."""
    text = str(db_path)
    memory = text in ("", ":memory:")
    if text.startswith("file:"):
        parts = urlsplit(text)
        memory = parts.path in ("", ":memory:") or "memory" in parse_qs(parts.query).get("mode", [])
    if memory:
        raise ConfigError(
            f"Loom({text!r}): an in-memory database is private to the writer's connection, "
            "so results could not be read back; use a file path such as 'pipeloom.db'"
        )
    return text


def _authorize(action: int, arg1: Any, arg2: Any, db_name: Any, source: Any) -> int:
    if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_PRAGMA:
        name = str(arg1).lower()
        if name in _DENIED_PRAGMAS and (arg2 is not None or name == "wal_checkpoint"):
            return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def _reader(db_path: str) -> sqlite3.Connection:
    conn = connect_readonly(db_path)
    conn.set_authorizer(_authorize)
    return conn


def read_sql(db_path: str, query: str, params: Any = None) -> pd.DataFrame:
    """Run `query` on a fresh read-only connection and return a DataFrame.

    ATTACH, DETACH and VACUUM INTO are refused (they could create or change files).
    """
    conn = _reader(db_path)
    try:
        return pd.read_sql_query(query, conn, params=params)
    finally:
        conn.close()


def read_table(db_path: str, query: str) -> pd.DataFrame:
    """Like `read_sql`, each column typed by the values it holds (see `frames`)."""
    conn = _reader(db_path)
    try:
        return frame_from_cursor(conn.execute(query))
    finally:
        conn.close()


def table_names(db_path: str) -> list[str]:
    """The tables in the database, sorted."""
    conn = _reader(db_path)
    try:
        rows = conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        ).fetchall()
    finally:
        conn.close()
    return [r[0] for r in rows]
