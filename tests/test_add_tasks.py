"""`AddTasks`: a task adds tasks to its own run on every executor: bounded, stoppable, resumable."""

from __future__ import annotations

import _thread
import threading
import time

import pytest

from pipeloom import AddTasks, ConfigError, TaskDef, run_pipeline

from .helpers import rows


def crawl(task, q):
    """Page n adds page n + 1 (up to 4) and two details of its own."""
    n = task.params
    if task.task_id.startswith("page") and n < 4:
        details = [TaskDef(f"detail-{n}-{k}", f"detail {n}.{k}") for k in range(2)]
        q.put(AddTasks([TaskDef(f"page-{n + 1}", f"page {n + 1}", params=n + 1), *details]))


async def acrawl(task, q):
    crawl(task, q)


FIRST = [TaskDef("page-0", "page 0", params=0)]
GROWN = 1 + 4 * 3  # page 0, then pages 1-4 with two details each


def parents(db_path):
    return dict(rows(db_path, "SELECT id, parent_id FROM task_runs WHERE run_id = 1"))


@pytest.mark.parametrize("worker", [crawl, acrawl], ids=["threads", "coroutines"])
def test_a_task_adds_tasks_and_the_run_records_where_each_came_from(db_path, worker):
    summary = run_pipeline(db_path, FIRST, worker_fn=worker, workers=3, progress=False)
    assert summary.ok and summary.total == GROWN and summary.counts["done"] == GROWN
    got = parents(db_path)
    assert got["page-0"] is None and got["page-1"] == "page-0" and got["detail-3-1"] == "page-3"


def test_growth_runs_on_pool_processes(db_path):
    summary = run_pipeline(
        db_path, FIRST, worker_fn=crawl, workers=2, executor="processes", progress=False
    )
    assert summary.ok and summary.counts["done"] == GROWN
    assert parents(db_path)["page-4"] == "page-3"


def test_growth_runs_on_a_dask_cluster(db_path, dask_client):
    summary = run_pipeline(db_path, FIRST, worker_fn=crawl, executor=dask_client, progress=False)
    assert summary.ok and summary.counts["done"] == GROWN


def adds_a_duplicate(task, q):
    if task.task_id == "a":
        q.put(AddTasks([TaskDef("b", "again")]))


async def adds_a_duplicate_async(task, q):
    adds_a_duplicate(task, q)


def endless(task, q):
    q.put(AddTasks([TaskDef(task.params + 1, "next", params=task.params + 1)]))


EXECUTORS = [
    pytest.param(adds_a_duplicate, "threads", id="threads"),
    pytest.param(adds_a_duplicate_async, "threads", id="coroutines"),
    pytest.param(adds_a_duplicate, "processes", id="processes"),
]


@pytest.mark.parametrize(("worker", "executor"), EXECUTORS)
def test_a_duplicate_id_is_the_adding_tasks_error_naming_both(db_path, worker, executor):
    tasks = [TaskDef("a", "a"), TaskDef("b", "b")]
    summary = run_pipeline(
        db_path, tasks, worker_fn=worker, workers=1, executor=executor, progress=False
    )
    assert summary.status == "error" and summary.counts == {"done": 1, "error": 1}
    message = summary.errors[0].message
    assert "'a'" in message and "'b'" in message and "already has" in message


def test_an_unusable_added_task_is_refused_with_a_clear_error(db_path):
    def worker(task, q):
        q.put(AddTasks([object()]))

    summary = run_pipeline(db_path, FIRST, worker_fn=worker, progress=False)
    assert summary.status == "error" and "no task_id" in summary.errors[0].message


@pytest.mark.parametrize("executor", ["threads", "processes"])
def test_max_tasks_ends_an_endless_crawl_with_a_clear_error(db_path, executor):
    t0 = time.monotonic()
    summary = run_pipeline(
        db_path, [TaskDef(0, "0", params=0)], worker_fn=endless, max_tasks=50,
        executor=executor, progress=False,
    )  # fmt: skip
    assert time.monotonic() - t0 < 10
    assert summary.total == 50 and summary.counts == {"done": 49, "error": 1}
    assert "max_tasks=50 reached" in summary.errors[0].message


