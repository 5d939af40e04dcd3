"""What a notebook run hands back: the summary plus its tables as DataFrames."""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping

import pandas as pd

from pipeloom.core.summary import RunSummary
from pipeloom.errors import NoSuchTable
from pipeloom.progress.snapshot import StatsSnapshot
from pipeloom.progress.words import duration, outcome_text
from pipeloom.store.connection import quote_identifier
from pipeloom.store.loads import STAGE_PREFIX
from pipeloom.store.tables import OWN_TABLES
from pipeloom.timeline import Timeline, timeline

from .reading import read_sql, read_table, table_names
from .render import errors_block, errors_html, progress_html
from .render.view import OUTCOME_COLOURS

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


class RunResult:
    """One run's outcome: counts, elapsed, errors, and its rows as DataFrames."""

    def __init__(self, summary: RunSummary, shown: bool = False) -> None:
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
        self.shown = shown
        """True when the run's display keeps its final state, errors included, in view: then
        this result, shown after it, says only the outcome."""

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
        if self.shown:
            return self._outcome_html()
        s = self.summary
        view = progress_html(_final(s), f"run {s.run_id} · {s.name}", 0, s.status)
        errors = errors_block(s.errors) if s.errors else ""
        return f"<div class='pipeloom-result'>{view}{errors}</div>"

    def _outcome_html(self) -> str:
        """One line, under a display that shows the rest: how the run ended, how fast."""
        s = self.summary
        colour = OUTCOME_COLOURS.get(s.status, "inherit")
        errors = (
            " · its errors are listed above (all of them: <code>result.errors</code>)"
            if s.errors
            else ""
        )
        return (
            f"<div class='pipeloom-result'><span style='color:{colour};font-weight:bold'>"
            f"run {s.run_id} {html.escape(outcome_text(s.status, _final(s)))}</span> — "
            f"{html.escape(s.name)} · {duration(s.elapsed)} · {s.tasks_per_second:,.1f} "
            f"tasks/s{errors}</div>"
        )


def _final(s: RunSummary) -> StatsSnapshot:
    """The summary as the final snapshot a display would draw."""
    return StatsSnapshot(s.total, s.counts, [], s.errors, s.elapsed, s.messages, finished=True)
