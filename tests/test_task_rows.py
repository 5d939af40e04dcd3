"""`task_runs` rows written several to a statement: every row lands, updates overwrite."""

from __future__ import annotations

import sqlite3

import pytest

from pipeloom.store import record
from pipeloom.store.tables import init_schema
from pipeloom.store.task_row import TaskState, row_values


@pytest.mark.parametrize("n", [1, 63, 64, 65, 129, 300, 513])
def test_every_task_row_lands_and_a_second_write_updates_it(tmp_path, n):
    conn = sqlite3.connect(tmp_path / "rows.db", isolation_level=None)
    init_schema(conn)
    states = [TaskState(i, f"t{i}", "running") for i in range(n)]
    record.upsert_tasks(conn, 7, states)
    for st in states[::2]:
        st.status, st.attempts, st.worker = "done", 1, "w"
    record.upsert_tasks(conn, 7, states[::2])
    got = conn.execute("SELECT run_id, id, name, status, attempts, worker FROM task_runs")
    expected = [
        (7, i, f"t{i}", "done" if i % 2 == 0 else "running", 1 - i % 2, "w" if i % 2 == 0 else None)
        for i in range(n)
    ]
    assert sorted(got) == expected


def test_a_file_with_the_old_status_index_loses_it_and_resume_still_skips_done_tasks(tmp_path):
    from pipeloom import TaskDef, run_pipeline

    db = tmp_path / "old.db"
    conn = sqlite3.connect(db, isolation_level=None)
    init_schema(conn)
    conn.execute("CREATE INDEX idx_task_runs_status ON task_runs(status)")  # as older files have
    conn.close()
    tasks = [TaskDef(i, f"t{i}") for i in range(5)]
    first = run_pipeline(db, tasks[:3], workers=2, worker_fn=lambda t, q: None, progress=False)
    again = run_pipeline(
        db, tasks, workers=2, worker_fn=lambda t, q: None, progress=False, resume=True
    )
    indexes = {
        name
        for (name,) in sqlite3.connect(db).execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'task_runs' "
            "AND sql IS NOT NULL"
        )
    }
    assert indexes == {"idx_task_runs_id"}
    assert (first.counts["done"], again.counts["skipped"], again.counts["done"]) == (3, 3, 2)


def test_a_task_row_has_as_many_values_as_the_upsert_has_parameters_per_row():
    sql = record.upsert_task_sql(7, 1)
    assert len(row_values(TaskState(1, "t1"))) == record.TASK_ROW_WIDTH == sql.count("?")
