"""Names as SQLite compares them: ASCII letters case-insensitively, nothing else folded."""

from __future__ import annotations

__all__ = ["fold"]

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold(name: str) -> str:
    """`name` as SQLite compares names: ASCII letters case-insensitively."""
    return name.translate(_ASCII_LOWER)
