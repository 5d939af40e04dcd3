"""The task state machine: each task's row, its status transitions, the run's counts.

Pure bookkeeping, no thread and no database: the writer feeds it messages in order and
writes the rows it marks dirty. Tests drive it directly. Text from messages is made
storable here (`text.storable`), so one bad string never fails a batch.
"""

from __future__ import annotations

from typing import Any

from ..core.clock import iso_ns
from ..core.control import AddRefused, SourceFailed, TaskClosed, TasksCancelled
from ..core.messages import MsgTaskFinished, MsgTaskProgress, MsgTaskStarted
from ..core.status import FINISHED, TERMINAL, TaskStatus
from ..core.summary import TaskError
from ..progress.snapshot import RunStats
from .roll import TaskRoll
from .task_row import TaskState, attempt_row
from .text import storable

__all__ = ["TaskBook", "TaskState"]

# The TaskBook keeps each status as the plain text SQLite stores (`TaskStatus.DONE.value`):
# sqlite3 binds a str subclass through its adapter lookup, a cost paid on every row written,
# and a global is read ten times faster than an enum member. Both compare equal to members.
QUEUED, RUNNING, DONE = TaskStatus.QUEUED.value, TaskStatus.RUNNING.value, TaskStatus.DONE.value
ERROR, CANCELLED = TaskStatus.ERROR.value, TaskStatus.CANCELLED.value
SKIPPED = TaskStatus.SKIPPED.value

UNFINISHED = "the run ended before this task finished"


