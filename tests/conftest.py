"""Shared fixtures: database files in tmp_path, a real kernel, a guard against leaked threads."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest


def _pipeloom_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("pipeloom")}


@pytest.fixture(autouse=True)
def no_leaked_threads():
    """Fail a test that leaves a pipeloom thread running."""
    before = _pipeloom_threads()
    yield
    deadline = time.monotonic() + 5
    while (_pipeloom_threads() - before) and time.monotonic() < deadline:
        time.sleep(0.01)
    leaked = _pipeloom_threads() - before
    assert not leaked, f"threads left running: {sorted(t.name for t in leaked)}"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A database file path in a fresh folder."""
    return tmp_path / "test.db"


@pytest.fixture
def kernel():
    """A client of a real IPython kernel, shut down after the test."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    try:
        yield kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def pytest_configure(config: pytest.Config) -> None:
    """Register the `workers` marker, read by the `loom` fixture."""
    config.addinivalue_line("markers", "workers(n): the workers of the `loom` fixture (3)")


@pytest.fixture
def loom(db_path: Path, request: pytest.FixtureRequest):
    """A Loom over `db_path` that shows no progress; `@pytest.mark.workers(n)` sets its workers."""
    from pipeloom_nb import Loom

    marker = request.node.get_closest_marker("workers")
    return Loom(db_path, workers=marker.args[0] if marker else 3, progress=False)


@pytest.fixture(scope="module")
def dask_client():
    """A local Dask cluster of two single-threaded worker processes, one per test module."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client
