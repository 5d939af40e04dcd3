"""What a notebook run hands back: the summary plus its tables as DataFrames."""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping

import pandas as pd

from pipeloom.errors import NoSuchTable
from pipeloom.progress.snapshot import TaskError
from pipeloom.store.connection import quote_identifier
from pipeloom.store.loads import STAGE_PREFIX
from pipeloom.store.tables import OWN_TABLES
from pipeloom.summary import RunSummary
from pipeloom.timeline import Timeline, timeline

from .reading import read_sql, read_table, table_names

__all__ = ["RunResult", "Tables", "errors_html"]

_TIMES = ("started_at", "finished_at")


def tidy_task_runs(df: pd.DataFrame) -> pd.DataFrame:
    """Timestamps as datetime64 (UTC), progress as float."""
    for col in _TIMES:
        if col in df:
            df[col] = pd.to_datetime(df[col], utc=True, format="ISO8601")
    if "progress" in df:
        df["progress"] = df["progress"].astype(float)
    return df


class Tables(Mapping[str, pd.DataFrame]):
    """Domain tables by name, each read as a DataFrame when asked for."""

    def __init__(self, db_path: str) -> None:
        self._db = db_path

    def _names(self) -> list[str]:
        return [
            n
            for n in table_names(self._db)
            if n not in OWN_TABLES and not n.startswith(STAGE_PREFIX)
        ]

    def __getitem__(self, name: str) -> pd.DataFrame:
        names = self._names()
        if name not in names:
            raise NoSuchTable(f"no table {name!r}; tables: {', '.join(names) or 'none'}")
        return read_table(self._db, f"SELECT * FROM {quote_identifier(name)}")

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def __repr__(self) -> str:
        return f"Tables({self._names()})"


def errors_html(errors: list[TaskError], limit: int = 5) -> str:
    """Collapsible `<details>` per error: the message, and the traceback when opened."""
    return "".join(
        f"<details><summary>task {html.escape(str(e.task_id))} ({html.escape(e.name)}): "
        f"{html.escape(e.message)}</summary><pre>{html.escape(e.traceback or '')}</pre></details>"
        for e in errors[:limit]
    )


class RunResult:
    """One run's outcome: counts, elapsed, errors, and its rows as DataFrames."""

    def __init__(self, summary: RunSummary) -> None:
        self.summary = summary
        """The engine's `RunSummary`; its facts are also attributes here."""
        self.run_id = summary.run_id
        """The run's id in `pipeline_runs` and `task_runs.run_id`."""
        self.name = summary.name
        """The run's name (what `resume=True` matches)."""
        self.db_path = summary.db_path
        """The database file."""
        self.status = summary.status
        """done, error, cancelled or failed."""
        self.counts = summary.counts
        """Tasks per final status."""
        self.total = summary.total
        """Tasks in the run."""
        self.elapsed = summary.elapsed
        """Wall-clock seconds."""
        self.messages = summary.messages
        """Messages the writer applied."""
        self.workers = summary.workers
        """Workers the run used."""
        self.tables = Tables(summary.db_path)
        """Your tables (mapping of name to DataFrame, read when asked for)."""

    @property
    def ok(self) -> bool:
        """True when every task is done."""
        return self.summary.ok

    @property
    def tasks_per_second(self) -> float:
        """Finished tasks per second."""
        return self.summary.tasks_per_second

    @property
    def task_runs(self) -> pd.DataFrame:
        """This run's tasks (timestamps as datetime64, progress as float)."""
        df = read_sql(
            self.summary.db_path,
            "SELECT * FROM task_runs WHERE run_id = ? ORDER BY rowid",
            (self.run_id,),
        )
        return tidy_task_runs(df)

    @property
    def errors(self) -> pd.DataFrame:
        """Failed tasks with their message and traceback."""
        rows = [(e.task_id, e.name, e.message, e.traceback) for e in self.summary.errors]
        return pd.DataFrame(rows, columns=["task_id", "name", "message", "traceback"])

    def timeline(self) -> Timeline:
        """This run's timeline: tasks by worker, coloured by status, and throughput."""
        return timeline(self.db_path, self.run_id)

    def __repr__(self) -> str:
        return f"<RunResult {self.summary}>"

    def _repr_html_(self) -> str:
        s = self.summary
        colour = "#2e7d32" if s.ok else "#c62828"
        counts = " · ".join(f"{k} <b>{v}</b>" for k, v in sorted(s.counts.items()) if v)
        errors = errors_html(s.errors)
        return (
            f"<div class='pipeloom-result'><span style='color:{colour};font-weight:bold'>"
            f"run {s.run_id} {html.escape(s.status)}</span> — {html.escape(s.name)}<br>"
            f"{s.total} tasks: {counts or 'none'} · {s.elapsed:.2f}s · "
            f"{s.tasks_per_second:,.1f} tasks/s{errors}</div>"
        )
