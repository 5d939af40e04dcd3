"""marimo: a notebook exported headless (`marimo export html`), and served (`marimo run`) to
Debian's Chromium, shows the run's progress and its result (a run in the background too);
marimo's Interrupt cancels a run, which is recorded `cancelled`.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .test_browser import CHROMIUM, SHOT, _free_port, _launch

pytest.importorskip("marimo")

NOTEBOOK = """
import marimo

app = marimo.App()


@app.cell
def _():
    import os
    import signal
    import time

    from pipeloom import TaskDef
    from pipeloom_nb import Loom

    loom = Loom("runs.db", workers=4)
    orders = [TaskDef(i, f"order {{i}}") for i in range({n})]

    def some_fail(task, q):
        time.sleep({pause})
        if task.task_id % 10 == 3:
            raise ConnectionError(f"the API dropped order {{task.task_id}}")

    return TaskDef, loom, orders, os, signal, some_fail, time


@app.cell
def _(loom, orders, some_fail):
    result = loom.run(orders, some_fail, name="orders")
    return (result,)


@app.cell
def _(result):
    result
    return


@app.cell
def _(loom, result):
    loom.timeline(result.run_id)
    return


@app.cell
def _(loom, orders, time):
    def steady(task, q):
        time.sleep(0.001)

    handle = loom.start(orders, steady, name="background")
    return (handle,)


@app.cell
def _(handle):
    handle.result().status
    return


@app.cell
def _(TaskDef, loom, os, signal, time):
    def interrupting(task, q):
        if task.task_id == 20:
            os.kill(os.getpid(), signal.SIGINT)  # what marimo's Interrupt button sends
        time.sleep(0.01)

    loom.run([TaskDef(i, f"t{{i}}") for i in range(300)], interrupting, workers=1, name="stopped")
    return


if __name__ == "__main__":
    app.run()
"""


def _notebook(folder: Path, n: int, pause: float, interrupt: bool = True) -> Path:
    text = NOTEBOOK.format(n=n, pause=pause)
    if not interrupt:
        text = text[: text.index("@app.cell\ndef _(TaskDef")] + text[text.index("if __name__") :]
    path = folder / "orders.py"
    path.write_text(text)
    return path


def _cells(html: str) -> list[dict]:
    """The cells of an exported notebook's session: outputs and console, in order."""
    start = html.index('"session": ') + len('"session": ')
    session, _ = json.JSONDecoder().raw_decode(html, start)
    return session["cells"]


def _html(cell: dict) -> str:
    return "".join(
        o["data"].get("text/html", "") for o in cell["outputs"] if isinstance(o["data"], dict)
    )


@pytest.mark.notebook
@pytest.mark.timeout(120)
def test_an_exported_notebook_shows_progress_results_and_records_an_interrupt_cancelled(tmp_path):
    nb = _notebook(tmp_path, n=200, pause=0.001)
    out = tmp_path / "orders.html"
    cmd = [sys.executable, "-m", "marimo", "export", "html", str(nb), "-o", str(out)]
    done = subprocess.run(
        [*cmd, "--no-sandbox"], cwd=tmp_path, capture_output=True, text=True, timeout=90
    )
    assert out.exists(), done.stderr[-3000:]
    _, run, shown, chart, started, waited, stopped = _cells(out.read_text())
    view = _html(run)  # the cell assigns the result: its output is the run's final view
    assert "pipeloom-progress" in view and "ended with 20 errors: 180 of 200 done" in view
    assert re.findall(r"pipeloom-(done|error)' style='width:([\d.]+)%", view) == [
        ("done", "90.000"),
        ("error", "10.000"),
    ]
    assert "ConnectionError: the API dropped order 3" in view
    result = _html(shown)
    assert "pipeloom-result" in result and "run 1 · orders" in result
    bundle = chart["outputs"][0]["data"]["application/vnd.marimo+mimebundle"]
    assert "image/png" in (bundle if isinstance(bundle, dict) else json.loads(bundle))
    assert "done: 200 tasks" in _html(started)  # drawn from the run's own thread
    assert "&#x27;done&#x27;" in _html(waited)
    console = "".join(c["text"] for c in stopped["console"])
    assert re.search(r"KeyboardInterrupt.*run 3 cancelled by Interrupt: 2\d done", console)
    with sqlite3.connect(tmp_path / "runs.db") as conn:
        status, cancelled = conn.execute(
            "SELECT status, (SELECT count(*) FROM task_runs t WHERE t.run_id = p.run_id "
            "AND t.status = 'cancelled') FROM pipeline_runs p WHERE name = 'stopped'"
        ).fetchone()
    assert status == "cancelled" and cancelled > 250


@pytest.mark.browser
@pytest.mark.timeout(120)
def test_marimo_run_shows_live_progress_then_the_result_in_chromium(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make browser-deps installs it as root)")
    from playwright.sync_api import sync_playwright

    nb = _notebook(tmp_path, n=40, pause=0.4, interrupt=False)
    port = _free_port()
    serve = ["run", str(nb), "--headless", "--no-token", "--host", "127.0.0.1"]
    server = subprocess.Popen(
        [sys.executable, "-m", "marimo", *serve, "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_served(f"http://127.0.0.1:{port}/")
        with sync_playwright() as p:
            browser = _launch(p)
            page = browser.new_page(viewport={"width": 1100, "height": 700})
            page.goto(f"http://127.0.0.1:{port}/")
            try:
                page.wait_for_selector(".pipeloom-task", timeout=30_000)
                live = page.inner_text(".pipeloom-progress")
                page.wait_for_selector(".pipeloom-result .pipeloom-error", timeout=30_000)
            except Exception:
                page.screenshot(path=str(SHOT.with_name("marimo-failure.png")))
                raise
            assert re.search(r"\d+/40 · .*running", live) and "order " in live
            text = page.inner_text(".pipeloom-result")
            assert "ended with 4 errors: 36 of 40 done" in text
            SHOT.parent.mkdir(parents=True, exist_ok=True)
            page.locator(".pipeloom-result").screenshot(path=str(SHOT.with_name("marimo.png")))
            browser.close()
    finally:
        server.terminate()
        server.wait(20)


def _wait_until_served(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.3)
    pytest.fail("marimo did not start")
