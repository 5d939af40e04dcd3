"""pipeloom 0.0.7's import path for connections and schema; they live in `pipeloom.store`."""

from __future__ import annotations

from .store.connection import (
    MEMORY,
    Synchronous,
    WriterConnection,
    check_db_path,
    connect,
    connect_readonly,
    quote_identifier,
    wal_checkpoint,
)
from .store.tables import init_schema

__all__ = [
    "MEMORY",
    "Synchronous",
    "WriterConnection",
    "check_db_path",
    "connect",
    "connect_readonly",
    "init_schema",
    "quote_identifier",
    "wal_checkpoint",
]
