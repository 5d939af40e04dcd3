"""The widget display's cost measured in a real kernel: the benchmark runs, the comm
traffic of a run follows its redraws, not its messages, and the kernel's threads are read."""

from __future__ import annotations

import os

import pytest

from benchmarks.kernel import widget_cost_in_kernel
from benchmarks.kernel_threads import GROUPS

pytestmark = [pytest.mark.notebook, pytest.mark.timeout(180)]

THREADS_READABLE = os.path.isdir("/proc/self/task")
"""Each thread's CPU is read from /proc: Linux only (elsewhere the groups come back empty)."""

OPENING = 10
"""IOPub messages of a run besides its redraws: the cell's input and two statuses, the
widget's display and its 4 widgets opened (the layouts and styles they share were opened by
the kernel's first run), the final Stop button."""


def test_widget_runs_record_every_task_and_send_one_message_per_redraw():
    tasks, k = 300, 30
    res = widget_cost_in_kernel(runs=1, tasks=tasks, k=k)
    assert (res["tasks"], res["k"], res["runs"]) == (tasks, k, 1)
    for api in ("pipeline", "loom"):
        r = res[api]
        assert r["done_on"] == tasks
        assert r["redraws"] >= 2  # the start and the end, at least
        assert r["iopub_messages_on"] <= OPENING + r["redraws"]
        assert r["iopub_messages_off"] <= 4  # status busy, input, idle: no widget traffic
        assert 0 < r["display_cpu"] < r["seconds_on"]
        assert r["rate_on"] > 0 and r["rate_off"] > 0
        assert 0 < r["overhead_cpu"] < r["seconds_on"] and r["overhead_share"] > 0
        if THREADS_READABLE:
            assert set(r["threads_on"]) == set(r["threads_off"]) == {*GROUPS, "run"}
            assert r["threads_on"]["iopub"] > r["threads_off"]["iopub"]  # the display's msgs
