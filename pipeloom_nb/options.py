"""Run options as a Loom takes them: which were given, and what identifies a schema."""

from __future__ import annotations

from typing import Any

from pipeloom.store.handlers import Schema

__all__ = ["run_options", "schema_key"]


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
_DEFAULTS = {"resume": False, "retries": 0, "retry_backoff": 0.5, "retry_max_delay": 60.0}


def run_options(given: dict[str, Any]) -> dict[str, Any]:
    """The run options given explicitly (None and defaults left to the Loom and the engine)."""
    return {
        k: given[k]
        for k in _OPTIONS
        if given[k] is not None and not (k in _DEFAULTS and given[k] == _DEFAULTS[k])
    }
