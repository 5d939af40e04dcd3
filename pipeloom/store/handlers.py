"""The handler registry: message type -> `fn(conn, msg)`, looked up by a dict, not isinstance."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .script import run_script

__all__ = ["Handler", "HandlerRegistry", "Schema", "apply_schema"]

Handler = Callable[[sqlite3.Connection, Any], None]
Schema = str | Iterable[str] | Callable[[sqlite3.Connection], None]


def _type_key(cls: type) -> tuple[str, str]:
    return cls.__module__, cls.__qualname__


def _is_current(cls: type) -> bool:
    """True if `cls` is what its module's name for it points to now.

    A class re-defined by re-running a notebook cell is; a class made by a factory
    (`<locals>` in its qualified name) or one replaced since is not.
    """
    obj: object = sys.modules.get(cls.__module__)
    for part in cls.__qualname__.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return False
    return obj is cls


class HandlerRegistry:
    """Handlers keyed by message class: the class itself first, then its name.

    Each registered class keeps its own handler, so two classes of the same name (made
    by a factory) reach their own. A class without a registration finds the newest handler
    for its module and qualified name only if it replaced a class of that name, as
    re-running a notebook cell does (its module's name now points to it).
    """

    def __init__(self, handlers: Mapping[type, Handler] | None = None) -> None:
        self._by_type: dict[type, Handler] = {}
        self._by_name: dict[tuple[str, str], Handler] = {}
        for cls, fn in (handlers or {}).items():
            self.register(cls, fn)

    def register(self, cls: type, fn: Handler) -> None:
        """Register `fn` for messages of `cls`; it becomes the handler for its name too."""
        if not isinstance(cls, type):
            raise TypeError(f"handlers are keyed by message class, not {cls!r}")
        if not callable(fn):
            raise TypeError(f"handler for {cls.__qualname__} is not callable: {fn!r}")
        self._by_type[cls] = fn
        self._by_name[_type_key(cls)] = fn

    def unregister(self, cls: type) -> None:
        """Forget the handler for `cls` (and same-named classes)."""
        key = _type_key(cls)
        self._by_name.pop(key, None)
        for old in [t for t in self._by_type if _type_key(t) == key]:
            del self._by_type[old]

    def get(self, cls: type) -> Handler | None:
        """The handler for `cls`, or None."""
        fn = self._by_type.get(cls)
        if fn is None and _is_current(cls):
            fn = self._by_name.get(_type_key(cls))
        return fn

    def copy(self) -> HandlerRegistry:
        """A snapshot, so a run is not affected by registrations made while it runs."""
        new = HandlerRegistry()
        new._by_type = dict(self._by_type)
        new._by_name = dict(self._by_name)
        return new

    def __len__(self) -> int:
        return len(self._by_name)

    def __contains__(self, cls: object) -> bool:
        return isinstance(cls, type) and self.get(cls) is not None


def apply_schema(conn: sqlite3.Connection, schema: Schema | None) -> None:
    """Apply an SQL string, a list of them, or a callable taking the connection.

    SQL runs statement by statement in the caller's transaction (see `script.run_script`).
    """
    if schema is None:
        return
    if callable(schema):
        schema(conn)
    elif isinstance(schema, str):
        run_script(conn, schema)
    else:
        for part in schema:
            apply_schema(conn, part)
