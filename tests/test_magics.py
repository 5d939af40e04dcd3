"""The %pipeloom magics in a real IPython shell."""

from __future__ import annotations

import os

import pandas as pd
import pytest
from IPython import get_ipython
from IPython.testing.globalipapp import start_ipython

from pipeloom_nb import RunResult


@pytest.fixture(scope="module")
def ip():
    shell = start_ipython() or get_ipython()  # a singleton: None when already started
    shell.run_line_magic("load_ext", "pipeloom_nb")
    return shell


@pytest.fixture
def ns(ip, db_path):
    ip.run_cell(
        "from pipeloom import TaskDef\n"
        "tasks = [TaskDef(i, f't{i}') for i in range(3)]\n"
        "def work(task, q): pass\n"
    )
    return str(db_path)


def test_line_magic_runs_and_stores_the_result(ip, ns):
    out = ip.run_line_magic("pipeloom", f"run work tasks --db {ns} --workers 2 -o res")
    assert isinstance(out, RunResult) and out.counts == {"done": 3}
    assert ip.user_ns["res"] is out


def test_cell_magic_uses_the_function_the_cell_defines(ip, ns):
    out = ip.run_cell_magic(
        "pipeloom",
        f"run tasks --db {ns}",
        "def helper(x):\n    return x\ndef cell_worker(task, q):\n    helper(task)\n",
    )
    assert out.counts == {"done": 3}
    assert out.summary.name.endswith("cell_worker")


def test_executor_processes_runs_the_cell_worker_in_other_processes(ip, ns):
    out = ip.run_cell_magic(
        "pipeloom",
        f"run tasks --db {ns} --workers 2 --executor processes",
        "import os\nfrom pipeloom import MsgTaskFinished\n"
        "def pid_worker(task, q):\n"
        "    q.put(MsgTaskFinished(task.task_id, 'done', '', result=os.getpid()))\n",
    )
    assert out.counts == {"done": 3}
    pids = set(out.task_runs["result"].astype(int))
    assert pids and os.getpid() not in pids


def test_the_users_loom_on_that_database_is_used_with_its_handlers(ip, ns):
    ip.run_cell(
        "from dataclasses import dataclass\n"
        "from pipeloom_nb import Loom\n"
        "@dataclass(frozen=True)\n"
        "class Seen:\n"
        "    task_id: int\n"
        f"my_loom = Loom({ns!r})\n"
        "my_loom.schema('CREATE TABLE IF NOT EXISTS seen(task_id INTEGER)')\n"
        "@my_loom.handler(Seen)\n"
        "def save(conn, msg):\n"
        "    conn.execute('INSERT INTO seen VALUES (?)', (msg.task_id,))\n"
        "def seeing(task, q):\n"
        "    q.put(Seen(task.task_id))\n"
    )
    out = ip.run_line_magic("pipeloom", f"run seeing tasks --db {ns}")
    assert out.counts == {"done": 3}
    assert ip.run_line_magic("pipeloom", f"sql --db {ns} SELECT count(*) AS n FROM seen").n[0] == 3
    del ip.user_ns["my_loom"]


def test_an_executor_that_is_not_defined_prints_usage(ip, ns, capsys):
    assert ip.run_line_magic("pipeloom", f"run work tasks --db {ns} --executor nocluster") is None
    assert "name 'nocluster' is not defined" in capsys.readouterr().out


def test_sql_tables_runs_status(ip, ns):
    ip.run_line_magic("pipeloom", f"run work tasks --db {ns}")
    df = ip.run_line_magic("pipeloom", f"sql --db {ns} SELECT count(*) AS n FROM task_runs")
    assert isinstance(df, pd.DataFrame) and df.n[0] == 3
    assert "task_runs" in ip.run_line_magic("pipeloom", "tables")
    assert len(ip.run_line_magic("pipeloom", "runs")) == 1
    assert ip.run_line_magic("pipeloom", "status").status.tolist() == ["done"]


@pytest.mark.parametrize(
    "line", ["", "fly", "run onlyone", "run nosuch tasks", "sql", "run work tasks --workers x"]
)
def test_bad_arguments_print_usage_not_a_traceback(ip, ns, line, capsys):
    assert ip.run_line_magic("pipeloom", f"{line} --db {ns}".strip()) is None
    out = capsys.readouterr().out
    assert "UsageError" in out and "%pipeloom run WORKER TASKS" in out
