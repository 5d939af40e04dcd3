"""Listing then details in one `loom.map`, against a flaky cursor-paginated API on 127.0.0.1.

`python -m benchmarks.pagination [--orders 3000] [--rate 18]` starts an orders API (a rate
limit answering 429 with `Retry-After`, 500s, connection resets, JSON bodies cut short,
20-80 ms latency, the last order of a page listed again on the next) and loads it with the
job below: the listing walks its cursor, and each order's details are fetched as its page
arrives. It prints the job's lines of code, its wall time against the bound the rate sets
(tasks / rate), and what was loaded against the server's truth.
"""

from __future__ import annotations

import argparse
import inspect
import json
import random
import socket
import struct
import tempfile
import threading
import time
import urllib.request
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from pipeloom import Page
from pipeloom_nb import Loom

PER_PAGE = 100


def job(loom: Loom, api: str, rate: float) -> object:
    """The user's whole job: no retry loop, no pagination loop."""

    def get(url):
        with urllib.request.urlopen(url, timeout=30) as response:
            return json.load(response)

    def fetch(item):
        if "cursor" in item:
            body = get(f"{api}/orders?cursor={item['cursor']}")
            more = [] if body["next_cursor"] is None else [{"cursor": body["next_cursor"]}]
            return Page([], next=more + [{"order": o["id"]} for o in body["data"]])
        return get(f"{api}/orders/{item['order']}")

    return loom.map(fetch, [{"cursor": 0}], "orders", key="id", mode="merge",
                    rate=rate, retries=5, timeout=30)  # fmt: skip


def order(i: int) -> dict:
    """Order `i` with 1 to 4 line items."""
    items = [{"sku": f"sku-{(i * 3 + k) % 97}", "qty": 1 + k} for k in range(1 + i % 4)]
    return {"id": i, "status": ("paid", "shipped")[i % 2], "line_items": items}


class OrdersAPI(ThreadingHTTPServer):
    """The flaky API; `counts` says what it answered."""

    daemon_threads = True

    def __init__(self, n_orders: int, limit: float = 20.0, seed: int = 0) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.n_orders, self.limit = n_orders, limit
        self.lock = threading.Lock()
        self.random = random.Random(seed)
        self.recent: deque[float] = deque()
        self.counts = dict.fromkeys(("200", "429", "500", "reset", "truncated"), 0)

    def draw(self) -> str:
        """What this request gets: 429 above the limit, else a rare fault, else 200."""
        with self.lock:
            now = time.monotonic()
            while self.recent and self.recent[0] <= now - 1:
                self.recent.popleft()
            if len(self.recent) >= self.limit:
                what = "429"
            else:
                self.recent.append(now)
                r = self.random.random()
                what = (
                    "500"
                    if r < 0.01
                    else "reset"
                    if r < 0.02
                    else "truncated"
                    if r < 0.04
                    else "200"
                )
            self.counts[what] += 1
            return what

    def handle_error(self, request: object, client_address: object) -> None:
        """A reset connection is on purpose."""


class _Handler(BaseHTTPRequestHandler):
    server: OrdersAPI

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        api = self.server
        what = api.draw()
        if what == "429":
            return self._send(429, b"{}", {"Retry-After": "1"})
        time.sleep(random.uniform(0.02, 0.08))
        if what == "500":
            return self._send(500, b"<html>502 Bad Gateway</html>")
        if what == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return None
        body = json.dumps(self._body()).encode()
        if what == "truncated":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return None
        return self._send(200, body)

    def _body(self) -> dict:
        parts, n = urlsplit(self.path), self.server.n_orders
        if parts.path == "/orders":
            cursor = int(parse_qs(parts.query)["cursor"][0])
            more = cursor + PER_PAGE < n
            return {
                "data": [{"id": i} for i in range(cursor, min(cursor + PER_PAGE, n))],
                "next_cursor": cursor + PER_PAGE - 1 if more else None,
            }
        return order(int(parts.path.rsplit("/", 1)[1]))

    def _send(self, status: int, body: bytes, headers: dict | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def measure(n_orders: int = 3000, rate: float = 18.0) -> dict:
    """Run the job once against a fresh API and file; what it took and what it loaded."""
    api = OrdersAPI(n_orders)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            loom = Loom(Path(tmp) / "orders.db", workers=8, progress=False)
            t0 = time.perf_counter()
            result = job(loom, api.url, rate)
            wall = time.perf_counter() - t0
            orders = loom.sql("SELECT count(*) AS n, count(DISTINCT id) AS ids FROM orders")
            items = loom.sql("SELECT count(*) AS n FROM orders__line_items")
    finally:
        api.shutdown()
        api.server_close()
    tasks = result.summary.total
    return {
        "lines": _job_lines(),
        "wall_s": wall,
        "tasks": tasks,
        "bound_s": tasks / rate,
        "status": result.summary.status,
        "orders": int(orders["n"][0]),
        "distinct": int(orders["ids"][0]),
        "truth": n_orders,
        "line_items": int(items["n"][0]),
        "line_items_truth": sum(len(order(i)["line_items"]) for i in range(n_orders)),
        "repeated": result.summary.repeated,
        "answers": dict(api.counts),
    }


def _job_lines() -> int:
    """Non-blank lines of the job, less its `def` line and docstring."""
    lines = [line for line in inspect.getsource(job).splitlines() if line.strip()]
    return len(lines) - 2


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=18.0)
    args = parser.parse_args(argv)
    res = measure(args.orders, args.rate)
    print(json.dumps(res, indent=2))
    return res


if __name__ == "__main__":
    main()
