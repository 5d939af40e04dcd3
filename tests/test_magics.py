"""The %pipeloom magics in a real IPython shell."""

from __future__ import annotations

import os

import pandas as pd
import pytest
from IPython import get_ipython
from IPython.testing.globalipapp import start_ipython

from pipeloom import ConfigError, WriterError
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


def _usage_printed(capsys) -> str:
    out = capsys.readouterr().out
    assert "UsageError" in out and "%pipeloom run WORKER TASKS" in out
    return out


@pytest.mark.parametrize(
    "line", ['run work "tasks', "run work tasks -o 'res", 'sql --db "x.db SELECT 1']
)
def test_an_unbalanced_quote_prints_usage(ip, ns, line, capsys):
    assert ip.run_line_magic("pipeloom", line) is None
    assert "No closing quotation" in _usage_printed(capsys)


def test_sql_takes_a_quoted_db_path_like_run(ip, tmp_path):
    ip.run_cell("from pipeloom import TaskDef\ndef work(task, q): pass\n")
    ip.user_ns["tasks"] = [ip.user_ns["TaskDef"](i, f"t{i}") for i in range(3)]
    db = tmp_path / "my data.db"
    ip.run_line_magic("pipeloom", f'run work tasks --db "{db}"')
    query = "SELECT name FROM task_runs WHERE name = 't1' OR name = \"t2\" ORDER BY name"
    for quoted in (f'"{db}"', f"'{db}'", f"={db!s}".replace(" ", "\\ ")):
        flag = "--db" if quoted.startswith("=") else "--db "
        df = ip.run_line_magic("pipeloom", f"sql {flag}{quoted} {query}")
        assert df.name.tolist() == ["t1", "t2"], quoted


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("list", "hide"),
        ("print", "hide"),
        ("Out", "hide"),
        ("_", "hide"),
        ("_3", "hide"),
        ("get_ipython", "hide"),
        ("class", "Python name"),
        ("1st", "Python name"),
        ("a.b", "Python name"),
        ("tasks", "this run uses"),
        ("work", "this run uses"),
        ("my_loom", "the Loom"),
    ],
)
def test_o_refuses_names_that_would_hide_something_and_runs_nothing(ip, ns, name, why, capsys):
    ip.run_cell(f"from pipeloom_nb import Loom\nmy_loom = Loom({ns!r})\n")
    before = {k: ip.user_ns.get(k) for k in (name, "tasks", "work", "my_loom")}
    try:
        assert ip.run_line_magic("pipeloom", f"run work tasks --db {ns} -o {name}") is None
        assert why in _usage_printed(capsys)
        assert {k: ip.user_ns.get(k) for k in before} == before
        assert not os.path.exists(ns)  # refused before the run began
    finally:
        del ip.user_ns["my_loom"]


def test_o_refuses_the_name_of_the_worker_the_cell_defines(ip, ns, capsys):
    cell = "def cell_worker(task, q):\n    pass\n"
    assert ip.run_cell_magic("pipeloom", f"run tasks --db {ns} -o cell_worker", cell) is None
    assert "this run uses" in _usage_printed(capsys)
    assert callable(ip.user_ns["cell_worker"]) and not os.path.exists(ns)


def test_a_writer_failure_stops_the_notebook_run(ip, ns, capsys):
    ip.run_cell(
        "from dataclasses import dataclass\n"
        "from pipeloom_nb import Loom\n"
        "@dataclass(frozen=True)\n"
        "class Big:\n"
        "    task_id: int\n"
        "    i: int\n"
        f"full_loom = Loom({ns!r})\n"
        "full_loom.schema('CREATE TABLE IF NOT EXISTS big(k INTEGER, v TEXT); "
        "PRAGMA max_page_count=40')\n"
        "@full_loom.handler(Big)\n"
        "def save(conn, msg):\n"
        "    conn.execute('INSERT INTO big VALUES (?, ?)', (msg.i, 'x' * 2000))\n"
        "def filler(task, q):\n"
        "    for i in range(100):\n"
        "        q.put(Big(task.task_id, i))\n"
    )
    try:
        result = ip.run_cell(f"%pipeloom run filler tasks --db {ns} -o res_full")
        assert isinstance(result.error_in_exec, WriterError) and not result.success
        out = capsys.readouterr().out  # the traceback, not the usage
        assert "database or disk is full" in out and "%pipeloom run WORKER" not in out
        assert "res_full" not in ip.user_ns
    finally:
        del ip.user_ns["full_loom"]


def test_a_run_refused_by_the_engine_raises_and_does_not_print_usage(ip, ns, capsys):
    ip.run_cell("dupes = [TaskDef(1, 'a'), TaskDef(1, 'b')]\n")
    with pytest.raises(ConfigError, match="duplicate task ids"):
        ip.run_line_magic("pipeloom", f"run work dupes --db {ns}")
    assert "%pipeloom run WORKER" not in capsys.readouterr().out


