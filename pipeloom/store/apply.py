"""Applying messages in order: built-in task messages to the TaskBook, others to handlers.

Each domain message runs in its own savepoint (`guard.run_guarded`): it lands whole or
not at all, and a failure of any kind fails only its own task. After
`give_up_at` (a `time.monotonic()` deadline) domain messages are dropped, not handled:
their tasks become `cancelled` (never `done` with rows missing), and the drops of
messages without a task are counted for one run-level error. Built-in messages are
always applied.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from ..core.control import (
    WRITER_STOP,
    AddRefused,
    LatestProgress,
    RunClosing,
    SourceFailed,
    TaskClosed,
    TasksCancelled,
    TasksQueued,
)
from ..core.exctext import describe, format_traceback
from ..core.messages import SENTINEL, MsgTaskFinished, MsgTaskProgress, MsgTaskStarted
from .connection import WriterConnection
from .guard import run_guarded
from .tasks import TaskBook

__all__ = ["MessageApplier"]

LOG = logging.getLogger("pipeloom.writer")

_SENTINEL_IGNORED = (
    "SENTINEL was put on the queue during the run and ignored: only the engine stops "
    "the writer (a worker should return instead)"
)


class MessageApplier:
    """Applies one batch's messages, in order, on the writer's connection.

    `apply` is called holding the book's stats lock; it is let go while a handler runs.
    """

    def __init__(
        self,
        book: TaskBook,
        handle: Callable[[Any], None],
        on_closing: Callable[[RunClosing], None],
        sentinel_stops: bool = True,
    ) -> None:
        self.book = book
        self.conn: WriterConnection | None = None
        self.give_up_at: float | None = None
        """After this `time.monotonic()` time, domain messages are dropped."""
        self.dropped_untasked = 0
        """Domain messages without a `task_id` dropped after `give_up_at`."""
        self._handle = handle
        self._superseded = 0
        self._sentinel_stops = sentinel_stops
        self._builtin: dict[type, Callable[[Any], None]] = {
            MsgTaskStarted: book.started,
            MsgTaskProgress: book.progress,
            MsgTaskFinished: book.finished,
            TaskClosed: book.closed,
            TasksCancelled: book.cancelled,
            TasksQueued: book.queued,
            AddRefused: book.add_refused,
            SourceFailed: book.source_failed,
            RunClosing: on_closing,
            LatestProgress: self._latest,
        }

    def apply(self, items: Iterable[Any]) -> int:
        """Apply `items`; how many were stop markers (WRITER_STOP, or SENTINEL if it stops)."""
        builtin = self._builtin
        stops = 0
        for item in items:
            fn = builtin.get(type(item))
            if fn is not None:
                try:
                    fn(item)
                except BaseException as exc:  # a malformed message (its id's own code raised)
                    self.failed(item, exc)
            elif item is WRITER_STOP:
                stops += 1
            elif item is SENTINEL:
                if self._sentinel_stops:
                    stops += 1
                else:
                    self.book.protocol_error(_SENTINEL_IGNORED, key="SENTINEL")
            else:
                self._apply_domain(item)
        return stops

    def _latest(self, held: LatestProgress) -> None:
        self._superseded += held.superseded
        self.book.progress(held.msg)

    def take_superseded(self) -> int:
        """Progress messages superseded in the queue since the last call (counted, not applied)."""
        n, self._superseded = self._superseded, 0
        return n

    def _apply_domain(self, item: Any) -> None:
        if self.give_up_at is not None and time.monotonic() >= self.give_up_at:
            self._drop(item)
            return
        what = f"the handler for {type(item).__qualname__}"
        lock = self.book.stats.lock
        lock.release()  # a slow handler must not freeze the display, which reads the stats
        try:
            failure = run_guarded(self.conn, lambda: self._handle(item), what)
        finally:
            lock.acquire()
        if failure is not None:
            self.failed(item, failure)

    def _drop(self, item: Any) -> None:
        task_id = getattr(item, "task_id", None)
        if task_id is None:
            self.dropped_untasked += 1
        else:
            self.book.dropped(task_id, f"a {type(item).__qualname__} message")

    def failed(self, item: Any, exc: BaseException) -> None:
        """A message failed: its task is `error`; without a task, a run-level error.

        The exception's text and the message's task id are user code; what they raise
        is named in the error, and the writer goes on.
        """
        what = f"{type(item).__qualname__}: {describe(exc)}"
        tb = format_traceback(exc)
        LOG.debug("message failed: %s", what.encode("utf-8", "backslashreplace").decode())
        try:
            task_id = getattr(item, "task_id", None)
            if task_id is not None:
                self.book.handler_failed(task_id, what, tb)
                return
        except BaseException as bad:  # its task id's property, hash or repr raised
            what += f" (its task id is unusable: {describe(bad)})"
        self.book.run_error(type(item).__qualname__, what, tb)
