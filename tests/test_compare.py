"""loom.compare and loom.history on real runs."""

from __future__ import annotations

import time

from pipeloom import TaskDef
from pipeloom_nb import Loom

from .helpers import tasks


def two_runs(db_path):
    """Run 1: task 1 fails. Run 2: task 1 fixed, task 2 fails, task 3 slower."""
    loom = Loom(db_path, workers=2, progress=False)
    bad = {1}

    def worker(task, q):
        if task.task_id in bad:
            raise ValueError(f"bad {task.task_id}")
        time.sleep(0.15 if task.task_id == 3 and not bad & {1} else 0.01)

    a = loom.run(tasks(5), worker)
    bad.clear()
    bad.add(2)
    b = loom.run(tasks(6), worker, retries=1, retry_backoff=0.01, retry_on=ValueError)
    return loom, a, b


def test_compare_puts_shared_tasks_side_by_side(db_path):
    loom, a, b = two_runs(db_path)
    cmp = loom.compare(a.run_id, b.run_id)
    assert sorted(cmp.tasks["task_id"]) == [0, 1, 2, 3, 4]  # task 5 is only in run b
    assert list(cmp.newly_failing["task_id"]) == [2]
    assert list(cmp.newly_fixed["task_id"]) == [1]
    assert list(cmp.regressions(1)["task_id"]) == [3]
    row = cmp.tasks.set_index("task_id").loc[3]
    assert row["duration_s_b"] > row["duration_s_a"] and row["delta_s"] > 0.1
    assert "1 newly failing, 1 newly fixed, 1 added, 0 removed" in cmp.summary
    html = cmp._repr_html_()
    assert "newly failing" in html and "slowest regressions" in html


def test_compare_counts_and_lists_the_tasks_added_and_removed(db_path):
    loom = Loom(db_path, workers=2, progress=False)
    a = loom.run(tasks(5), lambda task, q: None)
    b = loom.run([TaskDef(i, f"t{i}") for i in range(2, 9)], lambda task, q: None)
    cmp = loom.compare(a.run_id, b.run_id)
    assert sorted(cmp.tasks["task_id"]) == [2, 3, 4]
    assert cmp.added["task_id"].tolist() == [5, 6, 7, 8]
    assert cmp.removed["task_id"].tolist() == [0, 1]
    assert set(cmp.added.columns) >= {"name", "status", "duration_s"}
    assert "3 tasks in both, 0 newly failing, 0 newly fixed, 4 added, 2 removed" in cmp.summary
    html = cmp._repr_html_()
    assert f"added (only in run {b.run_id})" in html and f"removed (only in run {a.run_id})" in html
    assert "<td>t8</td>" in html and "<td>t0</td>" in html


def test_history_lists_every_run_and_attempt_of_a_task(db_path):
    loom, a, b = two_runs(db_path)
    h = loom.history(2)
    assert list(zip(h["run_id"], h["attempt"], h["status"], strict=True)) == [
        (a.run_id, 1, "done"),
        (b.run_id, 1, "retrying"),
        (b.run_id, 2, "error"),
    ]
    assert h["error"].iloc[-1] == "ValueError: bad 2"
    assert (h["duration_s"] >= 0).all() and h["worker"].notna().all()
    assert loom.history(99).empty


def test_a_resumed_run_skips_are_not_newly_failing(tmp_path):
    from pipeloom import TaskDef
    from pipeloom_nb import Loom

    loom = Loom(tmp_path / "r.db", workers=2, progress=False)
    up = {"on": False}

    def flaky(task, q):
        if task.task_id == 1 and not up["on"]:
            raise ConnectionError("down")

    tasks = [TaskDef(i, f"t{i}") for i in range(4)]
    first = loom.run(tasks, flaky, name="nightly")
    up["on"] = True
    second = loom.run(tasks, flaky, name="nightly", resume=True)
    changes = loom.compare(first.run_id, second.run_id)
    assert changes.newly_failing.empty
    assert changes.newly_fixed["task_id"].tolist() == [1]
