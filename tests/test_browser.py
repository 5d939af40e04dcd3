"""End to end in Debian's Chromium via Playwright: JupyterLab and Notebook 7 on localhost."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOT = ROOT / "test-artifacts" / "widget-progress.png"
"""What the user sees; never a tracked file."""
TOKEN = "pipeloom-test"

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

LONG_RUN = """\
import time
from pipeloom import TaskDef
from pipeloom_nb import Loom

def slow(task, q):
    time.sleep(0.05)

result = Loom("stop.db", workers=1).run([TaskDef(i, f"t{i}") for i in range(400)], slow)
result.counts
"""


TIMELINE = """\
import time
from pipeloom import TaskDef
from pipeloom_nb import Loom

seen = set()

def work(task, q):
    time.sleep(0.005 * (task.task_id % 7))
    if task.task_id % 11 == 5 and task.task_id not in seen:
        seen.add(task.task_id)
        raise ConnectionError("flaky page: retried")
    if task.task_id % 23 == 22:
        raise ValueError("a bad page")

Loom("timeline.db", workers=4, progress=False).run(
    [TaskDef(i, f"page {i}") for i in range(80)], work, retries=1, retry_backoff=0.02
).timeline()
"""
WITH_ERRORS = """\
import time
from pipeloom import TaskDef
from pipeloom_nb import Loom

def fetch(task, q):
    time.sleep(0.004)
    if task.task_id % 150 == 13:
        raise ConnectionError(f"HTTPError: 502 from the orders API (order {task.task_id})")

Loom("orders.db", workers=8).run([TaskDef(i, f"order {i}") for i in range(600)], fetch,
                                 name="orders")
"""
ERRORS_SHOT = SHOT.with_name("widget-errors-{app}.png")
"""A run ending with errors as each app shows it (docs/img/widget-progress.png is a copy of
JupyterLab's)."""
TIMELINE_SHOT = SHOT.with_name("timeline.png")
"""The timeline as JupyterLab draws it (docs/img/timeline.png is a copy of one)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(tmp_path: Path, app: str):
    """Start JupyterLab ("jupyterlab") or Notebook 7 ("notebook") on a free local port."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make browser-deps installs it as root)")
    pytest.importorskip("playwright")
    shutil.copy(ROOT / "notebooks" / "01-quickstart.ipynb", tmp_path)
    kernel = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    for name, code in (("stop", LONG_RUN), ("timeline", TIMELINE), ("errors", WITH_ERRORS)):
        nbformat.write(
            nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)], metadata=kernel),
            tmp_path / f"{name}.ipynb",
        )
    port = _free_port()
    app_class = "LabApp" if app == "jupyterlab" else "JupyterNotebookApp"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            app,
            "--no-browser",
            f"--port={port}",
            "--ip=127.0.0.1",
            f"--ServerApp.token={TOKEN}",
            f"--ServerApp.root_dir={tmp_path}",
            "--allow-root",
            f"--{app_class}.expose_app_in_browser=True",
            f"--LabServerApp.workspaces_dir={tmp_path / 'workspaces'}",
            "--LabApp.news_url=",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=1)
            break
        except OSError:
            time.sleep(0.3)
    else:
        proc.terminate()
        pytest.fail(f"{app} did not start")
    return proc, base


@pytest.fixture
def lab(tmp_path):
    proc, base = _serve(tmp_path, "jupyterlab")
    yield base
    proc.terminate()
    proc.wait(20)


@pytest.fixture
def notebook7(tmp_path):
    proc, base = _serve(tmp_path, "notebook")
    yield base
    proc.terminate()
    proc.wait(20)


def _launch(p):
    return p.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    )


