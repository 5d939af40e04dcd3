"""A run's life once its writer is open: drive the runner, then close, whatever happens.

Closing is where data could be lost, so it runs with Ctrl-C deferred (`DeferredInterrupts`):
every message handed over is committed, the run is recorded, and only then does a
Ctrl-C received meanwhile propagate. A run cancelled (Stop, Ctrl-C) gives tasks in flight
`cancel_grace` seconds; the writer applies its backlog until the same deadline, then
records the tasks whose messages it could not apply `cancelled`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..core.clock import utc_now
from ..core.control import WRITER_STOP, RunClosing, TasksCancelled
from ..core.queue import MessageQueue
from ..core.status import RunStatus, TaskStatus
from ..core.summary import RunSummary
from ..errors import ConfigError, WriterError
from ..progress.display import Display, in_notebook
from ..progress.snapshot import RunStats
from ..progress.ticker import Ticker
from ..store.writer import SQLiteWriter
from .interrupts import DeferredInterrupts, run_interrupted

__all__ = ["Run", "drive", "open_run"]

LOG = logging.getLogger("pipeloom.engine")


@dataclass
class Run:
    """One run's moving parts."""

    q: MessageQueue
    stats: RunStats
    writer: SQLiteWriter
    display: Display
    ticker: Ticker
    name: str
    db_path: str
    workers: int
    feed: Any = None
    """The run's `TaskFeed` (tasks added while it runs are counted there)."""
    interrupted: bool = field(default=False)
    """A Ctrl-C arrived: `KeyboardInterrupt` is raised once the run is closed."""


def open_run(
    writer: SQLiteWriter,
    display: Display,
    name: str,
    workers: int,
    feed: Callable[[], Any] | None = None,
) -> Run:
    """Start the writer; return once the database is open and the run recorded.

    Ctrl-C meanwhile (the writer may wait for another process's lock) records the run
    `cancelled` once it is open, with every task of a collection `cancelled` (`feed()`
    makes the run's `TaskFeed`; an iterator's tasks are not read), and propagates.
    """
    try:
        writer.start()  # inside: a Ctrl-C while the thread starts is one as it waits
        while not writer.ready.wait(0.1):
            pass
    except KeyboardInterrupt:
        writer.cancel_run()
        _wait_for_ready(writer)
        if feed is not None and writer.error is None:
            _cancel_all(writer.msg_q, feed())
        writer.msg_q.put(WRITER_STOP)
        _wait_for_writer(writer)
        raise
    if writer.error is not None:
        _wait_for_writer(writer)
        err = writer.error
        if isinstance(err, ConfigError | WriterError):
            raise type(err)(str(err)) from err
        raise ConfigError(f"cannot open database {str(writer.db_path)!r}: {err}") from err
    ticker = Ticker(display, writer.stats)
    db_text = str(writer.db_path)
    return Run(writer.msg_q, writer.stats, writer, display, ticker, name, db_text, workers)


def drive(run: Run, runner: Any, grace: float) -> RunSummary:
    """Run the tasks to the end, a cancel, Ctrl-C or a writer failure; always close the run."""
    early = False  # the run must end before its tasks do: a cancel, Ctrl-C, the writer's end
    run.stats.watch(runner.in_flight, getattr(getattr(runner, "policy", None), "retries", 0))
    try:
        run.display.start(
            run.stats.snapshot(), name=run.name, workers=run.workers, cancel=run.q.cancelled
        )
        run.ticker.start()
        if runner.blocking:
            runner.run_here()
            early = run.q.cancelled.is_set() or run.writer.error is not None
        else:
            runner.start()
            early = _wait(run, runner)
    except KeyboardInterrupt:
        run.interrupted = early = True
        if not in_notebook():  # a notebook shows the run's end, and the exception says it
            LOG.warning("interrupted: cancelling tasks not yet started")
    finally:
        summary = _close(run, runner, early, grace)
    if run.interrupted:
        raise _interrupted(summary)
    if run.writer.error is not None:
        raise WriterError(f"the writer failed: {run.writer.error}") from run.writer.error
    source_error = getattr(runner.feed, "error", None)
    if source_error is not None:
        raise source_error  # recorded as a run-level error: the run took no more tasks
    return summary


def _interrupted(summary: RunSummary) -> KeyboardInterrupt:
    """`KeyboardInterrupt: run 7 cancelled by Interrupt: 120 done, 280 cancelled`."""
    return run_interrupted(
        f"run {summary.run_id} cancelled by Interrupt: {summary.done:,} done, "
        f"{summary.cancelled:,} cancelled",
        summary,
    )


