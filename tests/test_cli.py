"""The `pipeloom` command."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from pipeloom.cli import app

from .helpers import rows

runner = CliRunner()


def test_demo_then_status_json(db_path):
    result = runner.invoke(
        app, ["demo", "--db", str(db_path), "-n", "5", "-w", "2", "--steps", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "done 5" in result.output
    result = runner.invoke(app, ["status", "--db", str(db_path), "--format", "json"])
    (run,) = json.loads(result.output)
    assert run["status"] == "done" and run["tasks"] == 5 and run["done"] == 5


def test_status_table(db_path):
    runner.invoke(app, ["demo", "--db", str(db_path), "-n", "2", "--steps", "1"])
    result = runner.invoke(app, ["status", "--db", str(db_path)])
    assert result.exit_code == 0 and "demo" in result.output and "done" in result.output


def test_bad_db_path_is_a_one_line_error(tmp_path):
    result = runner.invoke(app, ["demo", "--db", str(tmp_path / "no" / "x.db")])
    assert result.exit_code == 2
    assert "does not exist" in result.output and "Traceback" not in result.output


def test_status_of_a_missing_database(tmp_path):
    result = runner.invoke(app, ["status", "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_init_db_creates_tables(db_path):
    result = runner.invoke(app, ["init-db", "--db", str(db_path)])
    assert result.exit_code == 0
    names = {r[0] for r in rows(db_path, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"task_runs", "pipeline_runs"} <= names


def test_run_module_function_with_args(db_path, tmp_path):
    (tmp_path / "myjob.py").write_text(
        "from pipeloom import TaskDef\n"
        "def worker(task, q):\n"
        "    if task.task_id == 99: raise ValueError('never')\n"
        "def job(n='3'):\n"
        "    return {'tasks': [TaskDef(i, f'j{i}') for i in range(int(n))], 'worker_fn': worker}\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeloom",
            "run",
            "myjob:job",
            "--db",
            str(db_path),
            "--arg",
            "n=4",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert rows(db_path, "SELECT count(*), name FROM pipeline_runs") == [(1, "myjob:job")]
    assert rows(db_path, "SELECT count(*) FROM task_runs WHERE status='done'") == [(4,)]


def test_run_with_a_bad_target(db_path):
    result = runner.invoke(app, ["run", "nosuchmodule:job", "--db", str(db_path)])
    assert result.exit_code == 2 and "cannot load" in result.output
