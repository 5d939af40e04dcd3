"""Front ends register with the engine: `pipeloom` imports nothing of `pipeloom_nb`, and
`progress="auto"` finds the notebook front end registered (or named by an entry point)."""

from __future__ import annotations

import ast
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pipeloom import TaskDef, run_pipeline
from pipeloom.errors import ConfigError
from pipeloom.progress import NullDisplay, choose_display
from pipeloom.progress.frontends import FrontEnd, detected_front_end, front_end, register_display

ENGINE = Path(__file__).parents[1] / "pipeloom"


def test_no_engine_module_imports_the_notebook_package():
    for path in ENGINE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not [n for n in names if n.startswith("pipeloom_nb")], path


def test_a_run_outside_a_notebook_leaves_the_notebook_package_unimported(tmp_path):
    code = (
        "import sys; from pipeloom import TaskDef, run_pipeline\n"
        f"s = run_pipeline({str(tmp_path / 'a.db')!r}, [TaskDef(1, 'a')],"
        " worker_fn=lambda t, q: None, progress='rich')\n"
        "assert s.ok and 'pipeloom_nb' not in sys.modules, sorted(sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_notebook_front_ends_are_named_by_entry_points_and_registered():
    import pipeloom_nb
    from pipeloom_nb.frontends import MARIMO, WIDGETS

    assert front_end("widgets") is WIDGETS and front_end("marimo") is MARIMO
    assert isinstance(choose_display("widgets"), pipeloom_nb.WidgetDisplay)
    assert isinstance(choose_display("marimo"), pipeloom_nb.MarimoDisplay)
    assert detected_front_end() is None  # neither a kernel nor marimo here


def test_a_registered_front_end_that_detects_its_place_is_what_auto_chooses(db_path):
    here = threading.Event()

    class Counting(NullDisplay):
        made = 0

        def __init__(self) -> None:
            Counting.made += 1

    register_display(FrontEnd("counting", Counting, here.is_set))
    try:
        assert not isinstance(choose_display("auto"), Counting)
        here.set()
        assert isinstance(choose_display("auto"), Counting)
        assert run_pipeline(db_path, [TaskDef(1, "a")], worker_fn=lambda t, q: None).ok
        assert Counting.made == 2 and isinstance(choose_display("counting"), Counting)
    finally:
        here.clear()
    with pytest.raises(ConfigError, match="'widgets', 'marimo'"):
        choose_display("nonesuch")
