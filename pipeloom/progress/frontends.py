"""Displays that other packages provide, registered by name with how each knows it is wanted.

The engine imports no front end of its own accord, as `tqdm.auto` keeps its notebook import
on the notebook's side: `pipeloom_nb` registers its ipywidgets and marimo displays when it
is imported, and names them as entry points (group `pipeloom.displays`), so that
`progress="auto"` finds them in a notebook that has not imported `pipeloom_nb` yet.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

__all__ = ["ENTRY_POINTS", "FrontEnd", "detected_front_end", "front_end", "register_display"]

LOG = logging.getLogger("pipeloom.progress")

ENTRY_POINTS = "pipeloom.displays"
"""The entry-point group where a package names its `FrontEnd` objects."""


@dataclass(frozen=True)
class FrontEnd:
    """A display that another package provides."""

    name: str
    """What `progress=` calls it ("widgets", "marimo")."""
    make: Callable[[], Any]
    """Makes the display of one run."""
    detect: Callable[[], bool]
    """True where this front end is what the user looks at (a Jupyter kernel, a marimo
    notebook); it must be cheap and import nothing."""


_LOCK = threading.Lock()
_REGISTERED: dict[str, FrontEnd] = {}
_LOADED = threading.Event()


def register_display(front: FrontEnd) -> FrontEnd:
    """Make `front` known by its name (a name registered again is replaced)."""
    with _LOCK:
        _REGISTERED[front.name] = front
    return front


def front_end(name: str) -> FrontEnd | None:
    """The front end registered as `name`, looking at the installed entry points if need be."""
    if name not in _REGISTERED:
        _load_entry_points()
    return _REGISTERED.get(name)


def detected_front_end(load: bool = True) -> FrontEnd | None:
    """The registered front end whose environment this is, if any (`load`: the entry points too)."""
    if load:
        _load_entry_points()
    with _LOCK:
        fronts = list(_REGISTERED.values())
    return next((front for front in fronts if front.detect()), None)


def _load_entry_points() -> None:
    """Register the entry points' front ends, once per process."""
    if _LOADED.is_set():
        return
    _LOADED.set()
    for point in entry_points(group=ENTRY_POINTS):
        try:
            front = point.load()
        except ImportError as exc:  # an extra not installed: that front end is not there
            LOG.debug("display %s not available: %s", point.name, exc)
            continue
        if front.name not in _REGISTERED:
            register_display(front)