def _wait(run: Run, runner: Any) -> bool:
    """Block until the runner ends; True if the run must end early: cancelled, or the
    writer failed or closed.

    The display does the waiting (a notebook's handles clicks on its Stop button meanwhile).
    """
    wait, finished, writer = run.display.wait, runner.finished, run.writer
    while not finished.is_set():
        wait(0.05, finished)
        if run.q.cancelled.is_set() or writer.error is not None or writer.closed.is_set():
            return True
    return run.q.cancelled.is_set()


def _close(run: Run, runner: Any, early: bool, grace: float) -> RunSummary:
    """Stop the runner, let the writer finish, record the run; Ctrl-C meanwhile is deferred."""

    def on_interrupt(count: int) -> None:
        run.interrupted = True
        run.writer.cancel_run()
        LOG.warning("interrupted (%d): finishing writing before stopping", count)

    with DeferredInterrupts(on_interrupt) as interrupts:
        if run.interrupted:
            run.writer.cancel_run()
        if early:
            _cancel(run, runner, grace, interrupts)
        if run.writer.error is None and not run.writer.closed.is_set():
            facts = tuple(_facts(run).items())
            run.q.put(RunClosing(RunStatus.CANCELLED if early else None, facts))
            run.q.put(WRITER_STOP)
        run.q.close()  # what a straggler puts from now on would not be read: it raises RunEnded
        _wait_for_writer(run.writer)
        run.ticker.stop()
        return _summarize(run)


def _cancel(run: Run, runner: Any, grace: float, interrupts: DeferredInterrupts) -> None:
    """Take back the tasks not started; give those in flight `grace` seconds."""
    q, writer = run.q, run.writer
    started = time.monotonic()
    q.cancelled.set()
    writer.give_up_backlog_at(started + grace)
    leftover = [item.task_id for item in runner.not_started()]
    while not runner.finished.is_set() and time.monotonic() - started < grace:
        if interrupts.event.wait(min(0.05, grace)):
            break  # a Ctrl-C during the grace period: stop waiting for tasks in flight
    if not runner.join(0):
        stuck = list(runner.in_flight)
        leftover += stuck
        LOG.warning(
            "%d task(s) still running after %.1fs; recorded as cancelled",
            len(stuck),
            time.monotonic() - started,
        )
    if leftover and writer.error is None:
        q.put(TasksCancelled(tuple(leftover), utc_now()))


def _wait_for_ready(writer: SQLiteWriter) -> None:
    """Wait until the writer has opened the database or failed to (it may wait for a lock)."""
    while not writer.ready.wait(0.1):
        if writer.ident is None:
            return  # never started


def _cancel_all(q: MessageQueue, feed: Any) -> None:
    """Register a collection's tasks, none of them started, and record them `cancelled`."""
    ids = tuple(item.task_id for item in feed.rest())
    if ids:
        q.put(TasksCancelled(ids, utc_now()))


def _wait_for_writer(writer: SQLiteWriter) -> None:
    """Wait until the writer has committed and closed (an Event: Ctrl-C cannot fool it)."""
    while not writer.closed.wait(0.1):
        if not writer.is_alive() and not writer.closed.is_set() and writer.ident is None:
            return  # never started


def _facts(run: Run) -> dict[str, int]:
    """What the run's throttle counted: push-backs obeyed, attempts timed out, abandoned."""
    limiter = run.q.limiter
    facts = {} if limiter is None else limiter.facts()
    repeated = getattr(run.feed, "repeated", 0)
    if repeated:
        facts["repeated"] = repeated
    return facts


def _warn_abandoned(facts: dict[str, int]) -> None:
    still = sum(t.is_alive() for t in threading.enumerate() if t.name == "pipeloom-attempt")
    if facts.get("abandoned"):
        LOG.warning(
            "%d timed-out attempt(s) were left running in their threads (%d still running "
            "in this process); their messages are ignored",
            facts["abandoned"],
            still,
        )


def _summarize(run: Run) -> RunSummary:
    writer = run.writer
    facts = _facts(run)
    _warn_abandoned(facts)
    snap = run.stats.snapshot()
    counts = {
        k: v
        for k, v in snap.counts.items()
        if k not in (TaskStatus.RUNNING, TaskStatus.QUEUED) and v
    }
    summary = RunSummary(
        run_id=writer.run_id,
        name=run.name,
        db_path=run.db_path,
        status=writer.status or RunStatus.FAILED,
        total=snap.total,
        counts=counts,
        elapsed=snap.elapsed,
        messages=snap.messages,
        errors=snap.errors,
        workers=run.workers,
        throttled=facts.get("throttled", 0),
        timed_out=facts.get("timed_out", 0),
        abandoned=facts.get("abandoned", 0),
        repeated=facts.get("repeated", 0),
    )
    run.display.finish(snap, summary)
    if snap.errors and not in_notebook():  # in a notebook, the display and the result say it
        LOG.warning(
            "run %s (%s): %d error(s), the first: %s",
            summary.run_id,
            summary.name,
            len(snap.errors),
            snap.errors[0].message,
        )
    return summary
