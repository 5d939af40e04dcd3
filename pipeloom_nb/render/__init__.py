"""A run as HTML, shared by the notebook front ends: its stacked bar, its tasks in flight,
its errors, and the whole progress view."""

from __future__ import annotations

from .bar import bar_html
from .tasks import tasks_html
from .view import errors_block, errors_html, progress_html, state_html

__all__ = ["bar_html", "errors_block", "errors_html", "progress_html", "state_html", "tasks_html"]
