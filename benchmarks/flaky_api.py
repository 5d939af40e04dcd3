"""A real flaky HTTP API on 127.0.0.1: a rate limit with Retry-After, 500s, latency, a hang.

Used by `python -m benchmarks.fanout` and by the tests (tests/test_fanout.py). The notebook
notebooks/06-api-fanout.ipynb writes its own, shorter one: a tutorial must stand alone.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["FlakyAPI"]


class FlakyAPI(ThreadingHTTPServer):
    """An API on a free port of 127.0.0.1, served from a daemon thread while in a `with`.

    - `/page/N`: rows `{"id", "page", "amount", "customer": {...}}` for page N. Above
      `limit` requests in any second: 429 with `Retry-After: retry_after` (seconds, or the
      header's text as sent: an HTTP date, say). Otherwise, after
      `latency` seconds (a (low, high) range), a share `error_rate` of answers are 500s
      (seeded by `seed`), and page `hang` hangs for its first `hangs` requests (None: all):
      it answers 503 only when the server stops or `hang_for` seconds have passed.
    - `/fail/N`: fails its first `fails` requests with 500, then is page N.
    - `/hang`: hangs like page `hang`.
    """

    daemon_threads = True

    def __init__(
        self,
        limit: float = 8,
        retry_after: float | str = 0.5,
        fails: int = 1,
        *,
        error_rate: float = 0.0,
        latency: tuple[float, float] = (0.0, 0.0),
        hang: int | None = None,
        hangs: int | None = None,
        hang_for: float = 30.0,
        rows_per_page: int = 3,
        seed: int = 0,
    ) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.limit = limit
        self.retry_after = retry_after
        self.fails = fails
        self.error_rate = error_rate
        self.latency = latency
        self.hang = hang
        self.hangs = hangs
        self.hang_for = hang_for
        self.rows_per_page = rows_per_page
        self.lock = threading.Lock()
        self.random = random.Random(seed)
        self.recent: deque[float] = deque()
        self.counts = {"requests": 0, "429": 0, "500": 0, "200": 0, "hung": 0}
        """Answers given, by status, and requests left hanging."""
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

    def should_hang(self, page: int | None) -> bool:
        """True if this request of `page` (None: `/hang`) is one that hangs."""
        with self.lock:
            if page is not None and page != self.hang:
                return False
            if page is not None and self.hangs is not None and self.counts["hung"] >= self.hangs:
                return False
            self.counts["hung"] += 1
            return True

    def unlucky(self) -> bool:
        """True for a share `error_rate` of requests (an HTTP 500)."""
        with self.lock:
            if self.random.random() >= self.error_rate:
                return False
            self.counts["500"] += 1
            return True

    def pause(self) -> None:
        """Wait as long as the server takes to answer."""
        low, high = self.latency
        if high > 0:
            with self.lock:
                seconds = self.random.uniform(low, high)
            time.sleep(seconds)

    def page(self, n: int) -> dict:
        """Page n's body."""
        with self.lock:
            self.counts["200"] += 1
        rows = [
            {
                "id": n * 100 + i,
                "page": n,
                "amount": round((n * 7 + i * 3) % 50 + 0.99, 2),
                "customer": {"id": (n + i) % 17, "country": ("FR", "DE", "US")[i % 3]},
            }
            for i in range(self.rows_per_page)
        ]
        return {"page": n, "rows": rows}


def _header(value: float | str) -> str:
    return value if isinstance(value, str) else f"{value:g}"


class _Handler(BaseHTTPRequestHandler):
    server: FlakyAPI

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        api = self.server
        if self.path == "/hang" and api.should_hang(None):
            return self._hang()
        if not api.admit():
            return self._send(429, {}, {"Retry-After": _header(api.retry_after)})
        if self.path.startswith("/fail/") and api.first_failures(self.path):
            return self._send(500, {"error": "boom"})
        page = self.path.rsplit("/", 1)[1]
        if not page.isdecimal():
            return self._send(404, {"error": "no such page"})
        api.pause()
        if api.should_hang(int(page)):
            return self._hang()
        if api.unlucky():
            return self._send(500, {"error": "internal error"})
        return self._send(200, api.page(int(page)))

    def _hang(self) -> None:
        self.server.stopping.wait(self.server.hang_for)
        self._send(503, {})

    def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client gave up (a timeout): nothing to answer
