"""Opening a run, in the writer's first write transaction: tables, schema, orphans, run row.

All of it lands in one transaction or none of it does: a `schema=` that fails leaves the
file as it was, and a run is recorded only once its tables exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from ..errors import ConfigError, PipelineError
from . import record
from .connection import WriterConnection
from .guard import run_guarded
from .handlers import Schema, apply_schema
from .owner import close_orphans, this_process
from .stages import drop_stages_of
from .tables import has_table, init_schema

__all__ = ["OpenedRun", "open_run"]


class OpenedRun(NamedTuple):
    """What opening a run found and made."""

    run_id: int
    skipped_ids: frozenset
    """With `resume=True`: ids `done` in the latest refresh of the same name, or its resumes."""
    interrupted_runs: list[int]
    """Runs of dead processes marked `interrupted`."""
    resumed_from: int | None = None
    """With `resume=True`: the refresh this run continues (None: nothing to continue)."""
    to_recreate: tuple[tuple[Any, str], ...] = ()
    """With `resume=True`: (parent, definition) of the tasks added there."""


def open_run(
    conn: WriterConnection,
    name: str,
    workers: int | None,
    params: Mapping[str, Any],
    *,
    store_task_status: bool,
    schema: Schema | None,
    resume: bool,
) -> OpenedRun:
    """Create the tables, apply `schema`, close orphaned runs and record this one."""
    init_schema(conn, store_task_status=store_task_status)
    apply_user_schema(conn, schema)
    interrupted = close_orphans(conn, has_table(conn, "task_runs"))
    drop_stages_of(conn, interrupted)
    since = record.latest_refresh(conn, name) if resume and store_task_status else None
    run_id = record.insert_run(conn, name, workers, params, this_process(), since)
    if since is None:
        return OpenedRun(run_id, frozenset(), interrupted)
    skipped = record.done_before(conn, name, since, run_id)
    added = record.added_in_refresh(conn, name, since, run_id)
    return OpenedRun(run_id, skipped, interrupted, since, tuple(added))


def apply_user_schema(conn: WriterConnection, schema: Schema | None) -> None:
    """`schema=` as user code (it cannot commit); ConfigError if any of it fails."""
    failure = run_guarded(conn, lambda: apply_schema(conn, schema), "schema=")
    if isinstance(failure, PipelineError):
        raise failure
    if failure is not None:
        raise ConfigError(f"schema= failed: {type(failure).__name__}: {failure}") from failure
