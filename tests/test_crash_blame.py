"""CrashBlame: which task killed a pool process, decided without a pool."""

from __future__ import annotations

from pipeloom.execution.attempt import Item
from pipeloom.execution.blame import CrashBlame


def item(i: int) -> Item:
    return Item(f"task {i}", i, f"t{i}")


def test_suspects_run_again_alone_a_call_at_a_time():
    blame = CrashBlame()
    assert not blame
    blame.suspect([item(1), item(2), item(3)])
    assert blame
    assert blame.next_solo(2) == [item(1), item(2)] == blame.solo
    assert blame.next_solo(5) == [item(3)]
    assert not blame


def test_the_first_task_not_heard_ending_is_blamed_and_retried_while_retries_allow():
    blame = CrashBlame()
    unheard = [item(4), item(5)]
    assert blame.killer(unheard, retries=1, cancelled=False) == (item(4), True)
    assert blame.killer(unheard, retries=1, cancelled=False) == (item(4), False)
    assert blame.killer([item(5)], retries=0, cancelled=False) == (item(5), False)


def test_no_retry_once_the_run_is_cancelled():
    assert CrashBlame().killer([item(1)], retries=3, cancelled=True) == (item(1), False)


def test_requeued_tasks_come_first_in_order_and_a_cancel_takes_every_suspect():
    blame = CrashBlame()
    blame.suspect([item(9)])
    blame.requeue([item(1), item(2)])
    assert blame.take_all() == [item(1), item(2), item(9)]
    assert not blame and blame.take_all() == []
