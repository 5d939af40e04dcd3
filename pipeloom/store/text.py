"""What SQLite can store: text without lone surrogates, integers within 64 bits."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..errors import ConfigError

__all__ = ["check_task", "check_tasks", "storable"]

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def storable(value: Any) -> str | None:
    """`value` as text SQLite can store: lone surrogates become `\\udXXX` escapes."""
    if value is None:
        return None
    text = value if type(value) is str else str(value)
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_task(task_id: Any, name: str) -> None:
    """ConfigError naming the task if its id or name cannot be stored as given."""
    if isinstance(task_id, int) and not INT64_MIN <= task_id <= INT64_MAX:
        raise ConfigError(
            f"task {task_id!r} cannot be stored: SQLite integers are signed 64-bit "
            f"({INT64_MIN} to {INT64_MAX}); use a str id"
        )
    for what, value in (("id", task_id), ("name", name)):
        if isinstance(value, str) and not _encodable(value):
            raise ConfigError(
                f"task {task_id!r} ({name!r}) cannot be stored: its {what} {value!r} is not "
                "valid Unicode text (a lone surrogate, as from os.fsdecode of undecodable bytes)"
            )


def check_tasks(tasks: Iterable[tuple[Any, str]]) -> list[tuple[Any, str]]:
    """The tasks as a list, each checked with `check_task`."""
    checked = list(tasks)
    for task_id, name in checked:
        check_task(task_id, name)
    return checked
