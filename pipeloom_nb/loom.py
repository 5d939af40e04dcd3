"""`Loom`: a notebook session over one database, safe to use cell by cell."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from pipeloom.core.rows import check_rows_options
from pipeloom.errors import NoSuchTable
from pipeloom.execution.retry import RetryOn
from pipeloom.progress.display import choose_display
from pipeloom.run.checks import check_number, check_worker, check_workers
from pipeloom.run.engine import run_with_options
from pipeloom.run.feed import is_collection
from pipeloom.run.options import DEFAULTS, merged
from pipeloom.run.options import run_options as build_options
from pipeloom.store.connection import quote_identifier
from pipeloom.store.handlers import Handler, HandlerRegistry, Schema
from pipeloom.timeline import Timeline, timeline

from .compare import RunComparison, compare_runs, task_history
from .handle import RunHandle
from .mapping import check_map_table, map_run_name, map_tasks, map_worker
from .options import LoomOption, run_options, schema_key
from .reading import check_shared_db, read_sql, read_table, table_names
from .results import RunResult, Tables, tidy_task_runs

__all__ = ["Loom"]


class Loom:
    """Runs pipelines into one SQLite file and hands results back as DataFrames.

    `executor=` (here or per run) runs tasks on threads (the default), in a process pool
    ("processes") or on a Dask cluster (a `distributed.Client`); the writer stays here.

    Handlers and schemas registered here are replaced, not duplicated, when their cell
    is run again; a message class re-defined by re-running its cell still finds its handler.
    """

    def __init__(
        self,
        db_path: str | Path = "pipeloom.db",
        workers: int = 4,
        *,
        progress: Any = "auto",
        wal: bool = True,
        synchronous: str = "NORMAL",
        executor: Any = "threads",
        rate: float | None = None,
        timeout: float | None = None,
    ) -> None:
        self.db_path = check_shared_db(db_path)
        check_workers(workers)
        check_number("rate", rate, optional=True)
        check_number("timeout", timeout, optional=True)
        self.options = merged(
            DEFAULTS,
            workers=workers,
            executor=executor,
            rate=rate,
            timeout=timeout,
            progress=progress,
            wal=wal,
            synchronous=synchronous,
        )
        """This Loom's run options; each run `replace()`s what its call gives."""
        self.handlers = HandlerRegistry()
        self._schemas: dict[Any, Schema] = {}

    rate = LoomOption()
    """Task starts per second for every run (None: no limit); a run's `rate=` wins."""
    timeout = LoomOption()
    """Seconds one attempt may take in every run (None: no limit); a run's wins."""
    executor = LoomOption()
    """Where tasks run: "threads", "processes" or a `dask.distributed.Client`."""
    workers = LoomOption()
    progress = LoomOption()
    wal = LoomOption()
    synchronous = LoomOption()

    # --- registration, cell by cell ---------------------------------------------------------
    @property
    def schemas(self) -> tuple[Schema, ...]:
        """The schemas applied before every run (one per cell that added one)."""
        return tuple(self._schemas.values())

    def schema(self, schema: Schema) -> Schema:
        """Add SQL (or a callable taking the connection) applied before every run."""
        self._schemas[schema_key(schema)] = schema
        return schema

    def handler(self, msg_type: type) -> Callable[[Handler], Handler]:
        """Decorator: `@loom.handler(MsgType)` registers `fn(conn, msg)` for that type."""

        def register(fn: Handler) -> Handler:
            self.handlers.register(msg_type, fn)
            return fn

        return register

    # --- running ------------------------------------------------------------------------------
    def run(
        self,
        tasks: Iterable[Any],
        worker: Callable[..., Any],
        *,
        workers: int | None = None,
        executor: Any = None,
        name: str | None = None,
        resume: bool = False,
        retries: int = 0,
        retry_backoff: float = 0.5,
        retry_max_delay: float = 60.0,
        retry_on: RetryOn | None = None,
        timeout: float | None = None,
        rate: float | None = None,
        progress: Any = None,
        **kw: Any,
    ) -> RunResult:
        """Run `worker(task, q)` over `tasks`, showing progress; returns a RunResult.

        workers: threads, coroutines or processes at once (default: the Loom's).
        executor: "threads", "processes" or a `dask.distributed.Client` (default: the Loom's).
        name: the run's name (what `resume=True` matches).
        resume: skip tasks done in an earlier run of the same name.
        retries: attempts after the first, for errors `retry_on` wants.
        retry_backoff: seconds before the first retry, doubling, jittered.
        retry_max_delay: the longest wait between attempts.
        retry_on: exception types or `fn(exc) -> bool` (default: network errors, HTTP 429
            and 5xx, and anything but HTTP 4xx and data/programming errors).
        timeout: seconds one attempt may take (default: the Loom's).
        rate: task starts per second for the whole run (default: the Loom's); a server's
            429/503 `Retry-After` or `pipeloom.RetryAfter` pauses and slows it.
        progress: "auto", a display, or False (default: the Loom's).
        **kw: any other `run_pipeline` argument (`params`, `cancel_grace`, ...).
        """
        kw.update(run_options(locals()))
        return self._run(tasks, worker, cancel_event=threading.Event(), **kw)

    def start(
        self,
        tasks: Iterable[Any],
        worker: Callable[..., Any],
        *,
        workers: int | None = None,
        executor: Any = None,
        name: str | None = None,
        resume: bool = False,
        retries: int = 0,
        retry_backoff: float = 0.5,
        retry_max_delay: float = 60.0,
        retry_on: RetryOn | None = None,
        timeout: float | None = None,
        rate: float | None = None,
        progress: Any = None,
        **kw: Any,
    ) -> RunHandle:
        """Start a run in the background and return its handle at once (arguments as `run`)."""
        kw.update(run_options(locals()))
        cancel = threading.Event()
        display = choose_display(kw.pop("progress", self.progress))
        show = getattr(display, "show", None)
        if show is not None:
            show()  # here, so the widget lands in this cell's output, not a later one's
        if is_collection(tasks):
            tasks = list(tasks)  # as they are now: a later change to the caller's list is not seen
        return RunHandle(
            lambda: self._run(tasks, worker, cancel_event=cancel, progress=display, **kw),
            cancel,
        )

    def map(
        self,
        fn: Callable[[Any], Any],
        items: Iterable[Any],
        table: str,
        *,
        key: str | tuple[str, ...] | None = None,
        mode: str = "append",
        schema: str = "evolve",
        item_key: Callable[[Any], Any] | None = None,
        workers: int | None = None,
        executor: Any = None,
        name: str | None = None,
        resume: bool = False,
        retries: int = 0,
        retry_backoff: float = 0.5,
        retry_max_delay: float = 60.0,
        retry_on: RetryOn | None = None,
        timeout: float | None = None,
        rate: float | None = None,
        progress: Any = None,
        **kw: Any,
    ) -> RunResult:
        """Call `fn(item)` for each item; the dicts or DataFrame rows it returns go to `table`.

        `mode="append"` (the default) inserts; `"merge"` upserts on `key`, so running the
        cell again never duplicates rows; `"replace"` swaps the table's contents when the
        run ends well. `schema="freeze"` refuses new columns. Each task is its item
        (`item_key=` to choose the key), so `resume=True` runs only the items not done.
        Other arguments as `run`: `rate=` spaces the calls, `timeout=` bounds each,
        `retries=` retries what `retry_on` wants (a 429's `Retry-After` is obeyed).
        """
        kw.update(run_options(locals()))
        check_map_table(table)
        check_rows_options(table, key, mode, schema)
        kw.setdefault("name", map_run_name(fn, table))
        tasks, repeated = map_tasks(items, item_key)
        result = self._run(
            tasks,
            map_worker(fn, table, key, mode, schema, item_key),
            cancel_event=threading.Event(),
            **kw,
        )
        if repeated:
            summary = result.summary
            result = RunResult(replace(summary, repeated=summary.repeated + repeated))
        return result

    def _run(
        self,
        tasks: Iterable[Any],
        worker: Callable[..., Any],
        *,
        cancel_event: threading.Event,
        progress: Any = None,
        handlers: HandlerRegistry | None = None,
        **kw: Any,
    ) -> RunResult:
        display = choose_display(self.progress if progress is None else progress)
        check_worker(worker)
        options = build_options(
            self.options,
            handlers=handlers if handlers is not None else self.handlers.copy(),
            schema=list(self._schemas.values()),
            progress=display,
            cancel_event=cancel_event,
            **kw,
        )
        summary = run_with_options(self.db_path, tasks, worker, options)
        return RunResult(summary, shown=getattr(display, "shows_run", False))

    # --- reading ------------------------------------------------------------------------------
    def sql(self, query: str, params: Any = None) -> pd.DataFrame:
        """Run a read-only query and return a DataFrame (safe while a run writes)."""
        return read_sql(self.db_path, query, params)

    @property
    def tables(self) -> Tables:
        """Your tables (not pipeloom's own) by name, each read as a DataFrame when asked for.

        The same mapping as `RunResult.tables`: `loom.tables["orders"]`, `list(loom.tables)`.
        """
        return Tables(self.db_path)

    def table_names(self) -> list[str]:
        """Every table in the database, pipeloom's own included, sorted."""
        return table_names(self.db_path)

    def table(self, name: str) -> pd.DataFrame:
        """Any table as a DataFrame (`task_runs` with timestamps parsed); NoSuchTable if absent."""
        names = self.table_names()
        if name not in names:
            raise NoSuchTable(f"no table {name!r}; tables: {', '.join(names) or 'none'}")
        query = f"SELECT * FROM {quote_identifier(name)}"
        if name == "task_runs":
            return tidy_task_runs(self.sql(query))
        return read_table(self.db_path, query)

    def runs(self) -> pd.DataFrame:
        """The run history, newest first."""
        df = self.sql("SELECT * FROM pipeline_runs ORDER BY run_id DESC")
        for col in ("started_at", "finished_at"):
            df[col] = pd.to_datetime(df[col], utc=True, format="ISO8601")
        return df

    # --- looking back ---------------------------------------------------------------------------
    def timeline(self, run_id: int | None = None) -> Timeline:
        """A run's timeline (None: the latest): tasks by worker, retries, throughput."""
        return timeline(self.db_path, run_id)

    def compare(self, run_a: int, run_b: int) -> RunComparison:
        """Run `run_b` against `run_a`: `.tasks` side by side, newly failing, fixed, slower."""
        return compare_runs(self.db_path, run_a, run_b)

    def history(self, task_id: Any) -> pd.DataFrame:
        """Every run and attempt of one task, oldest first (status, worker, times, error)."""
        return task_history(self.db_path, task_id)

    def __repr__(self) -> str:
        return f"Loom({self.db_path!r}, workers={self.workers}, handlers={len(self.handlers)})"
