"""The timeline's data on real runs: lanes, segments per attempt, statuses, aggregation."""

from __future__ import annotations

import sys
import threading
import time
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from pipeloom import MsgTaskStarted, run_pipeline
from pipeloom.timeline import timeline
from pipeloom.timeline.data import build, group_lanes, lane_order, throughput
from pipeloom.timeline.load import RunRecord, load_run
from pipeloom_nb import Loom

from .helpers import rows, tasks


def flaky_run(db_path):
    """Task 1 fails twice then works, task 2 times out once, task 3 fails for good."""
    calls: dict[int, int] = {}

    def worker(task, q):
        calls[task.task_id] = calls.get(task.task_id, 0) + 1
        if task.task_id == 1 and calls[1] < 3:
            raise ConnectionError("flaky")
        if task.task_id == 2 and calls[2] == 1:
            time.sleep(0.4)
        if task.task_id == 3:
            raise ValueError("bad input")
        time.sleep(0.01)

    return run_pipeline(
        db_path,
        tasks(8),
        workers=3,
        worker_fn=worker,
        retries=2,
        retry_backoff=0.01,
        retry_on=(ConnectionError, TimeoutError),
        timeout=0.15,
        progress=False,
    )


@pytest.fixture
def flaky(db_path):
    flaky_run(db_path)
    return timeline(db_path).data


def attempts_of(data, task_id):
    segs = data.segments[data.segments["task_id"] == task_id]
    return segs.sort_values("attempt")


def test_one_lane_per_worker_and_each_task_on_its_lane(flaky, db_path):
    workers = {w for (w,) in rows(db_path, "SELECT worker FROM task_runs")}
    assert set(flaky.lanes) >= workers
    assert all(w.startswith("pipeloom-worker-") for w in flaky.lanes)
    for task_id, worker in rows(db_path, "SELECT id, worker FROM task_runs"):
        last = attempts_of(flaky, task_id).iloc[-1]
        assert flaky.lanes[last["lane"]] == worker


def test_retries_and_timeouts_are_separate_segments(flaky):
    retried = attempts_of(flaky, 1)
    assert list(retried["status"]) == ["retrying", "retrying", "done"]
    assert list(retried["attempt"]) == [1, 2, 3]
    assert (retried["start"].to_numpy()[1:] >= retried["end"].to_numpy()[:-1]).all()
    assert list(attempts_of(flaky, 2)["status"]) == ["timeout", "done"]
    assert list(attempts_of(flaky, 3)["status"]) == ["error"]
    assert list(attempts_of(flaky, 5)["status"]) == ["done"]


def test_segments_lie_within_the_run_in_seconds(flaky):
    segs = flaky.segments
    assert (segs["start"] >= 0).all() and (segs["end"] >= segs["start"]).all()
    assert segs["end"].max() <= flaky.span + 1e-6
    assert not flaky.aggregated and segs["tasks"].eq(1).all()


def test_task_table_has_names_statuses_and_durations(flaky):
    t = flaky.tasks.set_index("task_id")
    assert t.loc[3, "status"] == "error" and t.loc[1, "attempts"] == 3
    assert t.loc[2, "duration_s"] >= 0.15 and t.loc[2, "name"] == "t2"


def test_throughput_counts_every_finished_task(flaky):
    tp = flaky.throughput
    assert round((tp["per_second"] * tp["width"]).sum()) == 8
    assert np.isclose(tp["start"].iloc[-1] + tp["width"].iloc[-1], flaky.span)


def test_many_tasks_are_merged_per_pixel_and_none_is_lost(db_path):
    run_pipeline(db_path, tasks(3000), workers=4, worker_fn=lambda t, q: None, progress=False)
    data = timeline(db_path, width_px=200).data
    assert data.aggregated
    assert data.segments["tasks"].sum() == 3000
    assert len(data.segments) <= len(data.lanes) * 200
    assert set(data.segments["status"]) == {"done"}


def test_a_live_run_is_drawn_up_to_now_with_its_running_task(db_path):
    release, started = threading.Event(), threading.Event()

    def worker(task, q):
        if task.task_id == 0:  # a silent task shows only once it ends: this one says it began
            q.put(MsgTaskStarted(0, "t0", datetime.now(UTC).isoformat()))
            started.set()
            release.wait(10)

    handle = Loom(db_path, workers=2, progress=False).start(tasks(4), worker)
    try:
        assert started.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            data = timeline(db_path).data
            if "running" in set(data.segments["status"]):
                break
            time.sleep(0.02)
        assert data.status == "running"
        assert "running" in set(data.segments["status"])
    finally:
        release.set()
        handle.result(10)


