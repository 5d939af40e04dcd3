"""`mode="replace"` empties, respects freeze, stages per run; two processes never lose rows."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from .children import ROOT
from .helpers import rows

pytestmark = pytest.mark.workers(4)


def test_replace_with_no_rows_at_all_empties_the_table(loom, db_path):
    assert loom.map(lambda i: {"id": i, "v": 1}, [1, 2], "t", mode="replace").ok
    assert loom.map(lambda i: [], [1, 2], "t", mode="replace").ok
    assert loom.table("t").empty
    assert list(loom.table("t").columns) == ["id", "v"]  # its columns kept


def test_replace_with_freeze_refuses_new_columns(loom):
    assert loom.map(lambda i: {"id": i}, [1], "t", mode="replace").ok
    result = loom.map(lambda i: {"id": i, "extra": 1}, [2], "t", mode="replace", schema="freeze")
    assert result.status == "error" and "'extra'" in result.summary.errors[0].message
    assert list(loom.table("t").columns) == ["id"]
    assert loom.table("t")["id"].tolist() == [1]


def test_replace_with_freeze_refuses_a_new_type(loom):
    assert loom.map(lambda i: {"id": i}, [1], "t", mode="replace").ok
    result = loom.map(lambda i: {"id": str(i)}, [2], "t", mode="replace", schema="freeze")
    assert result.status == "error" and "TEXT" in result.summary.errors[0].message


def test_a_run_stages_apart_and_drops_its_stage(loom, db_path):
    assert loom.map(lambda i: {"id": i}, [1], "t", mode="replace").ok
    names = [n for (n,) in rows(db_path, "SELECT name FROM sqlite_master WHERE type='table'")]
    assert not [n for n in names if n.startswith("_pipeloom_stage_")]


WRITER = """
import sys, time
from pipeloom_nb import Loom
db, tag, mode = sys.argv[1], sys.argv[2], sys.argv[3]

def fetch(i):
    time.sleep(0.004)
    if mode == "replace":
        return {"id": i, "tag": tag}
    return {"id": i, "tag": tag, f"c{i % 7}": i}  # new columns appear as the run goes

kw = {"key": "id"} if mode == "merge" else {}
result = Loom(db, workers=4, progress=False).map(fetch, range(240), "t", mode=mode, **kw)
print(result.status, flush=True)
"""


def run_two(db_path, mode):
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(WRITER), str(db_path), tag, mode],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for tag in ("a", "b")
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    return [o[0].strip() for o in outs], [o[1] for o in outs]


def test_two_processes_replacing_one_table_never_mix_their_rows(db_path):
    statuses, errs = run_two(db_path, "replace")
    assert statuses == ["done", "done"], errs
    got = rows(db_path, "SELECT count(*), count(DISTINCT id), count(DISTINCT tag) FROM t")
    assert got == [(240, 240, 1)]  # the last to finish wins whole


def test_two_processes_merging_while_columns_appear_lose_no_row(db_path):
    statuses, errs = run_two(db_path, "merge")
    assert statuses == ["done", "done"], errs
    assert rows(db_path, "SELECT count(*), count(DISTINCT id) FROM t") == [(240, 240)]
    cols = {r[1] for r in rows(db_path, "PRAGMA table_info(t)")}
    assert {f"c{k}" for k in range(7)} <= cols
