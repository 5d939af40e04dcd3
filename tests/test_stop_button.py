"""The Stop button during a blocking `loom.run()`, clicked in a real kernel.

The test plays the front end: it finds the Stop button's comm in the kernel's output and
sends the same `comm_msg` a browser sends on a click, while the cell is still running.
"""

from __future__ import annotations

import sqlite3
import time

import pytest

from .helpers import rows, wait_for

pytestmark = [pytest.mark.notebook, pytest.mark.timeout(120)]

SETUP = """
import asyncio, time
from pipeloom import TaskDef
from pipeloom_nb import Loom
loom = Loom({db!r}, workers=1)
tasks = [TaskDef(i, f"t{{i}}") for i in range(200)]
def slow(task, q):
    time.sleep(0.05)
async def slow_async(task, q):
    await asyncio.sleep(0.05)
"""


def _stop_button(kc) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        msg = kc.get_iopub_msg(timeout=30)
        state = msg["content"].get("data", {}).get("state", {})
        if msg["msg_type"] == "comm_open" and state.get("description") == "Stop":
            return msg["content"]["comm_id"]
    raise AssertionError("no Stop button was displayed")


def _done(db) -> int:
    """Tasks the run has written `done` so far (0 before its file and tables exist)."""
    if not db.exists():
        return 0
    try:
        return rows(db, "SELECT count(*) FROM task_runs WHERE status = 'done'")[0][0]
    except sqlite3.OperationalError:
        return 0


def _click(kc, comm_id: str) -> None:
    content = {"comm_id": comm_id, "data": {"method": "custom", "content": {"event": "click"}}}
    kc.shell_channel.send(kc.session.msg("comm_msg", content))


def _replies(kc, n: int) -> list[str]:
    return [kc.get_shell_msg(timeout=60)["parent_header"]["msg_id"] for _ in range(n)]


def _stdout(kc, msg_id: str) -> str:
    out = []
    while True:
        msg = kc.get_iopub_msg(timeout=30)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return "".join(out)


@pytest.mark.parametrize("worker", ["slow", "slow_async"])
def test_stop_cancels_a_blocking_run_and_the_next_cell_still_runs(kernel, tmp_path, worker):
    db = tmp_path / "stop.db"
    kernel.execute_interactive(SETUP.format(db=str(db)), timeout=60)
    run_id = kernel.execute(f"result = loom.run(tasks, {worker})")
    button = _stop_button(kernel)
    assert wait_for(lambda: _done(db) > 0, 30), "the run never finished a task"
    next_id = kernel.execute("print(result.status, result.counts.get('cancelled', 0))")
    clicked = time.monotonic()
    _click(kernel, button)
    assert _replies(kernel, 2) == [run_id, next_id]  # the queued cell ran after, in order
    assert time.monotonic() - clicked < 5  # the whole run would take 10 s
    status, cancelled = _stdout(kernel, next_id).split()
    assert status == "cancelled" and int(cancelled) > 100