def test_max_tasks_is_checked_up_front(db_path):
    with pytest.raises(ConfigError, match="max_tasks"):
        run_pipeline(db_path, [TaskDef(i, "t") for i in range(3)], max_tasks=2, progress=False)
    with pytest.raises(ConfigError, match="max_tasks"):
        run_pipeline(db_path, FIRST, max_tasks=0, progress=False)


def test_stop_ends_the_growth_at_once(db_path):
    stop = threading.Event()

    def endless(task, q):
        if task.params == 20:
            stop.set()  # the Stop button
        time.sleep(0.005)
        q.put(AddTasks([TaskDef(task.params + 1, "next", params=task.params + 1)]))

    t0 = time.monotonic()
    summary = run_pipeline(
        db_path, [TaskDef(0, "0", params=0)], worker_fn=endless, cancel_event=stop, progress=False
    )
    assert time.monotonic() - t0 < 5
    assert summary.status == "cancelled" and summary.total <= 23


def test_resume_after_ctrl_c_mid_walk_continues_from_the_page_not_done(db_path):
    ran = []

    def walk(task, q):
        ran.append(task.task_id)
        if task.params == 3 and len(ran) == 4:
            _thread.interrupt_main()  # Ctrl-C while page 3 runs: it finishes in the grace time
            time.sleep(0.3)
        if task.params < 6:
            q.put(AddTasks([TaskDef(f"page-{task.params + 1}", "p", params=task.params + 1)]))

    first = [TaskDef("page-0", "p", params=0)]
    with pytest.raises(KeyboardInterrupt):
        run_pipeline(db_path, first, worker_fn=walk, name="walk", workers=1, progress=False)
    assert ran == ["page-0", "page-1", "page-2", "page-3"]
    assert rows(db_path, "SELECT status FROM task_runs WHERE id = 'page-4'") == [("cancelled",)]
    ran.clear()
    summary = run_pipeline(
        db_path, first, worker_fn=walk, name="walk", workers=1, resume=True, progress=False
    )
    assert summary.ok
    assert ran == ["page-4", "page-5", "page-6"]  # nothing done is run again
    assert summary.counts == {"done": 3, "skipped": 4}  # pages 0-3: done before


def test_a_task_that_failed_after_adding_adds_again_on_resume_without_error(db_path):
    fail = [True]

    def worker(task, q):
        if task.task_id == "list":
            q.put(AddTasks([TaskDef("detail", "detail")]))
            if fail[0]:
                raise OSError("the listing broke after its first page")

    first = [TaskDef("list", "list")]
    assert run_pipeline(db_path, first, worker_fn=worker, name="n", progress=False).failed
    fail[0] = False
    again = run_pipeline(db_path, first, worker_fn=worker, name="n", resume=True, progress=False)
    assert again.ok and again.counts == {"done": 1, "skipped": 1}


def test_history_and_compare_say_which_task_added_a_task(db_path):
    from pipeloom_nb import Loom

    run_pipeline(db_path, FIRST, worker_fn=crawl, progress=False)
    run_pipeline(db_path, FIRST, worker_fn=crawl, progress=False)
    loom = Loom(db_path, progress=False)
    assert loom.history("page-2")["parent_id"].tolist() == ["page-1", "page-1"]
    tasks = loom.compare(1, 2).tasks
    assert (
        tasks.set_index("task_id").loc["detail-3-0"].filter(like="parent").tolist()[0] == "page-3"
    )


def test_the_total_grows_live_and_the_eta_says_it_is_a_lower_bound(db_path):
    from pipeloom.progress.display import NullDisplay

    seen = []

    class Watching(NullDisplay):
        def update(self, snapshot):
            seen.append((snapshot.total, snapshot.growing, snapshot.eta_is_lower_bound))

    def slow_crawl(task, q):
        time.sleep(0.05)
        crawl(task, q)

    run_pipeline(db_path, FIRST, worker_fn=slow_crawl, workers=2, progress=Watching())
    totals = [total for total, _, _ in seen]
    assert totals[0] < GROWN and max(totals) == GROWN and totals == sorted(totals)
    assert any(growing and lower for _, growing, lower in seen)
