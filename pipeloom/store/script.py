"""SQL scripts run statement by statement inside the caller's transaction.

`executescript` commits first and applies statements one by one, so a syntax error
half-way leaves the first half committed; here nothing lands unless all of it does.
"""

from __future__ import annotations

import re
import sqlite3

from ..errors import ConfigError

__all__ = ["run_script", "split_statements"]

# BEGIN/COMMIT/END in a pasted script: the whole script already runs in one transaction.
_TRANSACTION = re.compile(
    r"^\s*(BEGIN|COMMIT|END)(\s+(DEFERRED|IMMEDIATE|EXCLUSIVE))?"
    r"(\s+TRANSACTION)?\s*;?\s*$",
    re.IGNORECASE,
)


def split_statements(script: str) -> list[str]:
    """The complete statements of `script`, in order (a trailing one may lack its `;`)."""
    statements: list[str] = []
    start = 0
    for i, ch in enumerate(script):
        if ch == ";" and sqlite3.complete_statement(script[start : i + 1]):
            statements.append(script[start : i + 1])
            start = i + 1
    statements.append(script[start:])
    return [s.strip() for s in statements if _has_code(s)]


def _has_code(statement: str) -> bool:
    text = re.sub(r"--[^\n]*|/\*.*?\*/", "", statement, flags=re.DOTALL)
    return bool(text.strip(" \t\r\n;"))


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """Execute each statement of `script`; ConfigError naming the one that fails."""
    for n, statement in enumerate(split_statements(script), 1):
        if _TRANSACTION.match(statement):
            continue
        try:
            conn.execute(statement)
        except sqlite3.Error as exc:
            raise ConfigError(f"schema statement {n} failed ({exc}): {statement}") from exc
