"""The user's design document runs verbatim against this package."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from pipeloom import SQLiteWriter, run_pipeline
from pipeloom.messages import TaskDef

from .helpers import rows, statuses

SEED = Path(__file__).parent / "data" / "how-to-extend.seed.md"
SHARED_SEED = Path(__file__).parents[2] / "shared" / "seed" / "how-to-extend.md"
USERS = "CREATE TABLE IF NOT EXISTS users(key TEXT PRIMARY KEY, name TEXT, active INTEGER)"


def blocks() -> list[str]:
    return re.findall(r"```(?:python|py)\n(.*?)```", SEED.read_text(), re.S)


def test_our_copy_matches_the_shared_document():
    if not SHARED_SEED.exists():
        pytest.skip("the shared design document is not beside this checkout")
    assert SEED.read_text() == SHARED_SEED.read_text()


def test_the_document_has_the_expected_blocks():
    b = blocks()
    assert len(b) == 5
    assert "def my_worker" in b[0] and "run_pipeline(" in b[1]
    assert "class MsgUpsertUsersBatch" in b[2] and "q.put(" in b[3] and "elif" in b[4]


def test_custom_worker_and_run_blocks_run_verbatim(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    exec(blocks()[0], ns)
    exec(blocks()[1], ns)
    assert statuses(tmp_path / "etl.db") == {i: "done" for i in range(1, 6)}
    assert rows(tmp_path / "etl.db", "SELECT max(progress), min(progress) FROM task_runs") == [
        (1.0, 1.0)
    ]


def _seed_writer(ns: dict) -> type[SQLiteWriter]:
    """The document's `elif isinstance(item, ...)` branch, placed in the override point."""
    body = textwrap.indent(blocks()[4], " " * 8)
    src = (
        "class SeedWriter(SQLiteWriter):\n"
        "    def handle_message(self, item):\n"
        "        if False:\n            pass\n"
        f"{body}"
        "        else:\n            super().handle_message(item)\n"
    )
    exec(src, ns)
    return ns["SeedWriter"]


def test_domain_message_blocks_persist_users(tmp_path):
    b = blocks()
    ns: dict = {"SQLiteWriter": SQLiteWriter}
    exec(b[2], ns)
    emit = compile(b[3], "emit", "exec")

    def worker(task, q):
        rows_ = [(f"u{task.task_id}-{i}", f"name {i}", i % 2) for i in range(10)]
        exec(emit, {**ns, "q": q, "rows": rows_})

    db = tmp_path / "etl.db"
    tasks = [TaskDef(i, f"etl-{i}") for i in range(1, 6)]
    summary = run_pipeline(
        db, tasks, workers=3, worker_fn=worker, writer_cls=_seed_writer(ns), schema=USERS
    )
    assert summary.ok, summary.errors
    assert rows(db, "SELECT count(*), sum(active) FROM users") == [(50, 25)]
    summary = run_pipeline(
        db, tasks, workers=3, worker_fn=worker, writer_cls=_seed_writer(ns), schema=USERS
    )
    assert summary.ok and rows(db, "SELECT count(*) FROM users") == [(50,)]
