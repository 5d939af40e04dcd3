"""Let the kernel handle widget clicks while a cell waits for a run.

A cell that blocks keeps the kernel from reading its shell messages, so a click on Stop
would only reach the button after the run. While `loom.run` waits (or its coroutines
run on the kernel's loop), it reads the shell messages the kernel has queued for the main
thread itself: widget (comm) messages are
handled at once, as ipykernel 7 does for comm messages that arrive during an async cell;
any other message (the next cell, say) is handed back to the kernel's own handler, which
runs it after this cell, in order.

This relies on how ipykernel 7 routes shell messages to the main thread (a socket pair
from its shell channel thread). Where that is not found (another kernel, an older
ipykernel, a thread other than the kernel's main thread) the wait is plain sleeping: Stop
then acts when the cell ends, and Interrupt Kernel cancels at once.
"""

from __future__ import annotations

import inspect
import threading
import time
from typing import Any

__all__ = ["UiEvents"]

HANDLED_NOW = frozenset({"comm_open", "comm_msg", "comm_close", "comm_info_request"})
"""Widget traffic: clicks and state (`comm_*`), and the widget manager's first question."""

SLICE = 0.05
"""Seconds at most, while a run lasts, before a click that came meanwhile is handled."""


class _ShellInbox:
    """The main thread's end of ipykernel 7's shell routing, read here while a run lasts.

    The kernel's own reader of that socket is paused meanwhile (it would otherwise take
    the messages when a run's coroutines drive the kernel's loop) and resumed at `close`.
    """

    def __init__(self, kernel: Any, stream: Any, reply_to: Any) -> None:
        self.kernel = kernel
        self.stream = stream
        self.reply_to = reply_to
        self.callback = stream._recv_callback
        stream.stop_on_recv()
        import zmq  # there with ipykernel, whose socket this is

        self._events, self._readable = zmq.EVENTS, zmq.POLLIN

    def handle_pending(self, timeout: float, until: threading.Event | None = None) -> None:
        """Handle shell messages as they come for up to `timeout` seconds, or until `until`.

        With `until`, the wait is on the event (the run's end is noticed at once) and the
        socket is read after every `SLICE` seconds; without it, the wait is on the socket.
        Whether a message waits is asked of the socket without letting go of the GIL: a
        poll would hand it to a worker and wait to get it back, twenty times a second.
        """
        socket = self.stream.socket
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left > 0 and until is None:
                socket.poll(max(1, int(left * 1000)))
            elif left > 0 and until is not None and not until.is_set():
                until.wait(min(left, SLICE))
            while socket.get(self._events) & self._readable:
                self._handle(socket.recv_multipart(copy=False))
            if deadline <= time.monotonic() or (until is not None and until.is_set()):
                return

    def _handle(self, frames: list[Any]) -> None:
        session = self.kernel.session
        idents, rest = session.feed_identities(frames, copy=False)
        header = session.deserialize(rest, content=False, copy=False)["header"]
        msg_type = header.get("msg_type")
        if msg_type in HANDLED_NOW:
            msg = session.deserialize(rest, content=True, copy=False)
            handler = self.kernel.shell_handlers.get(msg_type)
            if handler is not None:
                _run_now(handler(self.reply_to, idents, msg))
        else:  # as the paused reader would: the kernel runs it after this cell, in order
            self.stream._run_callback(self.callback, frames)

    def close(self, *_: Any) -> None:
        """Give the socket back to the kernel (it then reads what came meanwhile); idempotent."""
        if self.callback is not None:
            self.stream.on_recv(self.callback, copy=False)
            self.callback = None


def _run_now(result: Any) -> None:
    """Finish a handler here: ipykernel's comm handlers are plain or never-awaiting coroutines."""
    if not inspect.iscoroutine(result):
        return
    try:
        result.send(None)
    except StopIteration:
        return
    result.close()
    raise RuntimeError("a kernel handler waited; it cannot run while a cell runs")


def _close_after_cell(shell: Any, inbox: _ShellInbox) -> None:
    """Whatever happens in the run, the kernel gets its shell messages back when the cell ends."""

    def once(*_: Any) -> None:
        inbox.close()
        shell.events.unregister("post_run_cell", once)

    shell.events.register("post_run_cell", once)


def _open_inbox() -> _ShellInbox | None:
    try:
        from IPython import get_ipython

        kernel = get_ipython().kernel
        channel = kernel.shell_channel_thread
        if channel is None or threading.current_thread() is not channel.parent_thread:
            return None
        manager = channel.manager
        stream = manager._shell_channel_to_main.to_stream
        if stream is None or stream._recv_callback is None:
            return None
        inbox = _ShellInbox(kernel, stream, manager.get_subshell_to_shell_channel_socket(None))
        _close_after_cell(kernel.shell, inbox)
        return inbox
    except Exception:
        return None


class UiEvents:
    """Handles a kernel's widget messages during one run; `close()` when the run ends."""

    def __init__(self) -> None:
        self._inbox: _ShellInbox | None = None
        self._opened = False

    def wait(self, seconds: float, until: threading.Event | None = None) -> None:
        """Wait `seconds` (0: do not wait) or until `until` is set, handling widget messages."""
        if not self._opened:
            self._opened = True
            self._inbox = _open_inbox()
        if self._inbox is not None:
            self._inbox.handle_pending(seconds, until)
        elif until is not None:
            until.wait(seconds)
        elif seconds > 0:
            time.sleep(seconds)

    def close(self) -> None:
        """Hand the shell messages back to the kernel."""
        inbox, self._inbox = self._inbox, None
        if inbox is not None:
            inbox.close()
