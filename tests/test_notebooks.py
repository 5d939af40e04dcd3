"""Every tutorial runs top to bottom in a real kernel, and is stored without outputs."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_tutorials():
    assert [p.stem[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06", "07"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_outputs_are_stripped(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, path.name


@pytest.mark.notebook
@pytest.mark.timeout(300)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_clean(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    interrupted = [  # a cell showing Interrupt Kernel, on purpose
        o for c in nb.cells if "raises-exception" in c.metadata.get("tags", []) for o in c.outputs
    ]
    errors = [o for o in outputs if o.output_type == "error"]
    assert all(o in interrupted and o.ename == "KeyboardInterrupt" for o in errors)
    widgets = [
        o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert widgets, "the progress widget was displayed"
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    views = [
        m["state"].get("value", "")
        for m in state.get("state", {}).values()
        if "pipeloom-progress" in m["state"].get("value", "")
    ]
    ended = [re.search(r"class='pipeloom-state'[^>]*>([^<]*)<", v).group(1) for v in views]
    assert views and all(not e.endswith("%") for e in ended), ended  # each run said how it ended
    assert any(e.startswith("done: ") for e in ended)
