"""The task state machine, driven directly: no thread, no database."""

from __future__ import annotations

import pytest

from pipeloom.core.control import TaskClosed, TasksCancelled
from pipeloom.messages import MsgTaskFinished, MsgTaskProgress, MsgTaskStarted
from pipeloom.store.tasks import TaskBook

T0, T1 = "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:01+00:00"
NS0, NS1 = 1_767_225_600 * 10**9, 1_767_225_601 * 10**9  # T0 and T1 as time.time_ns()


def closed(task_id, error=None, retrying=False):
    tb = None if error is None else f"Traceback...\n{error}"
    return TaskClosed(task_id, f"t{task_id}", NS0, NS1, error, tb, retrying)


@pytest.fixture
def book():
    b = TaskBook()
    b.add([(1, "t1"), (2, "t2"), (3, "t3")], skipped=frozenset({3}))
    b.take_dirty()
    return b


def counts(book):
    return {k: v for k, v in book.stats.counts.items() if v}


def test_tasks_start_queued_or_skipped(book):
    assert counts(book) == {"queued": 2, "skipped": 1}
    assert book.stats.total == 3


def test_a_task_runs_then_is_done_when_its_worker_returns(book):
    book.started(MsgTaskStarted(1, "t1", T0))
    assert book.tasks[1].status == "running" and 1 in book.stats.in_flight
    book.progress(MsgTaskProgress(1, 1, 4, "a quarter"))
    assert book.tasks[1].progress == 0.25
    book.closed(closed(1))
    st = book.tasks[1]
    assert (st.status, st.progress, st.attempts) == ("done", 1.0, 1)
    assert 1 not in book.stats.in_flight
    assert counts(book) == {"queued": 1, "skipped": 1, "done": 1}


def test_only_changed_rows_are_dirty_and_each_once(book):
    book.progress(MsgTaskProgress(1, 1, 2))
    book.progress(MsgTaskProgress(1, 2, 2))
    assert [st.task_id for st in book.take_dirty()] == [1]
    assert book.take_dirty() == []


def test_a_raising_worker_makes_an_error_with_its_traceback(book):
    book.closed(closed(2, "ValueError: bad"))
    st = book.tasks[2]
    assert st.status == "error" and "ValueError: bad" in st.error
    assert [e.message for e in book.stats.errors] == ["ValueError: bad"]


def test_a_retry_keeps_the_task_open_and_success_says_which_attempt(book):
    book.closed(closed(1, "OSError: flaky", retrying=True))
    assert book.tasks[1].status == "running"
    assert book.tasks[1].message == "retrying after OSError: flaky"
    book.closed(closed(1))
    assert book.tasks[1].status == "done"
    assert book.tasks[1].message == "done at attempt 2"
    assert book.stats.errors == []


def test_the_workers_own_final_status_wins_over_a_plain_return(book):
    book.finished(MsgTaskFinished(1, "error", T1, message="gave up"))
    book.closed(closed(1))
    assert book.tasks[1].status == "error" and book.tasks[1].message == "gave up"


def test_a_failed_handler_is_final_even_if_the_worker_says_done(book):
    book.handler_failed(1, "MsgRows: IntegrityError", "tb")
    book.finished(MsgTaskFinished(1, "done", T1))
    book.closed(closed(1))
    assert book.tasks[1].status == "error"
    assert book.tasks[1].message == "MsgRows: IntegrityError"


def test_cancel_leaves_finished_tasks_alone(book):
    book.closed(closed(1))
    book.cancelled(TasksCancelled((1, 2), T1, "cancelled"))
    assert book.tasks[1].status == "done" and book.tasks[2].status == "cancelled"
    assert counts(book) == {"done": 1, "cancelled": 1, "skipped": 1}


def test_a_message_for_an_id_not_in_the_run_is_one_run_error_and_no_row(book):
    book.started(MsgTaskStarted(99, "ghost", T0))
    book.progress(MsgTaskProgress(99, 1, 2))
    assert 99 not in book.tasks and book.take_dirty() == []
    [err] = book.stats.errors
    assert err.task_id is None and "task id 99, which is not in this run" in err.message


def test_a_book_without_registered_tasks_adds_them_as_they_come():
    b = TaskBook()
    b.started(MsgTaskStarted(5, "five", T0))
    assert b.tasks[5].status == "running" and b.stats.errors == []


def test_an_unhashable_task_id_is_a_run_error(book):
    book.progress(MsgTaskProgress([1], 1, 2))
    assert "not hashable" in book.stats.errors[0].message


def test_a_finished_status_outside_the_protocol_is_an_error_for_good(book):
    book.finished(MsgTaskFinished(1, "ok", T1))
    book.closed(closed(1))
    st = book.tasks[1]
    assert st.status == "error" and "status 'ok'" in st.message


def test_unencodable_text_is_stored_escaped(book):
    book.progress(MsgTaskProgress(1, 1, 2, "bad \ud800"))
    book.finished(MsgTaskFinished(2, "error", T1, result="\udcff", message="m", traceback="\ud800"))
    assert book.tasks[1].message == "bad \\ud800"
    assert book.tasks[2].result == "\\udcff" and book.tasks[2].error == "\\ud800"
    assert book.stats.errors[0].traceback == "\\ud800"


def test_a_task_whose_rows_were_dropped_is_cancelled_even_if_it_returns(book):
    book.dropped(1, "a MsgRows message")
    book.closed(closed(1))
    st = book.tasks[1]
    assert st.status == "cancelled" and "was not written" in st.message


def test_a_done_task_that_loses_a_late_message_is_no_longer_done(book):
    book.closed(closed(1))
    book.dropped(1, "a MsgRows message")
    assert book.tasks[1].status == "cancelled"
    assert counts(book) == {"queued": 1, "cancelled": 1, "skipped": 1}


def test_settle_closes_unfinished_tasks_as_error_or_cancelled(book):
    book.started(MsgTaskStarted(1, "t1", T0))
    book.settle(cancelled=False, finished_at=T1)
    assert book.tasks[1].status == book.tasks[2].status == "error"
    assert book.tasks[1].message == "the run ended before this task finished"
    assert book.tasks[3].status == "skipped"
    b = TaskBook()
    b.add([(1, "t1")])
    b.settle(cancelled=True, finished_at=T1)
    assert b.tasks[1].status == "cancelled" and b.stats.errors == []
