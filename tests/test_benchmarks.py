"""A smoke run of `make bench` at tiny sizes: it runs and writes its table (no speed asserted)."""

from __future__ import annotations

import json

from benchmarks.rowsload import rows_vs_executemany
from benchmarks.run import main


def test_bench_quick_writes_the_table(tmp_path):
    res = main(["--quick", "--out", str(tmp_path)])
    assert set(res) == {
        "machine",
        "growth",
        "peers",
        "rows_limit_executemany",
        "rows_prebuilt",
        *"ABCDEFGH",
    }
    assert len(res["peers"]) == 6 and all(r["rate"] > 0 for r in res["peers"].values())
    assert res["A"]["messages"] > 0 and res["B"]["rows"] > 0
    assert json.loads((tmp_path / "results.json").read_text())["C"]["tasks"] == 2000
    table = (tmp_path / "results.md").read_text()
    assert "| A |" in table and "| H |" in table and "| B-rows |" in table and "| B-map |" in table
    assert "## Side by side" in table and "tqdm thread_map + to_sql" in table
    assert res["F"]["speedup"] > 0 and res["G"]["per_task_s"]["processes"] > 0
    assert "## How cost grows" in table and (tmp_path / "growth.png").stat().st_size > 0
    assert [r["workers"] for r in res["growth"]["workers"]] == [1, 2, 4, 8, 16]


def test_rowsload_returns_every_figure():
    res = rows_vs_executemany(n_msgs=4, rows_per=50, repeat=1)
    keys = {"rows_rate", "executemany_rate", "ratio", "map_rate", "handler_rate", "map_ratio"}
    assert keys <= set(res)
    assert all(res[k] > 0 for k in keys)
