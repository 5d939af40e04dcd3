"""The single SQLite writer: one thread, one connection, messages applied in group commits.

Workers never touch SQLite. The writer drains the queue in batches, applies each message
(built-in task messages update an in-memory copy of `task_runs`; any other message goes
to its handler inside a savepoint, so it lands whole or not at all), writes the changed
task rows with one `executemany`, and commits once per batch.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..control import RunClosing, TaskClosed, TasksCancelled
from ..errors import UnhandledMessage
from ..execution.queue import MessageQueue
from ..messages import SENTINEL, MsgTaskFinished, MsgTaskProgress, MsgTaskStarted
from ..progress.snapshot import TERMINAL, RunStats, TaskError
from ..summary import run_status
from . import connection as dbconn
from . import record
from .handlers import Handler, HandlerRegistry, Schema, apply_schema
from .tables import init_schema
from .tasks import TaskBook, TaskState

__all__ = ["SQLiteWriter"]

LOG = logging.getLogger("pipeloom.writer")

_UPSERT_TASK = """
INSERT INTO task_runs
  (run_id, id, name, status, progress, message, started_at, finished_at, result, error, attempts)
VALUES (?,?,?,?,?,?,?,?,?,?,?)
ON CONFLICT(run_id, id) DO UPDATE SET
  name=excluded.name, status=excluded.status, progress=excluded.progress,
  message=excluded.message, started_at=excluded.started_at, finished_at=excluded.finished_at,
  result=excluded.result, error=excluded.error, attempts=excluded.attempts
