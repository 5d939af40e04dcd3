"""`resume=True` continues the latest refresh: done there skipped, all else run again."""

from __future__ import annotations

import _thread
import time

import pytest

from .helpers import rows

pytestmark = pytest.mark.workers(2)


def test_resume_finishes_the_interrupted_refresh_not_the_first_load(loom, db_path):
    api = {i: {"id": i, "v": 1} for i in range(15)}
    day1 = loom.map(api.get, list(api), "orders", key="id", mode="merge", name="load")
    assert day1.ok
    api = {i: {"id": i, "v": 2} for i in range(15)}  # the API changed every order
    calls = []

    def stopping(i):
        calls.append(i)
        if len(calls) == 4:
            _thread.interrupt_main()  # Ctrl-C: the analyst interrupts the refresh
            time.sleep(0.5)
        return api[i]

    with pytest.raises(KeyboardInterrupt):
        loom.map(stopping, list(api), "orders", key="id", mode="merge", name="load", workers=1)
    refreshed = set(rows(db_path, "SELECT id FROM orders WHERE v = 2"))
    assert 0 < len(refreshed) < 15
    result = loom.map(
        api.get, list(api), "orders", key="id", mode="merge", name="load", resume=True
    )
    assert result.ok
    assert rows(db_path, "SELECT count(*) FROM orders WHERE v = 2") == [(15,)]  # none stale
    assert result.counts.get("skipped", 0) == len(refreshed)
    assert result.counts["done"] == 15 - len(refreshed)
    chain = rows(db_path, "SELECT run_id, resumed_from FROM pipeline_runs ORDER BY run_id")
    assert chain == [(1, None), (2, None), (3, 2)]


def test_a_second_resume_continues_the_same_refresh(loom, db_path):
    seen = []

    def flaky(i):
        seen.append(i)
        if i >= 3 and len(seen) <= 6:
            raise OSError("down")
        return {"id": i}

    loom.map(flaky, range(6), "t", key="id", mode="merge", name="n", workers=1)
    loom.map(flaky, range(6), "t", key="id", mode="merge", name="n", resume=True, workers=1)
    seen.clear()
    result = loom.map(flaky, range(6), "t", key="id", mode="merge", name="n", resume=True)
    assert result.ok and result.counts.get("skipped") == 6 and seen == []
    assert rows(db_path, "SELECT resumed_from FROM pipeline_runs ORDER BY run_id") == [
        (None,),
        (1,),
        (1,),
    ]


def test_resume_with_nothing_before_runs_everything(loom):
    result = loom.map(lambda i: {"id": i}, range(3), "t", resume=True, name="fresh")
    assert result.ok and result.counts["done"] == 3