def test_workers_must_be_a_whole_number_from_one_and_that_is_a_usage_error(ip, ns, capsys):
    for workers in ("x", "0", "-2", "1.5"):
        assert (
            ip.run_line_magic("pipeloom", f"run work tasks --db {ns} --workers={workers}") is None
        )
        assert "whole number >= 1" in _usage_printed(capsys), workers


# --- run options: --name, --resume, and loom.map's --table, --key, --mode ---------------------
def test_name_and_resume_rerun_only_what_failed(ip, ns):
    ip.run_cell(
        "up = set()\n"
        "def shaky(task, q):\n"
        "    if task.task_id == 1 and not up:\n"
        "        up.add(1)\n"
        "        raise ConnectionError('source down')\n"
    )
    first = ip.run_line_magic("pipeloom", f'run shaky tasks --db {ns} --name "nightly load"')
    assert first.summary.name == "nightly load" and first.counts == {"done": 2, "error": 1}
    again = ip.run_line_magic(
        "pipeloom", f"run shaky tasks --db {ns} --name 'nightly load' --resume"
    )
    assert again.counts == {"skipped": 2, "done": 1}
    assert again.task_runs.set_index("id").status.to_dict() == {
        0: "skipped",
        1: "done",
        2: "skipped",
    }


def test_table_key_mode_make_the_run_a_map_and_a_rerun_does_not_duplicate(ip, ns):
    ip.run_cell(
        "def order(i):\n    return [{'id': i, 'total': i * 1.5}, {'id': i + 100, 'total': 0.0}]\n"
    )
    line = f"run order range(5) --db {ns} --table orders --key id --mode merge -o loaded"
    for _ in range(2):
        out = ip.run_line_magic("pipeloom", line)
        assert out.counts == {"done": 5} and ip.user_ns["loaded"] is out
    assert out.summary.name.endswith("order -> orders")
    df = ip.run_line_magic(
        "pipeloom", f"sql --db {ns} SELECT count(*) AS n, count(DISTINCT id) AS d FROM orders"
    )
    assert (df.n[0], df.d[0]) == (10, 10)


def test_cell_magic_with_table_maps_the_function_the_cell_defines(ip, ns):
    cell = "def line_items(item):\n    return {'order': item['o'], 'line': item['l'], 'qty': 1}\n"
    ip.user_ns["items"] = [{"o": o, "l": ln} for o in range(3) for ln in range(2)]
    for _ in range(2):
        out = ip.run_cell_magic(
            "pipeloom", f"run items --db {ns} --table lines --key order,line --mode merge", cell
        )
        assert out.counts == {"done": 6}
    df = ip.run_line_magic("pipeloom", f"sql --db {ns} SELECT * FROM lines ORDER BY 1, 2")
    assert df[["order", "line"]].to_numpy().tolist() == [
        [o, ln] for o in range(3) for ln in range(2)
    ]


def test_table_with_retries_timeout_and_rate(ip, ns):
    ip.run_cell(
        "import time\n"
        "tries = {}\n"
        "def slow_once(i):\n"
        "    tries[i] = tries.get(i, 0) + 1\n"
        "    if i == 0 and tries[i] == 1:\n"
        "        time.sleep(2)\n"
        "    return {'id': i}\n"
    )
    out = ip.run_line_magic(
        "pipeloom",
        f"run slow_once range(4) --db {ns} --table t --workers 2 "
        "--retries 1 --timeout 0.5 --rate 50",
    )
    assert out.counts == {"done": 4} and out.summary.timed_out == 1
    assert ip.user_ns["tries"][0] == 2


def test_replace_mode_swaps_the_tables_contents(ip, ns):
    ip.run_cell("def one(i):\n    return {'v': i}\n")
    ip.run_line_magic("pipeloom", f"run one range(5) --db {ns} --table vs")
    ip.run_line_magic("pipeloom", f"run one range(2) --db {ns} --table vs --mode replace")
    assert ip.run_line_magic(
        "pipeloom", f"sql --db {ns} SELECT v FROM vs ORDER BY v"
    ).v.tolist() == [0, 1]


@pytest.mark.parametrize(
    ("options", "why"),
    [
        ("--key id", "need --table"),
        ("--mode merge", "need --table"),
        ("--table t --mode upsert", "invalid choice: 'upsert'"),
        ("--table t --key id,,x", "column names separated by commas"),
        ("--table ''", "needs a value"),
        ("--name ''", "needs a value"),
        ("--resume=yes", "ignored explicit argument"),
    ],
)
def test_bad_map_options_print_usage_and_run_nothing(ip, ns, options, why, capsys):
    assert ip.run_line_magic("pipeloom", f"run work tasks --db {ns} {options}") is None
    out = _usage_printed(capsys)
    assert why in out and "--table T" in out
    assert not os.path.exists(ns)


def test_merge_without_key_is_refused_by_map_before_any_work(ip, ns):
    with pytest.raises(ConfigError, match="needs key="):
        ip.run_line_magic("pipeloom", f"run work tasks --db {ns} --table t --mode merge")