def test_lanes_sort_naturally_and_group_past_the_limit():
    names = pd.Series(["w-10", "w-2", "w-1", "w-2"])
    assert lane_order(names) == ["w-1", "w-2", "w-10"]
    lanes = [f"w-{i}" for i in range(100)]
    labels, group = group_lanes(lanes, 10)
    assert len(labels) == 10 and labels[0] == "w-0 … w-9 (10)"
    assert group[0] == 0 and group[99] == 9 and np.bincount(group).tolist() == [10] * 10


def test_throughput_bins_are_about_a_second():
    tp = throughput(np.array([0.5, 1.5, 1.6, 99.0]), 100.0)
    assert len(tp) == 100 and tp["per_second"].iloc[1] == 2.0


def synthetic(n: int, lanes: int = 16) -> RunRecord:
    """A run of `n` 1 ms tasks on `lanes` workers (the shape a 100k-task run has)."""
    t0 = pd.Timestamp("2026-01-01", tz="UTC")
    start = t0 + pd.to_timedelta(np.arange(n) * 1e-3 / lanes * 1.1, unit="s")
    status = np.where(np.arange(n) % 997 == 0, "error", "done")
    df = pd.DataFrame(
        {
            "task_id": np.arange(n),
            "name": [f"t{i}" for i in range(n)],
            "status": status,
            "started_at": start,
            "finished_at": start + pd.Timedelta(milliseconds=1),
            "attempts": 1,
            "worker": [f"pipeloom-worker-{i % lanes}" for i in range(n)],
        }
    )
    cols = ["task_id", "attempt", "worker", "started_at", "finished_at", "outcome", "error"]
    attempts = pd.DataFrame(columns=cols)
    return RunRecord(1, "big", "error", t0, df["finished_at"].max(), df, attempts)


def test_100k_tasks_draw_quickly(tmp_path):
    from pipeloom.timeline import Timeline

    record = synthetic(100_000)
    t0 = time.perf_counter()
    chart = Timeline(build(record, pd.Timestamp.now("UTC")))
    chart.save(tmp_path / "big.png")
    seconds = time.perf_counter() - t0
    print(f"100,000 tasks built and drawn in {seconds:.2f} s")
    assert chart.data.aggregated and chart.data.segments["tasks"].sum() == 100_000
    assert "error" in set(chart.data.segments["status"])  # a failure is never merged away
    assert seconds < 20  # a smoke: `make bench` reports the real time


def test_chart_shows_inline_and_saves_png_svg_html(flaky, db_path, tmp_path):
    chart = timeline(db_path)
    bundle = chart._repr_mimebundle_()
    assert set(bundle) == {"text/html", "image/png", "text/plain"}
    assert "data:image/png;base64," in bundle["text/html"] and "slowest" in bundle["text/html"]
    assert chart.save(tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG"
    assert "<svg" in chart.save(tmp_path / "a.svg").read_text()
    assert "<img" in chart.save(tmp_path / "a.html").read_text()
    with pytest.raises(ValueError, match="cannot save"):
        chart.save(tmp_path / "a.pdf")
    assert list(chart.slowest(1)["task_id"]) == [2]


def test_result_and_loom_give_the_same_run(db_path):
    loom = Loom(db_path, workers=2, progress=False)
    first = loom.run(tasks(3), lambda t, q: None)
    loom.run(tasks(5), lambda t, q: None)
    assert first.timeline().data.run_id == first.run_id
    assert loom.timeline().data.run_id == first.run_id + 1
    assert len(loom.timeline(first.run_id).data.tasks) == 3


def test_missing_matplotlib_names_the_pip_command(flaky, db_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install 'pipeloom-nb\[plot\]'"):
        timeline(db_path).to_png()


def test_an_unknown_run_is_a_clear_error(flaky, db_path):
    from pipeloom.errors import ConfigError

    with pytest.raises(ConfigError, match="no run 99"):
        load_run(db_path, 99)
