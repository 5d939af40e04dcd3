"""Exceptions of user code: their text, made without raising (`str(exc)` can raise), and
whether one may be the user's Ctrl-C.

A worker's exception, a handler's, the one a task iterable raises: each is recorded as
text, and an exception whose `__str__` raises (anything, `SystemExit` included) must
fail its own task with a placeholder, never the thread that records it.
"""

from __future__ import annotations

import threading
import traceback

__all__ = ["describe", "format_traceback", "may_be_ctrl_c", "text_of"]


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


def may_be_ctrl_c(exc: BaseException) -> bool:
    """True for a `KeyboardInterrupt` in the main thread: perhaps the user's Ctrl-C.

    Signals are delivered to the main thread only; elsewhere a `KeyboardInterrupt` was
    raised by user code, and is that code's failure.
    """
    main = threading.current_thread() is threading.main_thread()
    return main and isinstance(exc, KeyboardInterrupt)
