"""Read-only queries as DataFrames, safe while a run writes."""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipeloom.store.connection import connect_readonly

__all__ = ["read_sql", "table_names"]


def read_sql(db_path: str, query: str, params: Any = None) -> pd.DataFrame:
    """Run `query` on a fresh read-only connection and return a DataFrame."""
    conn = connect_readonly(db_path)
    try:
        return pd.read_sql_query(query, conn, params=params)
    finally:
        conn.close()


def table_names(db_path: str) -> list[str]:
    """The tables in the database, sorted."""
    conn = connect_readonly(db_path)
    try:
        rows = conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        ).fetchall()
    finally:
        conn.close()
    return [r[0] for r in rows]
