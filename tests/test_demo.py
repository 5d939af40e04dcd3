"""The demo worker reports its own failure as the task's error, as pipeloom 0.0.x's did."""

from __future__ import annotations

import queue

from pipeloom.demo import DemoTask, demo_worker
from pipeloom.messages import MsgTaskFinished, MsgTaskStarted


def test_an_exception_in_the_demo_worker_is_a_finished_error_message():
    q: queue.Queue = queue.Queue()
    demo_worker(DemoTask(4, "from-csv", steps="3"), q, delay=0)  # steps read as text: a TypeError
    msgs = [q.get_nowait() for _ in range(q.qsize())]
    assert [type(m) for m in msgs] == [MsgTaskStarted, MsgTaskFinished]
    fin = msgs[1]
    assert (fin.task_id, fin.status, fin.result) == (4, "error", None)
    assert "can only concatenate str" in fin.message and "TypeError" in fin.traceback
    assert fin.finished_at
