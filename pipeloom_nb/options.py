"""Run options as a Loom takes them: which were given, where a Loom keeps them, and what
identifies a schema."""

from __future__ import annotations

from typing import Any

from pipeloom.run.options import merged, option
from pipeloom.store.handlers import Schema

__all__ = ["LoomOption", "run_options", "schema_key"]


def schema_key(schema: Schema) -> Any:
    """What identifies a schema across cell re-runs: its text, or its function's name."""
    if callable(schema):
        return (getattr(schema, "__module__", ""), getattr(schema, "__qualname__", repr(schema)))
    if isinstance(schema, str):
        return " ".join(schema.split())
    return tuple(schema_key(s) for s in schema)


_OPTIONS = (
    "workers",
    "executor",
    "name",
    "resume",
    "retries",
    "retry_backoff",
    "retry_max_delay",
    "retry_on",
    "timeout",
    "rate",
    "progress",
)


def run_options(given: dict[str, Any]) -> dict[str, Any]:
    """The run options a call gave (None: the Loom's, or the engine's default)."""
    return {k: given[k] for k in _OPTIONS if given[k] is not None}


class LoomOption:
    """A `Loom` attribute kept in the Loom's `RunOptions` (`loom.workers = 8` replaces it)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, loom: Any, owner: type | None = None) -> Any:
        if loom is None:
            return self
        return option(loom.options, self.name)

    def __set__(self, loom: Any, value: Any) -> None:
        loom.options = merged(loom.options, **{self.name: value})