def _open_and_run_all(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    page.wait_for_function(
        "window.jupyterapp && window.jupyterapp.shell.currentWidget"
        " && window.jupyterapp.shell.currentWidget.sessionContext"
        ".session?.kernel?.status === 'idle'",
        timeout=90_000,
    )
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")


def test_quickstart_shows_widget_progress_and_dataframe(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = _launch(p)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        _open_and_run_all(page, f"{lab}/lab/tree/01-quickstart.ipynb?token={TOKEN}")
        try:
            page.wait_for_selector(".pipeloom-state:has-text('done: 24 tasks')", timeout=30_000)
        except Exception:
            page.screenshot(path=str(SHOT.with_name("failure.png")))
            raise
        page.wait_for_selector(".jp-RenderedHTMLCommon table.dataframe", timeout=60_000)
        body = page.inner_text(".jp-Notebook")
        assert "Error displaying widget" not in body
        assert "run 1 done: 24 tasks" in body  # the result under the widget: the outcome only
        width = page.evaluate("document.querySelector('.pipeloom-part.pipeloom-done').style.width")
        assert width == "100%"
        _dismiss_toasts(page)
        SHOT.parent.mkdir(parents=True, exist_ok=True)
        page.locator(".jp-Cell:has(.pipeloom-progress)").first.screenshot(path=str(SHOT))
        browser.close()


def test_a_run_ending_with_errors_in_jupyterlab(lab):
    _run_ending_with_errors(f"{lab}/lab/tree/errors.ipynb?token={TOKEN}", "lab")


def test_a_run_ending_with_errors_in_notebook7(notebook7):
    _run_ending_with_errors(f"{notebook7}/notebooks/errors.ipynb?token={TOKEN}", "notebook7")


def _run_ending_with_errors(url: str, app: str) -> None:
    """A green bar with red parts, the outcome in words beside it, each error listed once."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = _launch(p)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        _open_and_run_all(page, url)
        try:
            ended = ".pipeloom-state:has-text('ended with 4 errors')"
            page.wait_for_selector(ended, timeout=60_000)
        except Exception:
            page.screenshot(path=str(SHOT.with_name("failure.png")))
            raise
        page.wait_for_selector(".pipeloom-result", timeout=30_000)
        state = page.inner_text(".pipeloom-state")
        assert state == "ended with 4 errors: 596 of 600 done"
        widths = page.evaluate(
            "[...document.querySelectorAll('.pipeloom-part')]"
            ".map(e => [e.classList[1], e.getBoundingClientRect().width])"
        )
        assert [w[0] for w in widths] == ["pipeloom-done", "pipeloom-error"]
        assert widths[0][1] > 50 * widths[1][1] > 0  # mostly green, a visible red sliver
        body = page.inner_text(".jp-Notebook")
        assert body.count("HTTPError: 502 from the orders API (order 13)") == 1
        assert "Traceback" not in body.replace("Traceback (most recent call last)", "")
        _dismiss_toasts(page)
        shot = Path(str(ERRORS_SHOT).format(app=app))
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.locator(".jp-Cell:has(.pipeloom-progress)").first.screenshot(path=str(shot))
        browser.close()


def _dismiss_toasts(page) -> None:
    for dismiss in page.query_selector_all(".jp-toast-button >> text=No"):
        dismiss.click()


def test_a_timeline_draws_in_jupyterlab(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = _launch(p)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        _open_and_run_all(page, f"{lab}/lab/tree/timeline.ipynb?token={TOKEN}")
        try:
            img = page.wait_for_selector(".jp-OutputArea-output img", timeout=60_000)
        except Exception:
            page.screenshot(path=str(SHOT.with_name("failure.png")))
            raise
        size = page.evaluate("(img) => [img.naturalWidth, img.naturalHeight]", img)
        assert size[0] > 400 and size[1] > 200
        assert "Traceback" not in page.inner_text(".jp-Notebook")
        TIMELINE_SHOT.parent.mkdir(parents=True, exist_ok=True)
        page.locator(".jp-OutputArea-output:has(img)").screenshot(path=str(TIMELINE_SHOT))
        browser.close()


def test_stop_button_cancels_a_blocking_run(lab):
    _stop_a_blocking_run(f"{lab}/lab/tree/stop.ipynb?token={TOKEN}")


def test_notebook7_shows_progress_and_stop_cancels(notebook7):
    _stop_a_blocking_run(f"{notebook7}/notebooks/stop.ipynb?token={TOKEN}")


def _stop_a_blocking_run(url: str) -> None:
    """The task in flight shows while the cell runs; a click on Stop ends the run within
    seconds, the bar showing how far it got."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = _launch(p)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        _open_and_run_all(page, url)
        try:
            stop = page.wait_for_selector(".widget-button:has-text('Stop')", timeout=30_000)
            page.wait_for_selector(".pipeloom-task", timeout=10_000)  # the task in flight
        except Exception:
            page.screenshot(path=str(SHOT.with_name("failure.png")))
            raise
        page.wait_for_timeout(500)
        clicked = time.monotonic()
        stop.click()
        page.wait_for_selector(".pipeloom-state:has-text('cancelled at')", timeout=10_000)
        assert time.monotonic() - clicked < 10  # the whole run takes 20 s
        assert page.query_selector(".pipeloom-part.pipeloom-cancelled") is not None
        page.wait_for_selector(".jp-OutputArea-output:has-text('cancelled')", timeout=10_000)
        assert "Stopped" in page.inner_text(".jp-Notebook")
        browser.close()
