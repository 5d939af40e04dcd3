"""Set a widget's traits as one comm message, sending nothing for values already shown."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

__all__ = ["set_traits"]


def set_traits(widget: w.Widget, **values: Any) -> int:
    """Set the traits whose value differs, in order, as one comm message; how many changed."""
    changed = {name: v for name, v in values.items() if getattr(widget, name) != v}
    if changed:
        with widget.hold_sync():
            for name, value in changed.items():
                setattr(widget, name, value)
    return len(changed)
