"""Two runs side by side (`RunComparison`) and one task across runs (`task_history`)."""

from __future__ import annotations

import html

import pandas as pd

from pipeloom.errors import ConfigError
from pipeloom.timeline.load import parse_times

from .reading import read_sql, table_names

__all__ = ["RunComparison", "compare_runs", "task_history"]

_TASKS = (
    "SELECT id AS task_id, name, status, attempts, started_at, finished_at, {parent} "
    "FROM task_runs WHERE run_id = ?"
)
_ATTEMPTS = """
SELECT a.run_id, p.name AS run_name, a.attempt, a.outcome AS status, a.worker,
       a.started_at, a.finished_at, a.error,
       (SELECT {parent} FROM task_runs t WHERE t.run_id = a.run_id AND t.id = a.task_id)
         AS parent_id
FROM task_attempts a JOIN pipeline_runs p USING (run_id) WHERE a.task_id = ?
"""
_SINGLE = """
SELECT t.run_id, p.name AS run_name, t.attempts AS attempt, t.status, t.worker,
       t.started_at, t.finished_at, t.error, {parent}
FROM task_runs t JOIN pipeline_runs p USING (run_id) WHERE t.id = ? {unless}
"""


def _parent(db_path: str) -> str:
    """`parent_id` (the task that added this one), or NULL in a file from before it existed."""
    cols = set(read_sql(db_path, "SELECT name FROM pragma_table_info('task_runs')")["name"])
    return "parent_id" if "parent_id" in cols else "NULL AS parent_id"


_NOT_RETRIED = (
    "AND NOT EXISTS (SELECT 1 FROM task_attempts a WHERE a.run_id = t.run_id AND a.task_id = t.id)"
)


def _duration(df: pd.DataFrame) -> pd.Series:
    return (df["finished_at"] - df["started_at"]).dt.total_seconds()


def _run_tasks(db_path: str, run_id: int) -> pd.DataFrame:
    df = parse_times(read_sql(db_path, _TASKS.format(parent=_parent(db_path)), (run_id,)))
    df["duration_s"] = _duration(df)
    return df.drop(columns=["started_at", "finished_at"])


_OK = ("done", "skipped")  # skipped: done in an earlier run (resume=True)


def _change(row: pd.Series) -> str:
    a_ok, b_ok = row["status_a"] in _OK, row["status_b"] in _OK
    if a_ok and not b_ok:
        return "newly failing"
    if b_ok and not a_ok:
        return "newly fixed"
    return "same status"


def _check_runs(db_path: str, *run_ids: int) -> None:
    """ConfigError naming the runs not in the database (a comparison with one would be empty)."""
    marks = ", ".join("?" * len(run_ids))
    sql = f"SELECT run_id FROM pipeline_runs WHERE run_id IN ({marks})"
    found = set(read_sql(db_path, sql, run_ids)["run_id"])
    missing = [r for r in run_ids if r not in found]
    if missing:
        names = " and ".join(f"run {r!r}" for r in missing)
        raise ConfigError(f"no {names} in {db_path} (see loom.runs())")


def compare_runs(db_path: str, run_a: int, run_b: int) -> RunComparison:
    """The tasks in both runs, matched by task id, and those only one of them has."""
    _check_runs(db_path, run_a, run_b)
    a, b = _run_tasks(db_path, run_a), _run_tasks(db_path, run_b)
    both = a.merge(b.drop(columns=["name"]), on="task_id", suffixes=("_a", "_b"))
    both["delta_s"] = both["duration_s_b"] - both["duration_s_a"]
    both["ratio"] = both["duration_s_b"] / both["duration_s_a"]
    both["change"] = both.apply(_change, axis=1) if len(both) else pd.Series(dtype=object)
    return RunComparison(run_a, run_b, both, added=_only_in(b, a), removed=_only_in(a, b))


