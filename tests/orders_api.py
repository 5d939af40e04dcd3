"""A cursor-paginated orders API on 127.0.0.1 for the tests: each path fails once, its own way.

`/orders?cursor=N` lists ten orders from N (the last one again at the top of the next
page) and `next_cursor`; `/orders/<id>` answers one order with its line items. The first
request of every third path fails: a 429 (with `Retry-After` in seconds, as an HTTP date,
or none), then connection resets and 200s whose JSON body is cut short, in turn.
"""

from __future__ import annotations

import email.utils
import json
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

N_ORDERS, PER_PAGE = 60, 10
FAULTS = ("none", "429-seconds", "429-date", "429-bare", "reset", "truncated")


def order(i: int) -> dict:
    """Order `i` with 1 to 3 line items."""
    items = [{"sku": f"sku-{(i + k) % 7}", "qty": k + 1} for k in range(1 + i % 3)]
    return {"id": i, "customer": f"c{i % 5}", "line_items": items}


class OrdersAPI(ThreadingHTTPServer):
    """The server; `log` holds (seconds since start, path, what was answered)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.lock = threading.Lock()
        self.seen: dict[str, int] = {}
        self.log: list[tuple[float, str, str]] = []
        self.t0 = time.monotonic()

    def __enter__(self) -> OrdersAPI:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()

    def fault_for(self, path: str) -> str:
        """The fault this request gets: on a path's first request only, one path in three
        (each 429 kind once: a burst of push-backs would slow the whole run on purpose)."""
        with self.lock:
            n = self.seen[path] = self.seen.get(path, 0) + 1
            k = len(self.seen)
        if n > 1 or k % 3:
            return "none"
        i = k // 3
        return FAULTS[i] if i <= 3 else FAULTS[4 + i % 2]

    def note(self, path: str, what: str) -> None:
        with self.lock:
            self.log.append((time.monotonic() - self.t0, path, what))

    def handle_error(self, request: object, client_address: object) -> None:
        """A reset connection is on purpose: nothing to print."""


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        api: OrdersAPI = self.server  # type: ignore[assignment]
        fault = api.fault_for(self.path)
        api.note(self.path, fault)
        if fault.startswith("429"):
            return self._too_many(fault)
        if fault == "reset":
            return self._reset()
        body = json.dumps(self._body()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if fault == "truncated":  # no Content-Length: the body ends where the connection does
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> dict:
        parts = urlsplit(self.path)
        if parts.path == "/orders":
            cursor = int(parse_qs(parts.query)["cursor"][0])
            ids = range(cursor, min(cursor + PER_PAGE, N_ORDERS))
            nxt = cursor + PER_PAGE - 1 if cursor + PER_PAGE < N_ORDERS else None
            return {"data": [{"id": i} for i in ids], "next_cursor": nxt}
        return order(int(parts.path.rsplit("/", 1)[1]))

    def _too_many(self, fault: str) -> None:
        self.send_response(429)
        if fault == "429-seconds":
            self.send_header("Retry-After", "0")
        elif fault == "429-date":
            self.send_header("Retry-After", email.utils.formatdate(time.time(), usegmt=True))
        body = b'{"error": "slow down"}'
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _reset(self) -> None:
        linger = struct.pack("ii", 1, 0)  # close with a RST, as a dropped connection does
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        self.connection.close()
        self.close_connection = True
