"""The ipywidgets display, inspected through its widgets' traits (no browser)."""

from __future__ import annotations

import threading
import time

import ipywidgets as w

from pipeloom import MsgTaskProgress, TaskDef, run_pipeline
from pipeloom.progress import BarState, StatsSnapshot
from pipeloom_nb import WidgetDisplay
from pipeloom_nb.widget.bars import bars_html
from pipeloom_nb.widget.sync import set_traits


def snap(total=10, done=0, error=0, bars=(), errors=(), elapsed=1.0):
    return StatsSnapshot(
        total=total,
        counts={"done": done, "error": error},
        bars=list(bars),
        errors=list(errors),
        elapsed=elapsed,
        messages=0,
    )


def test_tasks_in_flight_show_up_to_one_per_worker_under_the_progress_line():
    d = WidgetDisplay(max_bars=8)
    d.start(snap(), name="etl", workers=3, cancel=threading.Event())
    assert d.bars == 3 and "<progress" not in d.status.value
    four = [BarState(i, f"task <{i}>", i / 4, f"step {i}") for i in range(4)]
    d.update(snap(done=2, bars=four))
    assert d.overall.value == 2 and d.overall.max == 10
    shown = d.status.value
    assert shown.count("<progress") == 3 and "task &lt;2&gt;" in shown and "task <3>" not in shown
    assert "value='0.500'" in shown and "step 2" in shown and "2/10" in shown
    d.update(snap(done=3, bars=[BarState(3, "three", 0.1, "")]))
    assert d.status.value.count("<progress") == 1 and "three" in d.status.value
    assert "3/10" in d.status.value
    d.update(snap(done=3))
    assert "<progress" not in d.status.value


def test_stop_button_sets_the_cancel_event():
    cancel = threading.Event()
    d = WidgetDisplay()
    d.start(snap(), name="etl", workers=1, cancel=cancel)
    d.stop_button.click()
    assert cancel.is_set() and d.stop_button.disabled


def test_final_state_success_and_failure_colours(db_path):
    ok = WidgetDisplay()
    run_pipeline(db_path, [TaskDef(1, "a")], worker_fn=lambda t, q: None, progress=ok)
    assert ok.overall.bar_style == "success" and ok.overall.value == 1
    assert ok.stop_button.disabled and ok.stop_button.description == "Finished"

    bad = WidgetDisplay()

    def boom(task, q):
        raise OSError("disk on fire")

    run_pipeline(db_path, [TaskDef(1, "a")], worker_fn=boom, progress=bad)
    assert bad.overall.bar_style == "danger"
    assert "disk on fire" in bad.errors.value and bad.errors in bad.widget.children
    assert ok.errors is None and len(ok.widget.children) == 3


def test_stop_button_cancels_a_running_pipeline_without_a_cancel_event_of_its_own(db_path):
    d = WidgetDisplay()

    def worker(task, q):
        if task.task_id == 2:
            d.stop_button.click()

    summary = run_pipeline(
        db_path,
        [TaskDef(i, f"t{i}") for i in range(100)],
        workers=1,
        worker_fn=worker,
        progress=d,
    )
    assert summary.status == "cancelled" and summary.counts["cancelled"] >= 90
    assert d.stop_button.description == "Stopped"


def test_redraws_are_throttled_whatever_the_message_rate(db_path):
    d = WidgetDisplay()

    def worker(task, q):
        for i in range(1, 2001):
            q.put(MsgTaskProgress(task.task_id, i, 2000))

    summary = run_pipeline(
        db_path, [TaskDef(i, f"t{i}") for i in range(50)], workers=4, worker_fn=worker, progress=d
    )
    assert summary.messages >= 100_000
    # one redraw at start, about 10 a second while running, one at the end
    assert d.redraws <= 2 + 12 * summary.elapsed


def test_wait_returns_when_the_run_ends_not_after_its_full_wait():
    display, ended = WidgetDisplay(), threading.Event()
    threading.Timer(0.1, ended.set).start()
    t0 = time.monotonic()
    display.wait(30, ended)
    assert ended.is_set() and time.monotonic() - t0 < 10


def test_outside_a_kernel_the_widget_prints_nothing(db_path, capsys):
    run_pipeline(db_path, [TaskDef(1, "a")], worker_fn=lambda t, q: None, progress=WidgetDisplay())
    out = capsys.readouterr()
    assert "VBox" not in out.out + out.err


class _Recording(w.IntProgress):
    """An IntProgress that records the comm messages it would send (one list of traits each)."""

    def __init__(self, **kw):
        self.sent = []
        super().__init__(**kw)

    def send_state(self, key=None):
        if key is not None and self.get_state(key):
            self.sent.append(sorted([key] if isinstance(key, str) else key))


def test_set_traits_sends_what_changed_as_one_message_and_nothing_for_what_is_shown():
    bar = _Recording(max=1)
    bar.sent.clear()
    assert set_traits(bar, max=10, value=3, bar_style="") == 2
    assert bar.sent == [["max", "value"]] and (bar.max, bar.value) == (10, 3)
    bar.sent.clear()
    assert set_traits(bar, max=10, value=3) == 0 and bar.sent == []
    assert set_traits(bar, value=4) == 1 and bar.sent == [["value"]]


def test_tasks_in_flight_are_escaped_and_their_bars_bounded():
    assert bars_html([]) == ""
    text = bars_html([BarState(1, "<b>", 1.5, "a & b"), BarState(2, "two", -0.2, "")])
    assert "&lt;b&gt;" in text and "a &amp; b" in text and "<b>" not in text
    assert "value='1.000'" in text and "value='0.000'" in text
