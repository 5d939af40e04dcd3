"""The `pipeloom` command: demo, run, status, timeline, init-db."""

from __future__ import annotations

import contextlib
import importlib
import json
import shutil
import sqlite3
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from ..demo import demo_tasks
from ..errors import PipelineError
from ..rlog import setup_logging
from ..run.engine import run_pipeline
from ..store import connection
from ..store.tables import init_schema
from . import status as status_mod

app = typer.Typer(
    help="Threaded pipelines with one SQLite writer.", no_args_is_help=True, add_completion=False
)

DbOpt = Annotated[Path, typer.Option("--db", help="SQLite database file.")]


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@app.command()
def demo(
    db: DbOpt = Path("pipeloom.db"),
    num_tasks: Annotated[int, typer.Option("-n", "--num-tasks", help="Tasks to run.")] = 10,
    workers: Annotated[int, typer.Option("-w", "--workers", help="Worker threads.")] = 4,
    steps: Annotated[int, typer.Option("--steps", help="Progress steps per task.")] = 20,
    verbose: Annotated[int, typer.Option("-v", "--verbose", count=True)] = 0,
    log_file: Annotated[Path | None, typer.Option("-l", "--log-file")] = None,
    store_task_status: Annotated[
        bool, typer.Option("-s/-S", "--store-task-status/--no-store-task-status")
    ] = True,
    no_wal: Annotated[bool, typer.Option("--no-wal", help="Use DELETE journaling.")] = False,
) -> None:
    """Run the demo pipeline and print a summary."""
    setup_logging(verbose, log_file)
    summary = _run(
        db,
        demo_tasks(num_tasks, steps),
        workers=workers,
        wal=not no_wal,
        store_task_status=store_task_status,
        name="demo",
    )
    _print_summary(summary)


@app.command("run")
def run_cmd(
    target: Annotated[str, typer.Argument(help="module:function that returns tasks, or a worker")],
    db: DbOpt = Path("pipeloom.db"),
    workers: Annotated[int, typer.Option("-w", "--workers")] = 4,
    arg: Annotated[list[str], typer.Option("--arg", help="k=v passed to the function.")] = [],  # noqa: B006
    verbose: Annotated[int, typer.Option("-v", "--verbose", count=True)] = 0,
    retries: Annotated[int, typer.Option("--retries")] = 0,
    resume: Annotated[bool, typer.Option("--resume", help="Skip tasks done before.")] = False,
) -> None:
    """Run `module:function(**args)`, which returns a dict of run_pipeline arguments.

    The function returns at least `tasks` and `worker_fn`; `handlers` and `schema` too if needed.
    """
    setup_logging(verbose)
    spec = _call_target(target, _parse_args(arg))
    spec.setdefault("name", target)
    summary = _run(db, spec.pop("tasks"), workers=workers, retries=retries, resume=resume, **spec)
    _print_summary(summary)
    if not summary.ok:
        raise typer.Exit(1)


@app.command()
def status(
    db: DbOpt = Path("pipeloom.db"),
    n: Annotated[int, typer.Option("-n", help="How many recent runs.")] = 10,
    fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    watch: Annotated[
        bool, typer.Option("--watch", help="Redraw every second, with rate and ETA; Ctrl-C ends.")
    ] = False,
) -> None:
    """Show recent runs and their task counts (a running run with its rate and ETA)."""
    if fmt not in ("table", "json"):
        _fail(f"--format must be table or json, not {fmt!r}")
    if fmt == "json":
        typer.echo(json.dumps(_recent_runs(db, n), indent=2))
    elif watch:
        with contextlib.suppress(KeyboardInterrupt):
            status_mod.watch(lambda: _recent_runs(db, n), _sized_console())
    else:
        console = _sized_console()
        console.print(status_mod.status_view(_recent_runs(db, n), console.width))


@app.command("timeline")
def timeline_cmd(
    db: DbOpt = Path("pipeloom.db"),
    run: Annotated[int | None, typer.Option("--run", help="Run id (default: the latest).")] = None,
    out: Annotated[Path, typer.Option("-o", "--out", help="run.png, run.svg or run.html")] = Path(
        "timeline.png"
    ),
    width: Annotated[int, typer.Option("--width", help="Width in pixels.")] = 1000,
) -> None:
    """Draw a run's timeline (tasks by worker, retries, throughput) to a file."""
    from ..timeline import timeline

    try:
        chart = timeline(db, run, width_px=width)
        chart.save(out)
    except (PipelineError, ImportError, ValueError) as exc:
        _fail(str(exc))
    except sqlite3.Error as exc:
        _fail(str(connection.read_failed(db, exc)))
    d = chart.data
    typer.echo(f"wrote {out}: run {d.run_id} ({d.name}), {len(d.tasks):,} tasks, {d.span:.2f} s")


@app.command("init-db")
def init_db(db: DbOpt = Path("pipeloom.db"), no_wal: bool = False) -> None:
    """Create pipeloom's tables in a database."""
    try:
        conn = connection.connect(db, wal=not no_wal)
    except PipelineError as exc:
        _fail(str(exc))
    try:
        init_schema(conn, store_task_status=True)
    except (sqlite3.Error, PipelineError) as exc:
        _fail(f"cannot initialise {db}: {exc}")
    finally:
        conn.close()
    typer.echo(f"initialised {db}")


def _run(db: Path, tasks: Any, **kw: Any):
    try:
        return run_pipeline(db, tasks, progress="auto", **kw)
    except PipelineError as exc:
        _fail(str(exc))


def _parse_args(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            _fail(f"--arg takes key=value, not {pair!r}")
        out[key] = value
    return out


def _call_target(target: str, kwargs: dict[str, str]) -> dict[str, Any]:
    module, sep, attr = target.partition(":")
    if not sep:
        _fail(f"target must be module:function, not {target!r}")
    sys.path.insert(0, str(Path.cwd()))
    try:
        fn = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        _fail(f"cannot load {target!r}: {exc}")
    spec = fn(**kwargs)
    if not isinstance(spec, dict) or "tasks" not in spec or "worker_fn" not in spec:
        _fail(f"{target} must return a dict with 'tasks' and 'worker_fn'")
    return spec


def _sized_console() -> Console:
    """Standard output (results; diagnostics go to stderr), at the terminal's width
    (COLUMNS first, as shutil reads it)."""
    return Console(width=shutil.get_terminal_size().columns)


def _recent_runs(db: Path, n: int) -> list[dict[str, Any]]:
    try:
        return status_mod.recent_runs(db, n)
    except PipelineError as exc:
        _fail(str(exc))


def _print_summary(summary: Any) -> None:
    typer.secho(str(summary), fg="green" if summary.ok else "red")
    for err in summary.errors[:5]:
        typer.echo(f"  task {err.task_id} ({err.name}): {err.message}")


def main() -> None:
    """Entry point of the `pipeloom` command."""
    app()
