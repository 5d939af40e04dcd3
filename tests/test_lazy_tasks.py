"""Tasks from a generator: read lazily, memory bounded by the tasks in hand, guarantees kept."""

from __future__ import annotations

import itertools
import threading

import pytest

from pipeloom import ConfigError, TaskDef, run_pipeline
from pipeloom.core.control import TaskClosed, TasksQueued
from pipeloom.execution.base import Runner
from pipeloom.messages import MsgTaskProgress
from pipeloom.progress import StatsSnapshot
from pipeloom.progress.display import progress_line
from pipeloom.store.tasks import TaskBook
from pipeloom.store.writer import SQLiteWriter
from pipeloom_nb import Loom, WidgetDisplay

from .helpers import rows, statuses

T0, T1 = "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:01+00:00"
NS0, NS1 = 1_767_225_600 * 10**9, 1_767_225_601 * 10**9  # T0 and T1 as time.time_ns()
CHUNK = Runner.chunk


class Counted:
    """A generator of numbered tasks that counts how many it has produced."""

    def __init__(self, ids):
        self.ids = iter(ids)
        self.produced = 0

    def __iter__(self):
        for i in self.ids:
            self.produced += 1
            yield TaskDef(i, f"t{i}")


def test_a_generator_is_read_a_chunk_ahead_of_the_worker(db_path):
    source = Counted(range(1000))
    ahead = []

    def worker(task, q):
        ahead.append(source.produced - task.task_id)

    summary = run_pipeline(db_path, iter(source), workers=1, worker_fn=worker, progress=False)
    assert summary.status == "done" and summary.total == 1000
    assert len(ahead) == 1000 and max(ahead) <= CHUNK, max(ahead)


def test_an_endless_generator_stops_at_stop_and_records_only_the_tasks_taken(db_path):
    source = Counted(itertools.count())
    stop = threading.Event()

    def worker(task, q):
        if task.task_id == 500:
            stop.set()

    summary = run_pipeline(
        db_path, iter(source), workers=4, worker_fn=worker, cancel_event=stop, progress=False
    )
    assert summary.status == "cancelled"
    assert source.produced < 500 + 4 * CHUNK, source.produced
    got = statuses(db_path)
    assert len(got) == source.produced == summary.total  # taken: each has its row
    assert set(got.values()) <= {"done", "cancelled"} and got[500] == "done"
    assert rows(db_path, "SELECT tasks FROM pipeline_runs") == [(source.produced,)]


def test_the_writer_holds_only_the_tasks_in_hand(db_path):
    writers, sizes = [], []

    class Watched(SQLiteWriter):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            writers.append(self)

    def worker(task, q):
        q.put(MsgTaskProgress(task.task_id, 1, 2, "half"))
        if task.task_id % 50 == 0:
            sizes.append(len(writers[0].book.tasks))

    n, batch = 20_000, 200
    tasks = (TaskDef(i, f"t{i}") for i in range(n))
    summary = run_pipeline(
        db_path,
        tasks,
        workers=4,
        worker_fn=worker,
        batch_size=batch,
        progress=False,
        writer_cls=Watched,
    )
    assert summary.counts == {"done": n}
    assert rows(db_path, "SELECT count(*), min(status), max(status) FROM task_runs") == [
        (n, "done", "done")
    ]
    # a batch's tasks, one chunk taken ahead of the workers, the tasks in flight
    assert max(sizes) <= batch + 2 * CHUNK + 4, max(sizes)


def test_the_book_drops_closed_tasks_and_ignores_their_late_messages():
    book, seen = TaskBook(), set()
    book.expect(seen, None)
    for start in range(0, 1000, 100):
        ids = range(start, start + 100)
        seen.update(ids)
        book.queued(TasksQueued(tuple((i, f"t{i}") for i in ids)))
        for i in ids:
            book.closed(TaskClosed(i, f"t{i}", NS0, NS1))
        assert len(book.take_dirty()) == 100
        assert book.forget_closed() == 100
    assert book.tasks == {} and book.stats.counts["done"] == 1000
    book.progress(MsgTaskProgress(7, 1, 2, "late"))  # a thread task 7's worker left running
    assert book.take_dirty() == [] and book.stats.errors == []
    book.progress(MsgTaskProgress(5000, 1, 2, "stray"))  # never taken into the run
    assert [e.message for e in book.stats.errors] == [
        "MsgTaskProgress is for task id 5000, which is not in this run"
    ]
    book.handler_failed(8, "the handler for MsgRows: IntegrityError", None)
    assert "task 8, already closed" in book.stats.errors[-1].message


