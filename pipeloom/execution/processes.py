"""`executor="processes"`: a loky process pool, messages back over a local socket.

loky pickles worker functions with cloudpickle, so functions and closures defined in a
notebook cell run in the pool, and its workers are reused from run to run. Each worker
process connects once to a listener in the writer's process (authenticated, Unix
socket) and sends message batches on it; the same connection carries the parent's
notes (`CANCEL`; `PACE`: ask for every start from now on) and its answers to `ASK`.
Workers ignore SIGINT: Ctrl-C and Jupyter's Interrupt reach the whole process group,
and the parent cancels the run in order instead.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Client, Connection, Listener, wait
from typing import Any

from .wire import Link

__all__ = ["ASK", "CANCEL", "CHUNK_MOST", "PACE", "ProcessBackend", "SocketReturnPath"]

ASK = b"T"
"""A worker process asks for a start (a pickled batch never is this short)."""
CANCEL = b"cancel"
"""The parent's note: the run is cancelled."""
PACE = b"pace"
"""The parent's note: from now on every start asks (a server pushed back)."""
CHUNK_MOST = 1000
"""Most tasks per pool call: what a dead process can take with it, to be run again."""
DRAIN_SECONDS = 5.0
"""After a death, how long to wait at most for the dead processes' sockets to end."""


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@dataclass(frozen=True)
class SocketReturnPath:
    """The address and key a worker process uses to reach the writer's process."""

    address: str
    authkey: bytes
    key: str
    paced: bool = False
    """Every start asks the parent from the first (a `rate=`); else only after `PACE`."""

    def open(self) -> Link:
        """Connect; the parent's notes (`CANCEL`, `PACE`) are read when polling or asking."""
        conn = Client(self.address, authkey=self.authkey)
        lock = threading.Lock()
        state = {CANCEL: False, PACE: self.paced}

        def note(data: bytes) -> bool:
            if data in state:
                state[data] = True
                return True
            return False

        def poll() -> bool:
            with lock:
                try:
                    while not state[CANCEL] and conn.poll():
                        note(conn.recv_bytes())
                except (OSError, EOFError):
                    state[CANCEL] = True
            return state[CANCEL]

        def ask() -> float:
            with lock:
                try:
                    conn.send_bytes(ASK)
                    while note(reply := conn.recv_bytes()):
                        pass
                except (OSError, EOFError):
                    state[CANCEL] = True
                    return 0.0
            return float(reply[1:])

        return Link(conn.send_bytes, poll, ask, lambda: state[PACE])


class ProcessBackend:
    """A loky reusable process pool of `workers` processes."""

    chunk_most = CHUNK_MOST
    """Tasks per pool call at most (`ChunkSizer` picks fewer while calls are short)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._conns: list[Connection] = []
        self._lock = threading.Lock()
        self._notes: list[bytes] = []
        """What every connection is told, new ones when they connect: `PACE`, `CANCEL`."""
        self._closed = False
        self._executor: Any = None
        self._ask: Callable[[], float] = lambda: 0.0

    def _get_executor(self) -> Any:
        from loky import get_reusable_executor

        return get_reusable_executor(max_workers=self.workers, initializer=_ignore_sigint)

    def window(self, workers: int) -> int:
        """Two calls per process: one running, one waiting in the pool's call queue."""
        return 2 * workers

    def return_path(self, ask: Callable[[], float], paced: bool) -> SocketReturnPath:
        """Listen on a fresh Unix socket; worker processes connect on their first message.

        A worker's `ASK` is answered with `ask()`: seconds until its start. Unless `paced`,
        workers ask only once told `PACE` (`pace()`).
        """
        self._ask = ask
        self._executor = self._get_executor()
        authkey = os.urandom(16)
        self._listener = Listener(family="AF_UNIX", authkey=authkey)
        self._return_path = SocketReturnPath(
            self._listener.address, authkey, self._listener.address, paced
        )
        threading.Thread(target=self._accept, name="pipeloom-accept", daemon=True).start()
        return self._return_path

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn = self._listener.accept()
            except Exception:
                continue
            with self._lock:
                if self._closed:
                    conn.close()
                    return
                self._conns.append(conn)
                for note in self._notes:
                    _send_quietly(conn, note)

    def _wake_accept(self) -> None:
        with contextlib.suppress(Exception):  # the listener closed first: accept() returned
            Client(self._return_path.address, authkey=self._return_path.authkey).close()

    def receive(self, timeout: float) -> list[bytes]:
        """Batches from every connection that has one, waiting up to `timeout` seconds."""
        with self._lock:
            conns = list(self._conns)
        if not conns:
            time.sleep(timeout)
            return []
        batches = []
        for conn in wait(conns, timeout):
            try:
                data = conn.recv_bytes()
                if data == ASK:
                    self._answer(conn)
                else:
                    batches.append(data)
            except (OSError, EOFError):
                with self._lock:
                    if conn in self._conns:
                        self._conns.remove(conn)
        return batches

    def _answer(self, conn: Connection) -> None:
        wait = self._ask()
        with self._lock:  # never inside a "cancel" sent from another thread
            conn.send_bytes(b"W%r" % wait)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Submit to the pool; a pool broken by a killed worker is replaced once."""
        from concurrent.futures.process import BrokenProcessPool

        from loky.process_executor import ShutdownExecutorError

        try:
            return self._executor.submit(fn, *args)
        except (BrokenProcessPool, ShutdownExecutorError, RuntimeError):
            self._executor = self._get_executor()
            return self._executor.submit(fn, *args)

    def cancel(self, future: Any) -> bool:
        """Cancel a future still waiting for a process."""
        return future.cancel()

    def died(self, exc: BaseException) -> bool:
        """A killed worker process breaks the pool and fails every task in it."""
        from concurrent.futures.process import BrokenProcessPool

        return isinstance(exc, BrokenProcessPool)

    def signal_cancel(self) -> None:
        """Tell every connected worker process the run is cancelled."""
        self._tell(CANCEL)

    def pace(self) -> None:
        """Tell every worker process to ask for each start from now on (a push-back)."""
        self._tell(PACE)

    def _tell(self, note: bytes) -> None:
        with self._lock:
            if note in self._notes:
                return
            self._notes.append(note)
            for conn in self._conns:
                _send_quietly(conn, note)

    def drain(self) -> None:
        """Wait until what dead processes sent is read: every connection open now has ended.

        Called once the pool broke: loky kills all its processes, so each connection open
        now reaches its end, after the batches sent before the death.
        """
        with self._lock:
            conns = list(self._conns)
        deadline = time.monotonic() + DRAIN_SECONDS
        while time.monotonic() < deadline:
            with self._lock:
                if not any(c in self._conns for c in conns):
                    return
            time.sleep(0.005)

    def stop(self, futures: list[Any]) -> None:
        """Kill the pool's processes (a new pool starts with the next run)."""
        self._executor.shutdown(wait=False, kill_workers=True)

    def close(self) -> None:
        """Stop listening and close every connection."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            conns, self._conns = self._conns, []
        waker = threading.Thread(target=self._wake_accept, daemon=True)
        waker.start()
        waker.join(1)
        self._listener.close()
        for conn in conns:
            conn.close()


def _send_quietly(conn: Connection, data: bytes) -> None:
    with contextlib.suppress(OSError, EOFError):
        conn.send_bytes(data)
