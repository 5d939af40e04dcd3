"""Issue 22, section 4: what the earlier adversarial round still found, at a run's start and
in the notebook.

Ctrl-C while the writer waits for another writer's lock records every task of a list
`cancelled`; a damaged file is refused before any task runs; `-o` refuses names that
would break the shell for every later cell.
"""

from __future__ import annotations

import builtins
import sqlite3

import pytest
from IPython import get_ipython
from IPython.testing.globalipapp import start_ipython

from pipeloom import ConfigError, TaskDef, run_pipeline

from .children import Child, locker
from .helpers import rows, statuses

STARTUP = """
    import sys
    from pipeloom import TaskDef, run_pipeline

    def worker(task, q):
        print("ran", task.task_id, flush=True)

    listed = [TaskDef(i, f"t{i}") for i in range(1, 6)]
    tasks = listed if sys.argv[2] == "list" else iter(listed)
    print("calling", flush=True)
    run_pipeline(sys.argv[1], tasks, workers=2, worker_fn=worker, executor=sys.argv[3],
                 progress=False, name="startup")
    print("returned", flush=True)
"""


@pytest.mark.parametrize(
    ("given", "executor"),
    [("list", "threads"), ("list", "processes"), ("iterator", "threads")],
    ids=["list-threads", "list-processes", "iterator"],
)
def test_ctrl_c_while_waiting_for_the_lock_records_every_listed_task_cancelled(
    db_path, given, executor
):
    run_pipeline(db_path, [], progress=False)  # the file exists, in WAL mode
    with locker(db_path) as other, Child(STARTUP, db_path, given, executor) as child:
        other.send("lock")
        other.expect("locked")
        child.expect("calling")
        assert child.has_open(db_path), "the child's writer never opened the file"
        child.interrupt()  # before the writer is ready: it waits for the lock
        other.send("release")
        other.expect("released")
        rc = child.finish(timeout=90)
        assert rc != 0 and "KeyboardInterrupt" in child.stderr, child.stderr
        assert not any(line.startswith("ran") for line in child.out)
    ((run_id, status),) = rows(db_path, "SELECT run_id, status FROM pipeline_runs WHERE run_id > 1")
    assert status == "cancelled"
    expected = {i: "cancelled" for i in range(1, 6)} if given == "list" else {}
    assert statuses(db_path, run_id) == expected  # an iterator's tasks were never read


def _idle(task, q) -> None:
    """A task with nothing to do."""


BTREES = ["pipeline_runs", "task_runs", "sqlite_autoindex_task_runs_1", "idx_task_runs_id"]


def damage(db_path, btree: str) -> None:
    """Overwrite the cells of `btree`'s root page, as a bad disk or a torn copy would."""
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (btree,)).fetchone()
    conn.close()
    with open(db_path, "r+b") as f:
        f.seek((root - 1) * page_size + 8)  # past the page header: the cell pointers
        f.write(b"\xff" * 200)


@pytest.mark.parametrize("executor", ["threads", "processes"])
@pytest.mark.parametrize("btree", BTREES)
def test_a_damaged_file_is_refused_before_any_task_runs(db_path, tmp_path, btree, executor):
    run_pipeline(
        db_path, [TaskDef(i, f"t{i}") for i in range(400)], worker_fn=_idle, progress=False
    )
    damage(db_path, btree)
    marker = tmp_path / "ran"

    def worker(task, q):
        with open(marker, "a") as f:
            f.write(f"{task.task_id}\n")

    with pytest.raises(ConfigError, match=r"test\.db' is damaged \(.*malformed.*\); nothing"):
        run_pipeline(
            db_path,
            [TaskDef(i, f"t{i}") for i in range(5)],
            worker_fn=worker,
            executor=executor,
            progress=False,
        )
    assert not marker.exists(), "a task ran on a damaged file"


@pytest.fixture(scope="module")
def ip():
    shell = start_ipython() or get_ipython()  # a singleton: None when already started
    shell.run_line_magic("load_ext", "pipeloom_nb")
    return shell


@pytest.mark.parametrize("name", ["__builtins__", "__all__", "__file__"])
def test_o_refuses_a_dunder_and_every_later_cell_still_works(ip, db_path, name, capsys):
    ip.run_cell(
        "from pipeloom import TaskDef\n"
        "tasks = [TaskDef(i, f't{i}') for i in range(3)]\n"
        "def work(task, q): pass\n"
    )
    try:
        assert ip.run_line_magic("pipeloom", f"run work tasks --db {db_path} -o {name}") is None
        assert "plain Python name" in capsys.readouterr().out
        later = ip.run_cell("later = len([1, 2])")
        assert later.success and ip.user_ns["later"] == 2
        assert not db_path.exists()  # refused before the run began
    finally:
        ip.user_ns["__builtins__"] = builtins  # a failure here must not break other tests
        if name != "__builtins__":
            ip.user_ns.pop(name, None)
