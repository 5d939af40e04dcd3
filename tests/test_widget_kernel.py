"""The widget display in a real kernel, read as a front end gets it.

A notebook runs in nbclient, which stores the widgets' final state in the notebook, as
JupyterLab does on save; the updates the kernel sent while a run lasted are kept as they
arrive. Checked: the stacked counts of a run with errors and of a stopped run, a resumed
run's skipped tasks and rate, the rows of its running tasks, each error said once, and
what Interrupt Kernel shows.
"""

from __future__ import annotations

import re
import time

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = [pytest.mark.notebook, pytest.mark.timeout(180)]

SETUP = """
import time
from pipeloom import TaskDef
from pipeloom_nb import Loom, WidgetDisplay
loom = Loom("runs.db", workers=4)
orders = [TaskDef(i, f"order {i}") for i in range(200)]
def some_fail(task, q):
    if task.task_id % 50 == 7:
        raise OSError(f"the API refused order {task.task_id}")
"""
WITH_ERRORS = 'loom.run(orders, some_fail, name="with errors")'
STOPPED = """
stop = WidgetDisplay()
def stopping(task, q):
    if task.task_id == 20:
        stop.stop_button.click()
loom.run(orders + [TaskDef(i, f"order {i}") for i in range(200, 300)], stopping,
         workers=1, name="stopped", progress=stop)
"""
FIRST = """
slow = {0, 1, 2, 3}
def nightly(task, q):
    if task.task_id in slow:
        raise TimeoutError("the API took too long")
loom.run(orders, nightly, name="nightly")
"""
RESUMED = """
def nightly(task, q):
    time.sleep(1.5 if task.task_id in slow else 0)
loom.run(orders, nightly, name="nightly", resume=True)
"""
VIEW = "pipeloom-progress"


class RecordingClient(NotebookClient):
    """nbclient, keeping every widget update the kernel sends (the stored state keeps the last)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.updates: list[dict] = []

    def handle_comm_msg(self, outs, msg, cell_index) -> None:
        self.updates.append(msg["content"]["data"].get("state", {}))
        super().handle_comm_msg(outs, msg, cell_index)


def parts(view: str) -> dict[str, float]:
    """The stacked bar's parts: status -> width in percent."""
    found = re.findall(r"pipeloom-part pipeloom-(\w+)' style='width:([\d.]+)%", view)
    return {status: float(pct) for status, pct in found}


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook, run once: (the notebook, its client)."""
    cells = [SETUP, WITH_ERRORS, STOPPED, FIRST, RESUMED]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    path = tmp_path_factory.mktemp("kernel")
    client = RecordingClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path)}}
    )
    client.execute()
    return nb, client


def final_views(nb) -> dict[str, str]:
    """The run's name -> its view, as stored with the notebook."""
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    views = [m["state"].get("value", "") for m in state.values()]
    return {re.search(r"<b[^>]*>([^<]+)</b>", v).group(1): v for v in views if VIEW in v}


def test_a_run_with_errors_shows_its_parts_and_ends_in_words(executed):
    nb, _ = executed
    view = final_views(nb)["with errors"]
    assert parts(view) == {"done": 98.0, "error": 2.0}
    assert "ended with 4 errors: 196 of 200 done" in view


def test_each_error_is_said_once(executed):
    nb, _ = executed
    outputs = nb.cells[1].outputs
    assert not [o for o in outputs if o.output_type == "stream"]  # no log line in a kernel
    result = next(o for o in outputs if o.output_type == "execute_result")["data"]["text/html"]
    assert "<details>" not in result and "listed above" in result
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    blocks = [m["state"].get("value", "") for m in state.values()]
    refused = [b for b in blocks if "the API refused" in b]
    assert len(refused) == 1 and refused[0].count("<details>") == 4  # the errors block only


def test_a_stopped_run_shows_how_far_it_got(executed):
    nb, _ = executed
    view = final_views(nb)["stopped"]
    widths = parts(view)
    assert set(widths) == {"done", "cancelled"} and 7.0 <= widths["done"] <= 8.5
    assert re.search(r"cancelled at [78]%: 2\d of 300 done", view)


def test_a_resumed_run_counts_its_skipped_tasks_apart_and_its_rate_on_its_own(executed):
    nb, _ = executed
    view = final_views(nb)["nightly"]
    assert parts(view) == {"skipped": 98.0, "done": 2.0}
    assert re.search(r"resumed( run \d+)?: 196 done before", view)
    line = re.search(r"class='pipeloom-line'>([^<]+)<", view).group(1)
    assert line.startswith("4/4 · 4 done · ")
    rate = float(re.search(r"([\d.]+) tasks/s", line).group(1))
    assert 0.5 < rate < 4  # 4 tasks in about 1.5 s, not 200


def test_the_tasks_in_flight_have_rows_with_their_time(executed):
    _, client = executed
    live = [u.get("value", "") for u in client.updates]
    rows = [v for v in live if "resuming" in v and v.count("pipeloom-task") == 4]
    assert rows, "four rows while the four tasks ran"
    last = rows[-1]
    names = re.findall(r"title='(order \d)'", last)
    assert sorted(names) == ["order 0", "order 1", "order 2", "order 3"]
    assert all(float(t) > 0 for t in re.findall(r"pipeloom-elapsed'[^>]*>([\d.]+)s<", last))
    assert "0/4 · 4 running · 0.0 tasks/s" in last and "ETA" not in last


def test_interrupt_ends_the_traceback_at_the_cells_line_and_records_the_run_cancelled(
    kernel, tmp_path
):
    kernel.execute_interactive(SETUP.replace("runs.db", str(tmp_path / "stop.db")), timeout=60)
    run_id = kernel.execute(
        "def slow(task, q):\n    time.sleep(0.05)\n"
        "loom.run([TaskDef(i, f't{i}') for i in range(400)], slow, workers=1)"
    )
    _wait_for_the_widget(kernel)
    time.sleep(0.5)
    kernel.parent.interrupt_kernel()
    reply = kernel.get_shell_msg(timeout=60)["content"]
    assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt"
    assert re.fullmatch(r"run 1 cancelled by Interrupt: \d+ done, \d+ cancelled", reply["evalue"])
    traceback = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(reply["traceback"]))
    assert "loom.run(" in traceback
    assert not re.search(r"(lifecycle|engine|loom)\.py", traceback), traceback
    stderr = _stderr_of(kernel, run_id)
    assert "interrupted" not in stderr
    asked = {"status": "loom.runs().status[0]"}
    reply = kernel.execute_interactive("", user_expressions=asked, timeout=30)["content"]
    assert reply["user_expressions"]["status"]["data"]["text/plain"] == "'cancelled'"


def _wait_for_the_widget(kc) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        msg = kc.get_iopub_msg(timeout=30)
        if msg["msg_type"] == "display_data":
            return
    raise AssertionError("no widget was displayed")


def _stderr_of(kc, msg_id: str) -> str:
    out = []
    while True:
        msg = kc.get_iopub_msg(timeout=30)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream" and msg["content"]["name"] == "stderr":
            out.append(msg["content"]["text"])
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return "".join(out)
