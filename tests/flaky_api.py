"""A real flaky HTTP API on 127.0.0.1 for tests: a rate limit with Retry-After, 500s, a hang."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FlakyAPI(ThreadingHTTPServer):
    """`/page/N`: 429 + Retry-After above `limit` requests in any second; `/fail/N` fails
    its first `fails` requests with 500; `/hang` answers only when the server stops."""

    daemon_threads = True

    def __init__(self, limit: float = 8, retry_after: float = 0.5, fails: int = 1) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.limit = limit
        self.retry_after = retry_after
        self.fails = fails
        self.lock = threading.Lock()
        self.recent: deque[float] = deque()
        self.counts = {"requests": 0, "429": 0, "500": 0, "200": 0}
        self.failed: dict[str, int] = {}
        self.stopping = threading.Event()
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        """The base URL."""
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> FlakyAPI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()
        self._thread.join(5)

    def admit(self) -> bool:
        """Count a request; False if it goes over the limit of the last second."""
        with self.lock:
            now = time.monotonic()
            self.counts["requests"] += 1
            while self.recent and self.recent[0] <= now - 1.0:
                self.recent.popleft()
            if len(self.recent) >= self.limit:
                self.counts["429"] += 1
                return False
            self.recent.append(now)
            return True

    def first_failures(self, path: str) -> bool:
        """True for the first `fails` requests of `path`."""
        with self.lock:
            n = self.failed[path] = self.failed.get(path, 0) + 1
            if n <= self.fails:
                self.counts["500"] += 1
                return True
            return False


class _Handler(BaseHTTPRequestHandler):
    server: FlakyAPI

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        api = self.server
        if self.path == "/hang":
            api.stopping.wait(30)
            return self._send(503, {})
        if not api.admit():
            return self._send(429, {}, {"Retry-After": f"{api.retry_after:g}"})
        if self.path.startswith("/fail/") and api.first_failures(self.path):
            return self._send(500, {"error": "boom"})
        page = self.path.rsplit("/", 1)[1]
        if not page.isdecimal():
            return self._send(404, {"error": "no such page"})
        page = int(page)
        with api.lock:
            api.counts["200"] += 1
        return self._send(200, {"page": page, "rows": [{"id": page * 10 + i} for i in range(3)]})

    def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
