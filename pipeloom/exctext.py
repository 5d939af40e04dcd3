"""The text of an exception, made without raising: user code can make `str(exc)` raise.

A worker's exception, a handler's, the one a task iterable raises: each is recorded as
text, and an exception whose `__str__` raises (anything, `SystemExit` included) must
fail its own task with a placeholder, never the thread that records it.
"""

from __future__ import annotations

import traceback

__all__ = ["describe", "format_traceback", "text_of"]


def text_of(exc: BaseException) -> str:
    """`str(exc)`, or a placeholder naming what its `__str__` raised."""
    try:
        return str(exc)
    except BaseException as failure:  # the exception's own code failed, not the caller
        return f"<unprintable {type(exc).__name__}: its __str__ raised {type(failure).__name__}>"


def describe(exc: BaseException) -> str:
    """`TypeName: text` of an exception."""
    return f"{type(exc).__name__}: {text_of(exc)}"


def format_traceback(exc: BaseException) -> str:
    """The traceback as `traceback.format_exception` writes it; its frames alone if that fails.

    The standard formatter guards against an `Exception` from `__str__` (of the exception,
    its cause, its notes), not against other `BaseException`s.
    """
    try:
        return "".join(traceback.format_exception(exc))
    except BaseException:  # the exception's text, its cause's or its notes' raised
        frames = "".join(traceback.format_tb(exc.__traceback__))
        return f"Traceback (most recent call last):\n{frames}{describe(exc)}\n"
