"""Tasks added while a run runs, written down as JSON so that `resume=True` can re-create them.

A `TaskDef` or a dict whose JSON form reads back equal is kept; any other task is run and
recorded, but cannot be re-created (its definition is None).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..core.messages import TaskDef

__all__ = ["from_definition", "to_definition"]


def to_definition(task: Any) -> str | None:
    """`task` as JSON text, or None when JSON would not give it back as it is."""
    if type(task) is TaskDef:
        shape = {"task_def": [task.task_id, task.name, task.steps, task.params]}
    elif isinstance(task, Mapping):
        shape = {"mapping": dict(task)}
    else:
        return None
    try:
        text = json.dumps(shape, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError):
        return None
    back = json.loads(text)
    return text if back == shape and _same_types(back, shape) else None


def from_definition(text: str) -> Any:
    """The task `to_definition` wrote."""
    shape = json.loads(text)
    if "task_def" in shape:
        return TaskDef(*shape["task_def"])
    return shape["mapping"]


def _same_types(a: Any, b: Any) -> bool:
    """True when `a` and `b` have the same types throughout: `==` alone takes 1 for 1.0."""
    if type(a) is not type(b):  # a tuple read back as a list, a float as an int
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same_types(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return all(_same_types(x, y) for x, y in zip(a, b, strict=True))
    return True
