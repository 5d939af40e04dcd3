"""Fan-out against a flaky API: issue 13's "Done when", measured.

    python -m benchmarks.fanout            # 200 pages, 8 workers: about 80 s

A local API (benchmarks/flaky_api.py) answers 429 with `Retry-After` above 8 requests a
second, 500 to 5% of requests, with 20-100 ms of latency, and hangs on one page's first
request. The same cell is run twice:

    loom.map(fetch, pages, table="orders", key="id", mode="merge", rate=8, retries=3, timeout=5)

and each run's figures are printed: pages loaded, 429s received and obeyed, failures (and
how many a 429 caused), rows and distinct ids in `orders`, elapsed. Not part of `make bench`.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks.common import fresh_db
from benchmarks.flaky_api import FlakyAPI
from pipeloom_nb import Loom

PAGES = 200
WORKERS = 8
LIMIT = 8
"""The server's limit: requests in any one second before it answers 429."""


def measure(db: Path, pages: int = PAGES, runs: int = 2, progress: Any = False) -> dict:
    """Run the map `runs` times against a fresh flaky API; one dict of figures per run."""
    hang = pages * 2 // 3
    with FlakyAPI(
        limit=LIMIT, retry_after=1, error_rate=0.05, latency=(0.02, 0.1), hang=hang, hangs=1
    ) as api:

        def fetch(page: int) -> list[dict]:
            with urllib.request.urlopen(f"{api.url}/page/{page}", timeout=30) as r:
                return json.load(r)["rows"]

        loom = Loom(db, workers=WORKERS, progress=progress)
        out = []
        for n in range(1, runs + 1):
            before = dict(api.counts)
            t0 = time.perf_counter()
            result = loom.map(
                fetch,
                range(pages),
                table="orders",
                key="id",
                mode="merge",
                rate=8,
                retries=3,
                timeout=5,
            )
            elapsed = time.perf_counter() - t0
            s = result.summary
            counts = {k: api.counts[k] - before[k] for k in api.counts}
            out.append(
                {
                    "run": n,
                    "pages": pages,
                    "loaded": s.counts.get("done", 0),
                    "failed": s.counts.get("error", 0),
                    "failed_by_429": sum("429" in e.message for e in s.errors),
                    "requests": counts["requests"],
                    "429_received": counts["429"],
                    "429_obeyed": s.throttled,
                    "500_received": counts["500"],
                    "hung": counts["hung"],
                    "timed_out": s.timed_out,
                    "abandoned": s.abandoned,
                    **_orders(db),
                    "elapsed_s": round(elapsed, 2),
                    "requests_per_s": round(counts["requests"] / elapsed, 2),
                }
            )
    return {"server": {"limit_per_s": LIMIT, "retry_after_s": 1, "hang_page": hang}, "runs": out}


def _orders(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows, ids = conn.execute("SELECT count(*), count(DISTINCT id) FROM orders").fetchone()
    finally:
        conn.close()
    return {"rows": rows, "distinct_ids": ids}


def table(res: dict) -> str:
    """The figures as a Markdown table, one column per run."""
    runs = res["runs"]
    lines = [
        "| | " + " | ".join(f"run {r['run']}" for r in runs) + " |",
        "|---|" + "---:|" * len(runs),
    ]
    for key in runs[0]:
        if key != "run":
            lines.append(f"| {key} | " + " | ".join(str(r[key]) for r in runs) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="python -m benchmarks.fanout", description=__doc__)
    p.add_argument("--pages", type=int, default=PAGES)
    p.add_argument("--db", type=Path, default=None, help="default: a temporary file")
    p.add_argument("--progress", action="store_true", help="show Rich progress")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or fresh_db(Path(tmp), "fanout")
        res = measure(db, args.pages, progress="auto" if args.progress else False)
    print(
        f"{args.pages} pages, {WORKERS} workers; the server: 429 + Retry-After: 1 above "
        f"{LIMIT} requests/s, 5% 500s, page {res['server']['hang_page']} hangs once\n"
        'loom.map(fetch, pages, table="orders", key="id", mode="merge", '
        "rate=8, retries=3, timeout=5), twice\n"
    )
    print(table(res))
    return res


if __name__ == "__main__":
    main()
