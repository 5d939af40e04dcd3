"""`task_runs` rows written several to a statement: every row lands, updates overwrite."""

from __future__ import annotations

import sqlite3

import pytest

from pipeloom.store import record
from pipeloom.store.tables import init_schema
from pipeloom.store.task_row import TaskState


@pytest.mark.parametrize("n", [1, 63, 64, 65, 129, 300])
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