class TaskBook(TaskRoll):
    """The run's tasks in hand, moved from status to status by the messages applied to them.

    Counts, tasks in flight and errors are kept in `stats` (read by the display); rows
    changed since the last `take_dirty()` are returned by it, to be written in one go.
    Once the run's tasks are known (`add()`, or `expect()` then `register()` as they are
    taken), a message for any other id is a run-level error; a book never given its tasks
    (a stand-alone writer) adds a task when its first message arrives.

    Memory stays bounded by the tasks in hand, not the run's size: once a task is closed
    (its last attempt ended, or it was cancelled or skipped) and its row committed,
    `forget_closed()` drops its state. A later message for it (from a thread its worker
    left running) is ignored: its row stays as written. A failing handler or a dropped
    message of such a task is a run-level error instead, so no failure goes unseen.
    """

    def __init__(self, stats: RunStats | None = None) -> None:
        super().__init__(stats if stats is not None else RunStats())
        self._written: list[TaskState] = []
        self.attempt_rows: list[tuple] = []
        """Attempts of tasks that failed at least once, not yet written."""
        self._unknown: set[str] = set()

    def add_refused(self, m: AddRefused) -> None:
        """A task's `AddTasks` was refused: that task is `error`."""
        self.handler_failed(m.task_id, f"AddTasks: {m.error}", None)

    def source_failed(self, m: SourceFailed) -> None:
        """Taking the next task failed: the run took no more (a run-level error)."""
        self.run_error("tasks", m.error, m.traceback)

    def take_dirty(self) -> list[TaskState]:
        """The rows changed since the last call."""
        dirty, self._dirty = self._dirty, {}
        rows = list(dirty.values())
        self._written += [st for st in rows if st.closed]
        return rows

    def forget_closed(self) -> int:
        """Drop closed tasks whose rows `take_dirty` returned (call once they are committed)."""
        tasks, written, self._written = self.tasks, self._written, []
        if self.known is None:
            return 0  # a stand-alone writer: a later message would make the task anew
        n = 0
        for st in written:
            if tasks.get(st.task_id) is st and st.task_id not in self._dirty:
                del tasks[st.task_id]
                n += 1
        return n

    def state(self, task_id: Any, name: str | None = None, what: str = "a message") -> TaskState:
        """The task's state, marked dirty; LookupError for an id that cannot be in the run."""
        try:
            st = self.tasks.get(task_id)
        except TypeError:
            raise LookupError(f"{what} has a task id that is not hashable: {task_id!r}") from None
        if st is None:
            if self.known is not None:
                raise LookupError(f"{what} is for task id {task_id!r}, which is not in this run")
            st = self._new(task_id, name)
        self._dirty[task_id] = st
        return st

    def _new(self, task_id: Any, name: str | None) -> TaskState:
        st = TaskState(task_id, storable(name if name is not None else task_id), RUNNING)
        self.tasks[task_id] = st
        self.stats.counts[RUNNING] += 1
        self.stats.total += 1
        self.stats.in_flight[task_id] = st
        return st

    def find(self, task_id: Any, name: str | None, what: str) -> TaskState | None:
        """`state()`; None for a closed task, or after a run-level error (once per unknown id)."""
        try:
            st = self.tasks.get(task_id)  # a task in hand: nearly every message
        except TypeError:
            st = None
        if st is not None:
            self._dirty[task_id] = st
            return st
        if self.is_closed(task_id):
            return None
        try:
            return self.state(task_id, name, what)
        except LookupError as exc:
            self.protocol_error(str(exc), key=repr(task_id))
            return None

    def protocol_error(self, text: str, key: str | None = None) -> None:
        """A run-level error: a message that breaks the protocol (recorded once per key)."""
        if key is not None:
            if key in self._unknown:
                return
            self._unknown.add(key)
        self.run_error("protocol", text, None)

    def all_done(self) -> bool:
        """True when every task is `done` (or skipped as done before) and nothing failed."""
        counts = self.stats.counts
        finished = counts.get(DONE, 0) + counts.get(SKIPPED, 0)
        return finished == self.stats.total and not self.stats.errors

    def run_error(self, name: str, text: str, tb: str | None) -> None:
        """An error of the run, not of one task (the run's status becomes `error`)."""
        self.stats.add_error(TaskError(None, storable(name), storable(text), storable(tb)))

    def set_status(self, st: TaskState, status: str) -> None:
        """Move a task to `status`, keeping the counts and the tasks in flight."""
        if st.status == status:
            return
        counts = self.stats.counts
        counts[st.status] -= 1
        counts[status] += 1
        st.status = status
        if status == RUNNING:
            self.stats.in_flight[st.task_id] = st
        elif status in TERMINAL:
            self.stats.in_flight.pop(st.task_id, None)

    def started(self, m: MsgTaskStarted) -> None:
        """The worker says it began."""
        st = self.find(m.task_id, m.name, "MsgTaskStarted")
        if st is None:
            return
        st.name = storable(m.name)
        st.started_at = storable(m.started_at)
        if st.status not in TERMINAL:
            self.set_status(st, RUNNING)

    def progress(self, m: MsgTaskProgress) -> None:
        """The worker reports a step."""
        st = self.find(m.task_id, None, "MsgTaskProgress")
        if st is None or st.status in TERMINAL:
            return  # after its end, a task's record no longer changes
        st.progress = float(m.step / m.total) if m.total > 0 else 0.0
        st.message = storable(m.message)
        if st.status == QUEUED:
            self.set_status(st, RUNNING)

    def finished(self, m: MsgTaskFinished) -> None:
        """The worker says it ended, with a status."""
        st = self.find(m.task_id, None, "MsgTaskFinished")
        if st is None:
            return
        st.finished_at = storable(m.finished_at)
        st.result = storable(m.result)
        if st.final:
            return
        if m.status not in FINISHED:
            text = f"MsgTaskFinished has status {m.status!r}; expected one of {FINISHED}"
            self.fail(st, text, None)
            return
        st.message = storable(m.message)
        if m.status == DONE:
            st.progress = 1.0
        if m.traceback:
            st.error = storable(m.traceback)
        if m.status == ERROR:
            self.record_error(st, st.message, st.error)
        self.set_status(st, m.status)

    def closed(self, m: TaskClosed) -> None:
        """The worker function returned or raised: close the task unless the worker did."""
        st = self.find(m.task_id, m.name, "TaskClosed")
        if st is None:
            return
        st.attempts += 1
        st.worker = storable(m.worker) or None
        if st.started_at is None:
            st.started_at = iso_ns(m.started_ns)
        if m.error is not None or st.attempts > 1:
            self.attempt_rows.append(attempt_row(st, m))
        st.closed = not m.retrying
        if m.retrying:
            st.error = storable(m.traceback)
            st.message = storable(f"retrying after {m.error}")
            if st.status == QUEUED:
                self.set_status(st, RUNNING)
            return
        if m.error is not None and not st.final:
            st.finished_at = iso_ns(m.finished_ns)
            self.fail(st, m.error, m.traceback)
        elif st.status not in TERMINAL:
            st.finished_at = iso_ns(m.finished_ns)
            st.progress = 1.0
            if st.attempts > 1 and (st.message or "").startswith(
                ("retrying after", "rate limited")
            ):
                st.message = f"done at attempt {st.attempts}"
            self.set_status(st, DONE)

    def take_attempts(self) -> list[tuple]:
        """`task_attempts` rows (without run id) recorded since the last call."""
        rows, self.attempt_rows = self.attempt_rows, []
        return rows

    def cancelled(self, m: TasksCancelled) -> None:
        """These tasks will not run, or will not finish."""
        for task_id in m.task_ids:
            st = self.find(task_id, None, "TasksCancelled")
            if st is not None:
                st.closed = True
            if st is not None and st.status not in TERMINAL:
                st.finished_at = storable(m.finished_at)
                st.message = storable(m.reason)
                self.set_status(st, CANCELLED)

    def handler_failed(self, task_id: Any, what: str, tb: str | None) -> None:
        """A handler failed on one of the task's messages: the task is `error`, for good."""
        if self.is_closed(task_id):
            self.run_error(what, f"{what} (task {task_id!r}, already closed)", tb)
            return
        st = self.find(task_id, None, what)
        if st is not None:
            self.fail(st, what, tb)

    def fail(self, st: TaskState, what: str, tb: str | None) -> None:
        """The task is `error`, for good (a later `done` does not hide it)."""
        st.final = True
        st.message = storable(what)
        st.error = storable(tb)
        self.record_error(st, st.message, st.error)
        self.set_status(st, ERROR)
        self._dirty[st.task_id] = st

    def lost(self, task_ids: set, what: str) -> None:
        """These tasks' latest changes were rolled back: each is `error`, never `done`."""
        for task_id in task_ids:
            st = self.tasks.get(task_id)
            if st is not None:
                self.fail(st, what, None)

    def dropped(self, task_id: Any, what: str) -> None:
        """A message of the task was not written: `cancelled` for good, never `done`."""
        if self.is_closed(task_id):
            text = f"{what} of task {task_id!r} (already closed) was not written"
            self.protocol_error(f"{text}: the run gave up its backlog", key=f"dropped {task_id!r}")
            return
        st = self.find(task_id, None, what)
        if st is None or st.status == ERROR:
            return
        if not st.final:
            st.final = True
            st.message = storable(
                f"cancelled: {what} was not written (the run gave up its backlog)"
            )
        self.set_status(st, CANCELLED)

    def settle(self, cancelled: bool, finished_at: str) -> None:
        """At the run's end: tasks not finished become `cancelled` (a cancelled run) or `error`."""
        for st in self.tasks.values():
            st.closed = True
            if st.status in TERMINAL:
                continue
            st.finished_at = finished_at
            self._dirty[st.task_id] = st
            if cancelled:
                st.message = "cancelled"
                self.set_status(st, CANCELLED)
            else:
                self.fail(st, UNFINISHED, None)

    def record_error(self, st: TaskState, message: str, tb: str | None) -> None:
        """Keep an error for the display and the summary."""
        self.stats.add_error(TaskError(st.task_id, st.name, storable(message), storable(tb)))
