"""What a failed attempt means: retry or not, the server's delay, and the error to record.

Judging an exception runs user code: a `retry_on` predicate, the exception's own
`__str__` and attributes. Whatever that code raises fails this task, named in its error;
it never reaches the worker's thread. A push-back longer than `max_retry_after` is not
obeyed: the task fails naming the server's value, and the run's other starts go on.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.exctext import describe, format_traceback
from ..core.queue import CancelFlag
from .retry import PushBack, RetryPolicy, push_back
from .timeouts import timed_out

__all__ = ["Verdict", "judge"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """How one failed attempt is recorded, and what comes next."""

    error: str
    """`TypeName: text`, with why it is not retried when pipeloom decided so."""
    traceback: str
    retry: bool
    retry_after: float | None
    """Seconds the server asked to wait, when that push-back is obeyed."""
    timed_out: bool | None
    """None: not a time limit; True: the attempt was left running in its thread."""


def judge(exc: BaseException, policy: RetryPolicy, attempt: int, cancelled: CancelFlag) -> Verdict:
    """The verdict on attempt number `attempt` (1-based), which raised `exc`."""
    error, tb = describe(exc), format_traceback(exc)
    try:
        said, limit = push_back(exc), timed_out(exc)
    except BaseException as failure:  # an exception whose attributes raise
        return _not_retried(error, tb, "reading it raised", failure)
    if said is not None and not said.seconds <= policy.max_retry_after:
        return Verdict(error + _too_long(said, policy), tb, False, None, limit)
    try:
        retry = attempt <= policy.retries and policy.wants(exc)
    except BaseException as failure:  # the predicate's own failure: this task's, not the thread's
        return _not_retried(error, tb, "retry_on raised", failure)
    retry = retry and not cancelled.is_set()
    return Verdict(error, tb, retry, None if said is None else said.seconds, limit)


def _too_long(said: PushBack, policy: RetryPolicy) -> str:
    return (
        f" (not retried: the server asked to wait {said.seconds:g} s ({said.said}), "
        f"more than max_retry_after={policy.max_retry_after:g} s)"
    )


def _not_retried(error: str, tb: str, what: str, failure: BaseException) -> Verdict:
    text = f"{error} (not retried: {what} {describe(failure)})"
    return Verdict(text, f"{tb}\n{what}:\n{format_traceback(failure)}", False, None, None)
