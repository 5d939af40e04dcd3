"""What travels between a pool process and the run's process: the worker, message batches.

A batch is one or more pickled lists of messages, one after another (`pickle_batch` each,
`read_batch` all); a process reaches the parent through a `ReturnPath`'s `Link`.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, Protocol

import cloudpickle

from ..errors import PicklingFailed

__all__ = ["Link", "ReturnPath", "dumps_worker", "pickle_batch", "read_batch"]


class Link(NamedTuple):
    """A worker process's ends of the return path."""

    send: Callable[[bytes], None]
    """Send one batch of pickled messages."""
    poll: Callable[[], bool]
    """True once the run is cancelled (asks the parent: call it sparingly)."""
    ask: Callable[[], float]
    """Have the parent take one start of the run's rate; seconds until it is ours."""
    paced: Callable[[], bool]
    """True when every start must `ask` (a `rate=`, or the server pushed back)."""


class ReturnPath(Protocol):
    """How a worker process reaches the writer's process; picklable, opened where it runs."""

    key: str

    def open(self) -> Link:
        """Connect; the parent hands out every start (`ask`), when the run is paced."""
        ...


def dumps_worker(fn: Callable[..., Any]) -> bytes:
    """Pickle a worker function by value where needed (cells, closures); clear error if not."""
    try:
        return cloudpickle.dumps(fn)
    except Exception as exc:
        name = getattr(fn, "__qualname__", repr(fn))
        raise PicklingFailed(
            f"worker {name} cannot be sent to other processes: {exc}. "
            "Make what it uses picklable, or run it with executor='threads'."
        ) from exc


def pickle_batch(msgs: list[Any]) -> tuple[bytes, PicklingFailed | None]:
    """Pickle a batch of messages; those that cannot be pickled are left out, the first named."""
    try:
        return cloudpickle.dumps(msgs), None
    except Exception:
        good, error = [], None
        for m in msgs:
            try:
                cloudpickle.dumps(m)
            except Exception as bad:
                error = error or PicklingFailed(
                    f"message {type(m).__qualname__} cannot be pickled: {bad}"
                )
            else:
                good.append(m)
        return (cloudpickle.dumps(good) if good else b""), error


def read_batch(data: bytes) -> Iterator[Any]:
    """The messages of one batch: pickled lists, one after another, in the order put."""
    stream = io.BytesIO(data)
    while stream.tell() < len(data):
        yield from pickle.Unpickler(stream).load()  # a fresh memo for each pickle