def test_a_duplicate_id_in_a_generator_stops_the_run_and_is_a_config_error(db_path):
    ran = []

    def tasks():
        yield from (TaskDef(i, f"t{i}") for i in range(100))
        yield TaskDef(5, "again")
        yield from (TaskDef(i, f"t{i}") for i in range(100, 200))

    with pytest.raises(ConfigError, match="duplicate task id 5"):
        run_pipeline(db_path, tasks(), workers=2, worker_fn=lambda t, q: ran.append(t.task_id))
    assert sorted(ran) == list(range(100))
    status, error = rows(db_path, "SELECT status, error FROM pipeline_runs")[0]
    assert status == "error" and "duplicate task id 5" in error
    assert set(statuses(db_path).values()) == {"done"} and len(statuses(db_path)) == 100


def test_an_exception_from_the_generator_propagates_once_the_run_is_closed(db_path):
    def tasks():
        yield from (TaskDef(i, f"t{i}") for i in range(10))
        raise OSError("the listing broke")

    with pytest.raises(OSError, match="the listing broke"):
        run_pipeline(db_path, tasks(), workers=2, worker_fn=lambda t, q: None, progress=False)
    assert rows(db_path, "SELECT status FROM pipeline_runs") == [("error",)]
    assert statuses(db_path) == dict.fromkeys(range(10), "done")


def test_resume_with_a_generator_runs_only_what_is_not_done(db_path):
    def worker(task, q):
        if task.task_id % 3 == 0 and task.params == "first":
            raise RuntimeError("flaky")

    def tasks(params):
        return (TaskDef(i, f"t{i}", params=params) for i in range(3000))

    first = run_pipeline(db_path, tasks("first"), worker_fn=worker, name="r", progress=False)
    assert first.counts == {"done": 2000, "error": 1000}
    ran = []
    second = run_pipeline(
        db_path,
        tasks("second"),
        worker_fn=lambda t, q: ran.append(t.task_id),
        name="r",
        resume=True,
        progress=False,
    )
    assert sorted(ran) == list(range(0, 3000, 3))
    assert second.status == "done" and second.total == 3000
    assert second.counts == {"done": 1000, "skipped": 2000}
    assert rows(
        db_path,
        "SELECT status, count(*) FROM task_runs WHERE run_id=? GROUP BY status",
        (second.run_id,),
    ) == [("done", 1000), ("skipped", 2000)]


def test_progress_shows_an_unknown_total_until_the_generator_ends(db_path):
    seen = []

    class Recording:
        def start(self, snapshot, *, name, workers, cancel):
            seen.append(snapshot)

        def update(self, snapshot):
            seen.append(snapshot)

        def wait(self, seconds, until=None):
            (until or threading.Event()).wait(seconds)

        def finish(self, snapshot, summary):
            seen.append(snapshot)

    tasks = (TaskDef(i, f"t{i}") for i in range(50))
    run_pipeline(db_path, tasks, worker_fn=lambda t, q: None, progress=Recording())
    assert not seen[0].total_known and seen[0].eta is None
    assert progress_line(seen[0]).startswith(f"{seen[0].completed}/? · ")
    assert seen[-1].total_known and seen[-1].total == 50 and "50/50" in progress_line(seen[-1])


def test_the_widget_shows_an_unknown_total_as_the_tasks_taken_so_far():
    d = WidgetDisplay()
    s = StatsSnapshot(70, {"done": 40}, [], [], 1.0, 0, total_known=False, in_flight=4)
    d.start(s, name="gen", workers=2, cancel=threading.Event())
    assert "40/? · 40 done · 4 running" in d.view.value
    assert "width:57.143%" in d.view.value  # 40 done of the 70 taken
    assert "pipeloom-state" in d.view.value and "%</span>" not in d.view.value  # no share


def test_loom_map_over_a_generator(tmp_path):
    loom = Loom(tmp_path / "m.db", progress=False)
    result = loom.map(lambda i: {"i": i, "sq": i * i}, (i for i in range(300)), table="squares")
    assert result.status == "done" and result.total == 300
    assert loom.sql("SELECT count(*) AS n, sum(sq) AS s FROM squares").iloc[0].tolist() == [
        300,
        sum(i * i for i in range(300)),
    ]
    with pytest.raises(ConfigError, match="same key 3 as an earlier item"):
        loom.map(lambda i: {"i": i}, iter([1, 2, 3, 3, 4]), table="again")
