"""The public surface: what `__all__` exports is what extenders need, and it all exists."""

from __future__ import annotations

import importlib

import pytest

import pipeloom
import pipeloom_nb

ENGINE = {
    "SENTINEL",
    "AddTasks",
    "ConfigError",
    "Display",
    "HandlerRegistry",
    "MessageQueue",
    "Msg",
    "MsgTaskFinish",
    "MsgTaskFinished",
    "MsgTaskProgress",
    "MsgTaskStart",
    "MsgTaskStarted",
    "NoSuchTable",
    "Page",
    "PicklingFailed",
    "PipelineError",
    "RetryAfter",
    "Rows",
    "RunEnded",
    "RunSummary",
    "SQLiteWriter",
    "StatsSnapshot",
    "TaskDef",
    "TaskError",
    "UnhandledMessage",
    "UnsupportedValue",
    "WorkerQueue",
    "WriterError",
    "__version__",
    "choose_display",
    "run_pipeline",
    "setup_logging",
}
NOTEBOOK = {
    "Loom",
    "MarimoDisplay",
    "RunHandle",
    "RunResult",
    "WidgetDisplay",
    "__version__",
    "load_ipython_extension",
}

# pipeloom 0.0.7's import paths, and the names its users (and the seed document) import.
COMPAT = {
    "pipeloom.messages": ["TaskDef", "MsgTaskStarted", "MsgTaskProgress", "MsgTaskFinished"],
    "pipeloom.engine": ["run_pipeline"],
    "pipeloom.writer": ["SQLiteWriter"],
    "pipeloom.db": ["connect", "init_schema", "wal_checkpoint"],
    "pipeloom.progress": ["make_overall_progress", "make_task_progress"],
    "pipeloom.rlog": ["setup_logging", "console"],
    "pipeloom.demo": ["demo_worker"],
    "pipeloom.cli": ["main"],
}


@pytest.mark.parametrize(("package", "expected"), [(pipeloom, ENGINE), (pipeloom_nb, NOTEBOOK)])
def test_all_is_the_intended_public_surface(package, expected):
    assert set(package.__all__) == expected
    for name in package.__all__:
        assert hasattr(package, name), name


@pytest.mark.parametrize(("module", "names"), COMPAT.items())
def test_pipeloom_007_import_paths_still_work(module, names):
    mod = importlib.import_module(module)
    for name in names:
        assert hasattr(mod, name), f"{module}.{name}"


def test_every_error_is_a_pipeline_error():
    errors = importlib.import_module("pipeloom.errors")
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), pipeloom.PipelineError), name


def test_displays_and_queues_meet_their_protocols(tmp_path):
    from pipeloom.progress import LogDisplay, NullDisplay, RichDisplay

    notebook = (pipeloom_nb.WidgetDisplay(), pipeloom_nb.MarimoDisplay())
    for display in (NullDisplay(), LogDisplay(), RichDisplay(), *notebook):
        assert isinstance(display, pipeloom.Display), type(display).__name__
    assert isinstance(pipeloom.MessageQueue(), pipeloom.WorkerQueue)
