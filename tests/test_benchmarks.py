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
        "rows",
        "C_proc",
        "D_tasks",
        "D_msgs",
        *"ABCEFGH",
    }
    assert len(res["peers"]) == 6 and all(r["rate"] > 0 for r in res["peers"].values())
    assert res["A"]["messages"] > 0 and res["A"]["ratio"] > 0 and res["B"]["rows"] > 0
    assert res["A"]["workers_alone"] > 0 and res["A"]["no_task_rows_ratio"] > 0
    assert json.loads((tmp_path / "results.json").read_text())["C"]["tasks"] == 2000
    assert res["C_proc"]["rate"] > 0 and res["D_tasks"]["generator_peak_rss_mb"] > 0
    assert res["E"]["pipeline"]["done_on"] == res["E"]["tasks"]
    table = (tmp_path / "results.md").read_text()
    for row in ("A", "B", "B-rows", "B-map", "C", "C-proc", "D", "D-msgs", "E", "F", "G", "H"):
        assert f"| {row} |" in table, row
    assert "## Side by side" in table and "tqdm thread_map + to_sql" in table
    assert res["F"]["speedup"] > 0 and res["G"]["per_task_s"]["processes"] > 0
    assert "## How cost grows" in table and (tmp_path / "growth.png").stat().st_size > 0
    assert [r["workers"] for r in res["growth"]["workers"]] == [1, 2, 4, 8, 16]


def test_tiny_tasks_on_processes_reports_both_executors():
    from benchmarks.processes import tiny_tasks_processes

    res = tiny_tasks_processes(n=300, workers=2, rounds=1)
    assert (res["tasks"], res["workers"], res["rounds"]) == (300, 2, 1)
    for executor in ("processes", "threads"):
        figures = res[executor]
        assert figures["rate"] == 300 / figures["seconds"] and figures["parent_cpu_s"] > 0
    assert res["rate"] == res["processes"]["rate"]


def test_rowsload_returns_every_figure():
    res = rows_vs_executemany(n_msgs=4, rows_per=50, repeat=1)
    keys = {
        "rows_rate",
        "executemany_rate",
        "ratio",
        "map_rate",
        "handler_rate",
        "map_ratio",
        "function_rate",
    }
    assert keys <= set(res)
    assert all(res[k] > 0 for k in keys)