"""


class SQLiteWriter(threading.Thread):
    """The thread that owns the only read-write connection.

    Start it, put messages on `msg_q`, put `SENTINEL`, join it. To persist domain
    messages, pass `handlers={MsgType: fn(conn, msg)}`, or subclass and override
    `handle_message(item)` (the place of the `elif isinstance(item, ...)` branch in
    pipeloom 0.0.x), calling `super().handle_message(item)` for other types.
    """

    def __init__(
        self,
        db_path: Any,
        msg_q: MessageQueue | queue.Queue,
        *,
        wal: bool = True,
        store_task_status: bool = True,
        task_progress: Any = None,
        task_bar_map: dict[Any, Any] | None = None,
        handlers: HandlerRegistry | Mapping[type, Handler] | None = None,
        schema: Schema | None = None,
        synchronous: dbconn.Synchronous = "NORMAL",
        name: str = "pipeline",
        tasks: Iterable[tuple[Any, str]] = (),
        workers: int | None = None,
        params: Mapping[str, Any] | None = None,
        resume: bool = False,
        stats: RunStats | None = None,
        batch_size: int = 5000,
        max_latency: float = 0.1,
        on_failure: Callable[[BaseException], None] | None = None,
        lock_timeout: float = 60.0,
        sentinel_stops: bool = True,
    ) -> None:
        super().__init__(name="pipeloom-writer", daemon=True)
        self.db_path = db_path
        self.msg_q = msg_q
        self._use_wal = wal
        self._store = store_task_status
        self._progress = task_progress
        self._progress_tasks = dict(task_bar_map or {})
        self._handlers = (
            handlers if isinstance(handlers, HandlerRegistry) else HandlerRegistry(handlers)
        )
        self._schema = schema
        self._synchronous = synchronous
        self.run_name = name
        self._initial_tasks = tasks
        self._workers = workers
        self._params = dict(params or {})
        self._resume = resume
        self.book = TaskBook(stats)
        """The task state machine the built-in messages drive."""
        self.stats = self.book.stats
        self.batch_size = batch_size
        self.max_latency = max_latency
        self._on_failure = on_failure
        self._conn: dbconn.WriterConnection | None = None
        self._closing: RunClosing | None = None
        self._stop_flag = threading.Event()
        self.ready = threading.Event()
        self.closed = threading.Event()
        """Stand-in until the store branch lands: set once the connection is closed."""
        """Set once the database is open and the run is recorded (or opening failed)."""
        self.run_id: int | None = None
        self.skipped_ids: frozenset = frozenset()
        """With `resume=True`: ids already `done` in an earlier run of the same name."""
        self.error: BaseException | None = None
        """Why the writer stopped early, if it did."""
        self.status: str | None = None
        """The run's final status, set when the run record is closed."""
        book = self.book
        self._builtin: dict[type, Callable[[Any], None]] = {
            MsgTaskStarted: book.started,
            MsgTaskProgress: book.progress,
            MsgTaskFinished: book.finished,
            TaskClosed: book.closed,
            TasksCancelled: book.cancelled,
            RunClosing: self._on_run_closing,
        }

    # --- the override point --------------------------------------------------------------
    def handle_message(self, item: Any) -> None:
        """Apply one domain message; runs inside a savepoint of the current batch."""
        fn = self._handlers.get(type(item))
        if fn is None:
            raise UnhandledMessage(
                f"no handler for message type {type(item).__module__}.{type(item).__qualname__}"
            )
        fn(self._conn, item)

    def _on_run_closing(self, m: RunClosing) -> None:
        self._closing = m

    # --- domain messages ------------------------------------------------------------------
    def _apply_domain(self, item: Any) -> None:
        conn = self._conn
        conn.execute("SAVEPOINT pipeloom_msg")
        conn.savepoint = "pipeloom_msg"
        try:
            self.handle_message(item)
        except Exception as exc:
            if not conn.in_transaction:
                raise
            conn.execute("ROLLBACK TO pipeloom_msg")
            self._handler_failed(item, exc)
        finally:
            conn.savepoint = None
        conn.execute("RELEASE pipeloom_msg")

    def _handler_failed(self, item: Any, exc: Exception) -> None:
        what = f"{type(item).__qualname__}: {type(exc).__name__}: {exc}"
        tb = "".join(traceback.format_exception(exc))
        LOG.error("handler failed on %s", what)
        task_id = getattr(item, "task_id", None)
        if task_id is None:
            self.stats.add_error(TaskError(None, type(item).__qualname__, what, tb))
        else:
            self.book.handler_failed(task_id, what, tb)

    # --- the loop ---------------------------------------------------------------------------
    def run(self) -> None:
        """Open the database, apply batches until SENTINEL, close the run record, close."""
        try:
            self._open()
        except BaseException as exc:
            self._fail(exc)
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self.ready.set()
            self.closed.set()
            return
        self.ready.set()
        try:
            self._loop()
        except BaseException as exc:
            self._fail(exc)
        finally:
            self._close()
            self.closed.set()

    def _loop(self) -> None:
        get = self.msg_q.get
        while True:
            try:
                first = get(timeout=0.2)
            except queue.Empty:
                if self._stop_flag.is_set():
                    return
                continue
            if self._apply_batch(first):
                return

    def _take(self, first: Any, limit: int) -> list[Any]:
        drain = getattr(self.msg_q, "drain", None)
        if drain is not None:
            return drain(first, limit)
        batch = [first]
        try:
            while len(batch) < limit:
                batch.append(self.msg_q.get_nowait())
        except queue.Empty:
            pass
        return batch

    def _apply_batch(self, first: Any) -> bool:
        """Apply `first` and whatever is queued behind it in one transaction; True at SENTINEL."""
        conn = self._conn
        deadline = time.monotonic() + self.max_latency
        conn.execute("BEGIN")
        conn.in_batch = True
        items = self._take(first, 256)
        with self.stats.lock:
            stop, n = self._apply_items(items, deadline)
            self._flush(n - stop)
        conn.in_batch = False
        conn.execute("COMMIT")
        self._task_done(n)
        return stop

    def _apply_items(self, items: list[Any], deadline: float) -> tuple[bool, int]:
        builtin = self._builtin
        n = 0
        stop = False
        while True:
            for item in items:
                fn = builtin.get(type(item))
                if fn is not None:
                    try:
                        fn(item)
                    except (TypeError, ValueError, AttributeError, ArithmeticError) as exc:
                        self._handler_failed(item, exc)  # a malformed message, as from a bug
                elif item is SENTINEL:
                    stop = True
                else:
                    self._apply_domain(item)
            n += len(items)
            if stop or n >= self.batch_size or time.monotonic() > deadline:
                break
            try:
                items = self._take(self.msg_q.get_nowait(), 256)
            except queue.Empty:
                break
        return stop, n

    def _flush(self, n_messages: int) -> None:
        dirty = self.book.take_dirty()
        if dirty and self._store:
            run_id = self.run_id
            self._conn.executemany(_UPSERT_TASK, [st.row(run_id) for st in dirty])
        if self._progress is not None:
            self._update_rich_bars(dirty)
        self.stats.messages += n_messages

    def _task_done(self, n: int) -> None:
        task_done = getattr(self.msg_q, "task_done", None)
        if task_done is not None:
            for _ in range(n):
                task_done()

    def _update_rich_bars(self, dirty: list[TaskState]) -> None:
        for st in dirty:
            task_id = st.task_id
            tid = self._progress_tasks.get(task_id)
            if tid is None:
                continue
            self._progress.update(tid, completed=int(100 * st.progress))
            if st.status in TERMINAL:
                self._progress.update(tid, completed=100, visible=False)
                self._progress_tasks.pop(task_id, None)

    # --- opening and closing ----------------------------------------------------------------
    def _open(self) -> None:
        conn = dbconn.connect(
            self.db_path,
            wal=self._use_wal,
            synchronous=self._synchronous,
            factory=dbconn.WriterConnection,
        )
        self._conn = conn
        conn.execute("BEGIN")
        init_schema(conn, store_task_status=self._store)
        apply_schema(conn, self._schema)
        if conn.in_transaction:
            conn.execute("COMMIT")
        LOG.info("writer started: %s (WAL=%s)", self.db_path, self._use_wal)
        conn.execute("BEGIN")
        self.run_id = record.insert_run(conn, self.run_name, self._workers, self._params)
        if self._resume and self._store:
            self.skipped_ids = record.done_before(conn, self.run_name, self.run_id)
        with self.stats.lock:
            self.book.add(self._initial_tasks, self.skipped_ids)
        if self._store and self.book.tasks:
            record.insert_tasks(conn, self.run_id, self.book.tasks.values())
        self.book.take_dirty()
        conn.execute("COMMIT")

    def _fail(self, exc: BaseException) -> None:
        self.error = exc
        LOG.error("writer failed: %s", exc)
        fail = getattr(self.msg_q, "fail", None)
        if fail is not None:
            fail(exc)
        if self._on_failure is not None:
            self._on_failure(exc)

    def _close(self) -> None:
        conn = self._conn
        if conn is None:
            return
        conn.in_batch = False
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._finish_run()
            if self._use_wal:
                dbconn.wal_checkpoint(conn, "PASSIVE")
        except sqlite3.Error:
            LOG.warning("could not close the run record", exc_info=True)
        finally:
            conn.close()
            self._conn = None
            if self.stats.ended is None:
                self.stats.ended = time.monotonic()
            LOG.info("writer stopped")

    def _finish_run(self) -> None:
        closing = self._closing
        self.stats.ended = time.monotonic()
        self.status = run_status(
            self.stats.counts,
            cancelled=closing is not None and closing.status == "cancelled",
            failed=self.error is not None,
            errors=len(self.stats.errors),
        )
        record.finish_run(
            self._conn,
            self.run_id,
            self.status,
            self.stats.counts,
            self.stats.total,
            self.stats.ended - self.stats.started,
        )
        if closing is not None and closing.facts:  # throttled, timed_out, abandoned counts
            record.add_params(self._conn, self.run_id, dict(closing.facts))

    def cancel_run(self) -> None:
        """Stand-in until the store branch lands: record the run `cancelled`."""
        self._closing = RunClosing("cancelled")

    def give_up_backlog_at(self, deadline: float) -> None:
        """Stand-in until the store branch lands: the backlog is always applied."""

    def stop(self) -> None:
        """Ask the loop to stop once the queue is empty (SENTINEL is the usual way)."""
        self._stop_flag.set()
