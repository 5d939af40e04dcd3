"""The single SQLite writer: one thread, one connection, messages applied in group commits.

Workers never touch SQLite. The writer drains the queue in batches, each in one write
transaction taken up front (BEGIN IMMEDIATE, waiting up to `lock_timeout` for other
writers), applies each message (`apply.MessageApplier`), writes the changed task rows with
one `executemany`, and commits once per batch. At the end it settles unfinished tasks and
closes the run record; `closed` is set last.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Container, Iterable, Mapping
from typing import Any

from ..core.control import RunClosing, TasksCancelled
from ..core.queue import MessageQueue
from ..core.rows import Rows
from ..core.status import RunStatus
from ..errors import ConfigError, PipelineError, UnhandledMessage
from ..progress.snapshot import RunStats
from . import connection as dbconn
from . import record
from .apply import MessageApplier
from .closing import close_run, finish_loads
from .handlers import Handler, HandlerRegistry, Schema
from .integrity import check_intact
from .loads import RowsLoader
from .lock import COMMIT, ROLLBACK, begin_immediate
from .opening import open_run
from .task_bars import update_task_bars
from .tasks import TaskBook
from .text import check_tasks

__all__ = ["SQLiteWriter"]

LOG = logging.getLogger("pipeloom.writer")


class SQLiteWriter(threading.Thread):
    """The thread that owns the only read-write connection.

    Start it, put messages on `msg_q`, put `SENTINEL` (or `WRITER_STOP`), wait for
    `closed`. To persist domain messages, pass `handlers={MsgType: fn(conn, msg)}`, or
    subclass and override `handle_message(item)` (the place of the `elif isinstance(item,
    ...)` branch in pipeloom 0.0.x), calling `super().handle_message(item)` for other types.
    With `tasks=` the run's tasks are fixed: a message for another id is a run-level error.
    With `known=` instead, tasks are registered as the engine takes them (`TasksQueued`):
    `known` is the set of ids taken so far, `total` their number if known up front.
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
        tasks: Iterable[tuple[Any, str]] | None = None,
        workers: int | None = None,
        params: Mapping[str, Any] | None = None,
        resume: bool = False,
        stats: RunStats | None = None,
        batch_size: int = 5000,
        max_latency: float = 0.1,
        on_failure: Callable[[BaseException], None] | None = None,
        lock_timeout: float = 60.0,
        sentinel_stops: bool = True,
        known: Container | None = None,
        total: int | None = None,
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
        if known is not None:
            self.book.expect(known, total)
        self.batch_size = batch_size
        self.max_latency = max_latency
        self.lock_timeout = lock_timeout
        """Seconds to wait for another connection's write lock before failing."""
        self._on_failure = on_failure
        self._conn: dbconn.WriterConnection | None = None
        self._closing: RunClosing | None = None
        self._stop_flag = threading.Event()
        self._cancelled = threading.Event()
        self._applier = MessageApplier(
            self.book, self.handle_message, self._on_run_closing, sentinel_stops
        )
        self.loads = RowsLoader()
        """Applies `Rows` messages (no handler needed)."""
        self.ready = threading.Event()
        """Set once the database is open and the run is recorded (or opening failed)."""
        self.closed = threading.Event()
        """Set at the very end of `run()`, after the connection is closed: wait on this."""
        self.run_id: int | None = None
        self.skipped_ids: frozenset = frozenset()
        """With `resume=True`: ids already `done` in the refresh this run continues."""
        self.to_recreate: tuple[tuple[Any, str], ...] = ()
        """With `resume=True`: (parent, definition) of the tasks added there."""
        self.interrupted_runs: list[int] = []
        """Runs of dead processes this writer marked `interrupted` when it opened."""
        self.error: BaseException | None = None
        """Why the writer stopped early, if it did."""
        self.status: str | None = None
        """The run's final status, set when the run record is closed."""

    def _item_name(self, task_id: Any) -> str:
        st = self.book.tasks.get(task_id)
        return st.name if st is not None else repr(task_id)

    # --- the override point --------------------------------------------------------------
    def handle_message(self, item: Any) -> None:
        """Apply one domain message; runs inside a savepoint of the current batch."""
        if type(item) is Rows:
            try:
                self.loads.apply(self._conn, item)
            except ConfigError as exc:
                raise ConfigError(f"item {self._item_name(item.task_id)}: {exc}") from exc
            return
        fn = self._handlers.get(type(item))
        if fn is None:
            raise UnhandledMessage(
                f"no handler for message type {type(item).__module__}.{type(item).__qualname__}"
            )
        fn(self._conn, item)

    def _on_run_closing(self, m: RunClosing) -> None:
        self._closing = m

    # --- what the engine asks of a running writer -----------------------------------------
    def cancel_run(self) -> None:
        """Record the run `cancelled`; tasks not finished when it closes become `cancelled`."""
        self._cancelled.set()

    def give_up_backlog_at(self, deadline: float) -> None:
        """From `deadline` (time.monotonic()) on, drop queued domain messages unhandled.

        Each task that loses a message is recorded `cancelled`, saying its rows were not
        written; dropped messages without a task are one run-level error. Built-in task
        messages are still applied, so the writer reaches its stop marker quickly.
        """
        self._applier.give_up_at = deadline

    def stop(self) -> None:
        """Ask the loop to stop once the queue is empty (a stop marker is the usual way)."""
        self._stop_flag.set()

    # --- the loop ---------------------------------------------------------------------------
    def run(self) -> None:
        """Open the database, apply batches until a stop marker, close the run record."""
        try:
            if self._open_or_fail():
                try:
                    self._loop()
                except BaseException as exc:
                    self._fail(exc)
                finally:
                    self._close()
        finally:
            self.closed.set()

    def _open_or_fail(self) -> bool:
        try:
            self._open()
        except BaseException as exc:
            self._fail(exc)
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            return False
        finally:
            self.ready.set()
        return True

    def _loop(self) -> None:
        get = self.msg_q.get
        idle = min(0.2, self.max_latency)
        while True:
            try:
                items = self._take(get(timeout=idle), 256)
            except queue.Empty:
                if self._stop_flag.is_set():
                    return
                items = self._take_held()
                if not items:
                    continue
            if self._apply_batch(items):
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

    def _take_held(self, everything: bool = False) -> list[Any]:
        """The held progress (see `MessageQueue.put`) of the tasks in hand, taken after a drain.

        `everything` at the stop marker: what is left belongs to tasks already closed, and
        is applied (and ignored) only to be counted.
        """
        take_latest = getattr(self.msg_q, "take_latest", None)
        if take_latest is None:
            return []
        return take_latest(None if everything else self.book.in_hand)

    def _apply_batch(self, items: list[Any]) -> bool:
        """Apply `items` and whatever is queued behind them in one transaction; True at a stop."""
        conn = self._conn
        begin_immediate(conn, self.db_path, self.lock_timeout)
        deadline = time.monotonic() + self.max_latency
        conn.in_batch = True
        taken = [items]
        try:
            with self.stats.lock:
                stops, n = self._apply_items(taken, deadline)
                self._flush(n - stops)
            conn.in_batch = False
            conn.execute(COMMIT)
        except BaseException:
            self._batch_lost(taken)
            raise
        self.book.forget_closed()
        self._task_done(n)  # a queue with task_done holds no progress: all n came from it
        return stops > 0

    def _apply_items(self, taken: list[list[Any]], deadline: float) -> tuple[int, int]:
        """Apply until a stop, a full batch or the deadline: (stop markers, messages applied).

        Then the progress held for busy tasks is applied: each is newer than any message of
        its task already queued (a task's other messages release it into the queue first),
        so none can land after the task's end.
        """
        apply = self._applier.apply
        n = stops = 0
        items = taken[0]
        while True:
            stops += apply(items)
            n += len(items)
            if stops or n >= self.batch_size or time.monotonic() > deadline:
                break
            try:
                items = self._take(self.msg_q.get_nowait(), 256)
            except queue.Empty:
                break
            taken.append(items)
        held = self._take_held(everything=stops > 0)
        if held:
            taken.append(held)
            apply(held)
            n += len(held)
        return stops, n

    def _batch_lost(self, taken: list[list[Any]]) -> None:
        """The batch was not committed: no task it touched may be recorded `done`."""
        ids = {getattr(m, "task_id", None) for items in taken for m in items}
        for m in (m for items in taken for m in items if type(m) is TasksCancelled):
            ids.update(m.task_ids)
        with self.stats.lock:
            self.book.lost(ids - {None}, "its batch was rolled back: the writer failed")

    def _flush(self, n_messages: int) -> None:
        dirty = record.write_batch(self._conn, self.run_id, self.book, self._store)
        if self._progress is not None:
            update_task_bars(self._progress, self._progress_tasks, dirty)
        self.stats.messages += n_messages + self._applier.take_superseded()

    def _task_done(self, n: int) -> None:
        task_done = getattr(self.msg_q, "task_done", None)
        if task_done is not None:
            for _ in range(n):
                task_done()

    # --- opening and closing ----------------------------------------------------------------
    def _open(self) -> None:
        tasks = None if self._initial_tasks is None else check_tasks(self._initial_tasks)
        conn = dbconn.connect(
            self.db_path,
            wal=self._use_wal,
            synchronous=self._synchronous,
            factory=dbconn.WriterConnection,
            timeout=self.lock_timeout,
        )
        self._conn = self._applier.conn = conn
        begin_immediate(conn, self.db_path, self.lock_timeout)
        check_intact(conn, self.db_path)  # damage found now, before any task runs
        opened = open_run(
            conn,
            self.run_name,
            self._workers,
            self._params,
            store_task_status=self._store,
            schema=self._schema,
            resume=self._resume,
        )
        self.run_id, self.skipped_ids, self.interrupted_runs = opened[:3]
        self.to_recreate = opened.to_recreate
        self.loads.run_id = self.run_id
        self.stats.resumed_from = opened.resumed_from
        if tasks is not None:
            with self.stats.lock:
                self.book.add(tasks, self.skipped_ids)
        conn.execute(COMMIT)
        LOG.info("writer started: %s (WAL=%s)", self.db_path, self._use_wal)

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
        conn.in_batch = False
        try:
            if conn.in_transaction:
                conn.execute(ROLLBACK)
            # After a failure (a lock that never came, say) do not wait long again.
            wait = self.lock_timeout if self.error is None else min(self.lock_timeout, 5.0)
            begin_immediate(conn, self.db_path, wait)
            self._finish_run()
            conn.execute(COMMIT)
            if self._use_wal:
                dbconn.wal_checkpoint(conn, "PASSIVE")
        except (sqlite3.Error, PipelineError):
            LOG.warning("could not close the run record", exc_info=True)
        finally:
            conn.close()
            self._conn = self._applier.conn = None
            if self.stats.ended is None:
                self.stats.ended = time.monotonic()
            LOG.info("writer stopped")

    def _finish_run(self) -> None:
        closing = self._closing
        cancelled = self._cancelled.is_set() or (
            closing is not None and closing.status == RunStatus.CANCELLED
        )
        ok = not cancelled and self.error is None and self.book.all_done()
        if ok and self.skipped_ids and self.loads.staged:
            ok = False  # a skipped task's rows are not in the stage: swapping would lose them
            self.book.run_error(
                "replace", "mode='replace' cannot resume: the table was left as it was", None
            )
        finish_loads(self._conn, self.loads, self.book, ok)
        self.status = close_run(
            self._conn,
            self.book,
            self.run_id,
            store_task_status=self._store,
            cancelled=cancelled,
            failed=self.error is not None,
            dropped_untasked=self._applier.dropped_untasked,
        )
        if closing is not None and closing.facts:  # throttled, timed_out, abandoned counts
            record.add_params(self._conn, self.run_id, dict(closing.facts))
