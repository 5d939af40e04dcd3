"""`executor=<dask.distributed.Client>`: tasks on a Dask cluster, messages back through it.

Workers on the cluster put message batches on a `distributed.Queue` (bounded, so a slow
writer slows the workers down instead of filling the scheduler's memory); one thread in
the client's process takes them off and hands them to the writer. The cancel is a
`distributed.Event`. The cluster's workers never open the database; they need pipeloom
installed, as any library their tasks use.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .wire import Link

__all__ = ["DaskBackend", "DaskReturnPath", "is_dask_client"]

QUEUE_BATCHES = 64
ASK = b"T:"
"""Prefix of a worker's request for a start, followed by the queue for the answer."""
ASK_TIMEOUT = 300


def is_dask_client(obj: Any) -> bool:
    """True for a `dask.distributed.Client` (without importing distributed otherwise)."""
    return type(obj).__module__.startswith("distributed.") and hasattr(obj, "submit")


@dataclass(frozen=True)
class DaskReturnPath:
    """Names of the run's queue and cancel event on the cluster."""

    key: str
    cancel: str

    def open(self) -> Link:
        """Reach the queue and event through this worker's client; answers come on a queue
        of this process's own. Every start asks (a round trip per task is Dask's anyway)."""
        from distributed import Event, Queue

        from .wire import Link

        queue, event = Queue(self.key), Event(self.cancel)
        answers = Queue(f"{self.key}-ask-{uuid.uuid4().hex}")

        def ask() -> float:
            queue.put(ASK + answers.name.encode())
            return float(answers.get(timeout=ASK_TIMEOUT))

        return Link(queue.put, event.is_set, ask, _always)


def _always() -> bool:
    return True


class DaskBackend:
    """Submit to a `distributed.Client`; its cluster runs the tasks."""

    chunk_most = 1
    """One task per call: Dask re-runs the tasks of a lost worker itself, one by one."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._closed = False
        self._ask: Callable[[], float] = lambda: 0.0

    def default_workers(self) -> int:
        """Tasks in flight by default: the cluster's threads."""
        return max(1, sum(self.client.nthreads().values()))

    def window(self, workers: int) -> int:
        """A scheduler round trip per task: keep more submitted to hide it (cancelled tasks
        that start anyway skip at once)."""
        return max(4 * workers, 32)

    def return_path(self, ask: Callable[[], float], paced: bool) -> DaskReturnPath:
        """Make the run's queue and cancel event on the scheduler; `ask()` answers starts
        (every start asks, `paced` or not)."""
        from distributed import Event, Queue

        self._ask = ask
        name = f"pipeloom-{uuid.uuid4().hex}"
        self._queue = Queue(name, client=self.client, maxsize=QUEUE_BATCHES)
        self._event = Event(f"{name}-cancel", client=self.client)
        return DaskReturnPath(name, f"{name}-cancel")

    def receive(self, timeout: float) -> list[bytes]:
        """Batches on the queue; when there is none, wait `timeout` seconds and say so.

        Polls rather than blocking in `get(timeout=)`, whose timeouts the scheduler logs.
        """
        batches = self._queue.get(batch=True)
        if not batches:
            time.sleep(timeout)
        return [b for b in batches if not self._answered(b)]

    def _answered(self, data: bytes) -> bool:
        """Answer a worker's request for a start; False for a batch of messages."""
        if not data.startswith(ASK):
            return False
        from distributed import Queue

        Queue(data[len(ASK) :].decode(), client=self.client).put(self._ask())
        return True

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Submit one call (never cached: every task runs)."""
        return self.client.submit(fn, *args, pure=False)

    def cancel(self, future: Any) -> bool:
        """Dask cannot tell queued from running; queued tasks see the cancel and skip."""
        return False

    def died(self, exc: BaseException) -> bool:
        """Dask re-runs tasks of a lost worker itself; its `KilledWorker` is final."""
        return False

    def signal_cancel(self) -> None:
        """Set the run's cancel event."""
        self._event.set()

    def pace(self) -> None:
        """Every start already asks."""

    def drain(self) -> None:
        """Nothing to wait for: `died()` is never true."""

    def stop(self, futures: list[Any]) -> None:
        """Release the futures (Dask cannot interrupt a task that is running)."""
        self.client.cancel(futures)

    def close(self) -> None:
        """Release the queue."""
        if not self._closed:
            self._closed = True
            self._queue.close()
