"""The ipywidgets display, inspected through its widgets' traits (no browser)."""

from __future__ import annotations

import re
import threading
import time

import ipywidgets as w
import pytest

from pipeloom import MsgTaskProgress, TaskDef, run_pipeline
from pipeloom.progress import BarState, StatsSnapshot
from pipeloom_nb import WidgetDisplay
from pipeloom_nb.render import tasks_html
from pipeloom_nb.widget.sync import set_traits


def snap(total=10, done=0, error=0, bars=(), errors=(), elapsed=1.0, in_flight=None):
    return StatsSnapshot(
        total=total,
        counts={"done": done, "error": error},
        bars=list(bars),
        errors=list(errors),
        elapsed=elapsed,
        messages=0,
        in_flight=len(bars) if in_flight is None else in_flight,
    )


def parts(view: str) -> dict[str, float]:
    """The stacked bar's parts in a view: status -> width in percent."""
    found = re.findall(r"pipeloom-part pipeloom-(\w+)' style='width:([\d.]+)%", view)
    return {status: float(pct) for status, pct in found}


def test_tasks_in_flight_show_up_to_one_per_worker_longest_running_first():
    d = WidgetDisplay(max_bars=8)
    d.start(snap(), name="etl", workers=3, cancel=threading.Event())
    assert d.bars == 3 and "<progress" not in d.view.value
    four = [BarState(i, f"task <{i}>", i / 4, f"step {i}", 40.0 - i) for i in range(4)]
    d.update(snap(done=2, bars=four))
    shown = d.view.value
    assert shown.count("<progress") == 3 and "task &lt;2&gt;" in shown and "task <3>" not in shown
    assert "value='0.500'" in shown and "step 2" in shown and "2/10" in shown
    assert shown.index("40.0s") < shown.index("39.0s") and "… and 1 more running" in shown
    assert "<progress max='1'" in shown  # task 0 reports no progress: a moving bar
    d.update(snap(done=3, bars=[BarState(3, "three", 0.1, "")]))
    assert d.view.value.count("<progress") == 1 and "three" in d.view.value
    assert "3/10" in d.view.value
    d.update(snap(done=3))
    assert "<progress" not in d.view.value


def test_the_bar_stacks_the_statuses_in_proportion():
    d = WidgetDisplay()
    d.start(snap(total=3000), name="orders", workers=4, cancel=threading.Event())
    d.update(snap(total=3000, done=2996, error=4, in_flight=0))
    widths = parts(d.view.value)
    assert widths == {"done": pytest.approx(99.867, abs=0.001), "error": pytest.approx(0.133)}
    assert "min-width:2px" in d.view.value  # 4 errors in 3,000 stay visible


def test_a_run_with_errors_ends_green_with_a_red_part_and_says_so(db_path):
    d = WidgetDisplay()

    def some_fail(task, q):
        if task.task_id % 50 == 7:
            raise OSError(f"disk on fire {task.task_id}")

    tasks = [TaskDef(i, f"t{i}") for i in range(200)]
    run_pipeline(db_path, tasks, worker_fn=some_fail, progress=d)
    assert parts(d.view.value) == {"done": 98.0, "error": 2.0}
    assert "ended with 4 errors: 196 of 200 done" in d.view.value
    assert "disk on fire 7" in d.errors.value and d.errors in d.widget.children
    assert d.stop_button.disabled and d.stop_button.description == "Finished"


def test_a_stopped_run_shows_how_far_it_got(db_path):
    d = WidgetDisplay()

    def worker(task, q):
        if task.task_id == 20:
            d.stop_button.click()

    tasks = [TaskDef(i, f"t{i}") for i in range(300)]
    summary = run_pipeline(db_path, tasks, workers=1, worker_fn=worker, progress=d)
    done = summary.counts["done"]
    widths = parts(d.view.value)
    assert set(widths) == {"done", "cancelled"} and 21 <= done <= 25
    assert widths["done"] == pytest.approx(100 * done / 300, abs=0.001)
    assert f"cancelled at {round(100 * done / 300)}%: {done} of 300 done" in d.view.value
    assert d.stop_button.description == "Stopped"


def test_stop_button_sets_the_cancel_event():
    cancel = threading.Event()
    d = WidgetDisplay()
    d.start(snap(), name="etl", workers=1, cancel=cancel)
    d.stop_button.click()
    assert cancel.is_set() and d.stop_button.disabled


def test_a_run_done_is_all_green_and_opens_no_errors_block(db_path):
    ok = WidgetDisplay()
    run_pipeline(db_path, [TaskDef(1, "a")], worker_fn=lambda t, q: None, progress=ok)
    assert parts(ok.view.value) == {"done": 100.0} and "done: 1 task" in ok.view.value
    assert ok.stop_button.disabled and ok.stop_button.description == "Finished"
    assert ok.errors is None and len(ok.widget.children) == 1


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
    assert tasks_html([]) == ""
    text = tasks_html([BarState(1, "<b>", 1.5, "a & b"), BarState(2, "two", -0.2, "")])
    assert "&lt;b&gt;" in text and "a &amp; b" in text and "<b>" not in text
    assert "value='1.000'" in text and text.count("<progress max='1'") == 1  # no progress: moving


def test_a_result_after_the_widget_says_only_the_outcome_and_alone_says_it_all(db_path):
    from pipeloom_nb import Loom

    def fail_one(task, q):
        if task.task_id == 3:
            raise OSError("disk on fire")

    tasks = [TaskDef(i, f"t{i}") for i in range(10)]
    under_widget = Loom(db_path, progress="widgets").run(tasks, fail_one)
    alone = Loom(db_path, progress=False).run(tasks, fail_one)
    assert under_widget.shown and not alone.shown
    short = under_widget._repr_html_()
    assert "ended with 1 error: 9 of 10 done" in short and "listed above" in short
    assert "disk on fire" not in short and "pipeloom-bar" not in short
    whole = alone._repr_html_()
    assert "pipeloom-bar" in whole and "disk on fire" in whole and "<details>" in whole
