"""What the displays say: this run's rate and ETA, skipped tasks apart, the outcome in words,
and the tasks in flight, longest-running first."""

from __future__ import annotations

import threading
import time

from pipeloom import TaskDef, run_pipeline
from pipeloom.progress import StatsSnapshot
from pipeloom.progress.words import duration, outcome_text, progress_line


def snap(counts, total=3000, elapsed=10.0, in_flight=0, retries=0, **kw):
    return StatsSnapshot(
        total, counts, [], [], elapsed, 0, in_flight=in_flight, retries=retries, **kw
    )


def test_a_resumed_run_counts_its_skipped_tasks_apart_from_its_rate():
    s = snap({"skipped": 2996}, elapsed=8.0, in_flight=4, resumed_from=12)
    assert s.rate == 0.0 and s.eta is None  # nothing ran yet: no rate, no ETA
    line = progress_line(s)
    assert line.startswith("0/4 · 4 running · 0.0 tasks/s · 8.0s elapsed")
    assert line.endswith("resuming run 12: 2,996 done before") and "ETA" not in line
    later = snap({"skipped": 2996, "done": 2}, elapsed=20.0, in_flight=2, resumed_from=12)
    assert later.rate == 0.1 and later.eta == 20.0 and later.eta_is_lower_bound
    ended = snap({"skipped": 2996, "done": 4}, elapsed=30.0, resumed_from=12, finished=True)
    assert progress_line(ended).endswith("resumed run 12: 2,996 done before")


def test_the_eta_is_never_zero_while_tasks_are_left_and_says_when_it_is_a_lower_bound():
    almost = snap({"done": 2999}, elapsed=100.0, in_flight=1)
    assert almost.eta == 1.0 and "ETA ≥ 1.0s" in progress_line(almost)
    retrying = snap({"done": 1000}, elapsed=40.0, in_flight=8, retries=3)
    assert retrying.eta == 80.0 and "ETA ≥ 1m 20s" in progress_line(retrying)
    plain = snap({"done": 1000}, elapsed=40.0, in_flight=8)
    assert "ETA 1m 20s" in progress_line(plain)
    assert snap({"done": 3000}).eta == 0.0 and "ETA" not in progress_line(snap({"done": 3000}))


def test_the_outcome_in_words():
    assert outcome_text("done", snap({"done": 3000})) == "done: 3,000 tasks"
    errors = snap({"done": 2996, "error": 4})
    assert outcome_text("error", errors) == "ended with 4 errors: 2,996 of 3,000 done"
    stopped = snap({"done": 225, "cancelled": 2975}, total=3200)
    assert outcome_text("cancelled", stopped) == "cancelled at 7%: 225 of 3,200 done"
    assert duration(4.25) == "4.2s" and duration(185) == "3m 05s" and duration(7620) == "2h 07m"


def test_tasks_in_flight_show_longest_running_first_with_their_time(db_path):
    seen: list[StatsSnapshot] = []
    go = threading.Event()

    class Recording:
        def start(self, snapshot, *, name, workers, cancel):
            pass

        def update(self, snapshot):
            seen.append(snapshot)
            if len(seen) > 5:
                go.set()

        def wait(self, seconds, until=None):
            (until or threading.Event()).wait(seconds)

        def finish(self, snapshot, summary):
            seen.append(snapshot)

    def quiet(task, q):  # sends nothing until it ends: only the runner knows it runs
        if task.task_id < 4:
            go.wait(10)
        else:
            time.sleep(0.05)

    tasks = [TaskDef(i, f"order {i}") for i in range(12)]
    run_pipeline(db_path, tasks, workers=6, worker_fn=quiet, progress=Recording())
    live = seen[5]
    assert live.in_flight >= 4 and [b.name for b in live.bars[:4]] == [
        f"order {i}" for i in range(4)
    ]
    assert all(b.elapsed > 0.3 for b in live.bars[:4])
    assert live.bars[0].elapsed >= live.bars[-1].elapsed
    assert seen[-1].bars == [] and seen[-1].in_flight == 0
