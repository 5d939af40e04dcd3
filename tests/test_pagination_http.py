"""Pagination and listing-then-details in one `loom.map`, against a real local HTTP server.

Each of urllib, requests and httpx meets 429s (Retry-After in seconds, as a date, absent),
connection resets and JSON bodies cut short; every order and its details load exactly once.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from pipeloom import Page
from pipeloom_nb import Loom

from .orders_api import N_ORDERS, OrdersAPI, order


def get_urllib(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def get_requests(url):
    requests = pytest.importorskip("requests")
    response = requests.get(url, timeout=10)
    response.raise_for_status()
    return response.json()


def get_httpx(url):
    httpx = pytest.importorskip("httpx")
    response = httpx.get(url, timeout=10)
    response.raise_for_status()
    return response.json()


@pytest.mark.parametrize("get", [get_urllib, get_requests, get_httpx], ids=lambda f: f.__name__)
def test_every_order_and_its_details_load_once_whatever_the_client(tmp_path, get):
    with OrdersAPI() as api:

        def fetch(item):  # the whole job: a listing walk that fans out to each order
            if "cursor" in item:
                body = get(f"{api.url}/orders?cursor={item['cursor']}")
                more = [] if body["next_cursor"] is None else [{"cursor": body["next_cursor"]}]
                return Page([], next=more + [{"order": o["id"]} for o in body["data"]])
            return get(f"{api.url}/orders/{item['order']}")

        loom = Loom(tmp_path / "api.db", workers=4, progress=False)
        result = loom.map(
            fetch,
            [{"cursor": 0}],
            "orders",
            key="id",
            mode="merge",
            retries=5,
            retry_backoff=0.05,
            timeout=10,
        )
        log = api.log
    assert result.ok, result.summary.errors
    orders = loom.table("orders")
    assert sorted(orders["id"]) == list(range(N_ORDERS))
    items = loom.table("orders__line_items")
    assert len(items) == sum(len(order(i)["line_items"]) for i in range(N_ORDERS))
    assert result.summary.repeated == 6  # the order repeated at the top of each next page
    faults = {what for _, _, what in log}
    assert faults >= {"429-seconds", "429-date", "429-bare", "reset", "truncated"}
    first_detail = min(t for t, path, _ in log if path.startswith("/orders/"))
    last_listing = max(t for t, path, _ in log if path.startswith("/orders?"))
    assert first_detail < last_listing  # details start while the listing still runs