def _only_in(run: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """The tasks of `run` that `other` does not have."""
    return run[~run["task_id"].isin(other["task_id"])].reset_index(drop=True)


def _or_empty(df: pd.DataFrame | None) -> pd.DataFrame:
    """`df`, or no task."""
    columns = ["task_id", "name", "status", "attempts", "duration_s"]
    return pd.DataFrame(columns=columns) if df is None else df


class RunComparison:
    """Run `b` against run `a`: shared tasks, what broke, was fixed, slowed, came or went."""

    def __init__(
        self,
        run_a: int,
        run_b: int,
        tasks: pd.DataFrame,
        added: pd.DataFrame | None = None,
        removed: pd.DataFrame | None = None,
    ) -> None:
        self.run_a, self.run_b = run_a, run_b
        self.tasks = tasks
        """Tasks in both runs: status, attempts and duration_s in each, delta_s, ratio, change."""
        self.added = _or_empty(added)
        """Tasks only in run b: task_id, name, status, attempts, duration_s."""
        self.removed = _or_empty(removed)
        """Tasks only in run a: task_id, name, status, attempts, duration_s."""

    @property
    def newly_failing(self) -> pd.DataFrame:
        """Tasks done in run a and not in run b."""
        return self.tasks[self.tasks["change"] == "newly failing"]

    @property
    def newly_fixed(self) -> pd.DataFrame:
        """Tasks done in run b and not in run a."""
        return self.tasks[self.tasks["change"] == "newly fixed"]

    def regressions(self, n: int = 10) -> pd.DataFrame:
        """The `n` tasks done in both runs that slowed down most (seconds added)."""
        done = self.tasks[(self.tasks["status_a"] == "done") & (self.tasks["status_b"] == "done")]
        return done[done["delta_s"] > 0].nlargest(n, "delta_s")

    @property
    def summary(self) -> str:
        """One line: shared tasks, newly failing, newly fixed, added, removed, total seconds."""
        t = self.tasks
        return (
            f"run {self.run_b} vs run {self.run_a}: {len(t):,} tasks in both, "
            f"{len(self.newly_failing):,} newly failing, {len(self.newly_fixed):,} newly fixed, "
            f"{len(self.added):,} added, {len(self.removed):,} removed, "
            f"task time {t['duration_s_a'].sum():.2f}s -> {t['duration_s_b'].sum():.2f}s"
        )

    def _repr_html_(self) -> str:
        parts = [f"<b>{html.escape(self.summary)}</b>"]
        both = ["task_id", "name", "status_a", "status_b", "duration_s_a", "duration_s_b"]
        one = ["task_id", "name", "status", "duration_s"]
        for title, df, cols in (
            ("newly failing", self.newly_failing.head(10), both),
            ("newly fixed", self.newly_fixed.head(10), both),
            ("slowest regressions", self.regressions(5), both),
            (f"added (only in run {self.run_b})", self.added.head(10), one),
            (f"removed (only in run {self.run_a})", self.removed.head(10), one),
        ):
            if len(df):
                parts.append(
                    f"<p>{html.escape(title)}</p>"
                    f"{df[cols].to_html(index=False, float_format='%.3f')}"
                )
        return f"<div class='pipeloom-compare'>{''.join(parts)}</div>"

    def __repr__(self) -> str:
        return f"<RunComparison {self.summary}>"


def task_history(db_path: str, task_id: object) -> pd.DataFrame:
    """Every run and attempt of one task, oldest first, with its duration in seconds."""
    parent = _parent(db_path)
    if "task_attempts" in table_names(db_path):
        attempts = _ATTEMPTS.format(parent=parent.split()[0])
        sql = f"{attempts} UNION ALL {_SINGLE.format(unless=_NOT_RETRIED, parent=parent)}"
        params: tuple = (task_id, task_id)
    else:
        sql, params = _SINGLE.format(unless="", parent=parent), (task_id,)
    df = parse_times(read_sql(db_path, f"{sql} ORDER BY run_id, attempt", params))
    df["duration_s"] = _duration(df)
    return df
