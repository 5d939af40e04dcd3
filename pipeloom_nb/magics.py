"""The `%pipeloom` and `%%pipeloom` magics: thin wrappers over `Loom`.

A `Loom` the user made on the same database file is used, handlers and all; otherwise a
plain one.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import types
from typing import Any

from IPython.core.magic import Magics, line_cell_magic, magics_class

from pipeloom.errors import PipelineError
from pipeloom.execution.executors import EXECUTORS

from .loom import Loom

__all__ = ["PipeloomMagics"]

USAGE = """\
%pipeloom run WORKER TASKS [--db PATH] [--workers N] [--executor E] [-o VAR]
%%pipeloom run TASKS [--db PATH] [--workers N] [--executor E] [-o VAR]
    (the cell defines the worker; E: threads, processes, or a dask.distributed.Client's name)
%pipeloom sql [--db PATH] QUERY
%pipeloom status | tables | runs [--db PATH]"""


class UsageError(Exception):
    """Bad magic arguments: shown as a usage message, not a traceback."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        raise UsageError(message)


def _parser() -> _Parser:
    p = _Parser(prog="%pipeloom", add_help=False)
    p.add_argument("command", choices=["run", "status", "tables", "runs"])
    p.add_argument("args", nargs="*")
    p.add_argument("--db", default=None)
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--executor", default=None)
    p.add_argument("-o", "--output", default=None)
    return p


@magics_class
class PipeloomMagics(Magics):
    """`%pipeloom run|sql|status|tables|runs`."""

    db_path = "pipeloom.db"

    def _loom(self, db: str | None) -> Loom:
        """The user's own `Loom` on that database (with its handlers and schemas), if any."""
        if db is not None:
            self.db_path = db
        target = os.path.abspath(self.db_path)
        for value in reversed(list(self.shell.user_ns.values())):
            if isinstance(value, Loom) and os.path.abspath(value.db_path) == target:
                return value
        return Loom(self.db_path)

    @line_cell_magic
    def pipeloom(self, line: str, cell: str | None = None) -> Any:
        """Run a pipeline, or query its database; `%pipeloom` alone prints the usage."""
        try:
            if line.split(None, 1)[:1] == ["sql"]:
                return self._sql(line.split(None, 1)[1] if " " in line.strip() else "")
            opts = _parser().parse_intermixed_args(shlex.split(line))
            return self._dispatch(opts, cell)
        except (UsageError, PipelineError, NameError, SyntaxError) as exc:
            print(f"UsageError: {exc}\n{USAGE}")
            return None

    def _dispatch(self, opts: argparse.Namespace, cell: str | None) -> Any:
        loom = self._loom(opts.db)
        if opts.command == "run":
            return self._run(loom, opts, cell)
        if opts.command == "tables":
            return loom.table_names()
        if opts.command == "runs":
            return loom.runs()
        return loom.runs().head(5)[
            ["run_id", "name", "status", "tasks", "done", "errors", "cancelled", "elapsed_s"]
        ]

    def _sql(self, rest: str) -> Any:
        """`sql [--db PATH] QUERY`, the query taken verbatim (quotes and all)."""
        match = re.match(r"\s*--db(?:=|\s+)(\S+)\s*(.*)", rest, re.S)
        db, query = (match.group(1), match.group(2)) if match else (None, rest)
        if not query.strip():
            raise UsageError("sql needs a query")
        return self._loom(db).sql(query)

    def _run(self, loom: Loom, opts: argparse.Namespace, cell: str | None) -> Any:
        if cell is None:
            if len(opts.args) != 2:
                raise UsageError("run needs WORKER and TASKS")
            worker, tasks = (self._eval(a) for a in opts.args)
        else:
            if len(opts.args) != 1:
                raise UsageError("%%pipeloom run needs TASKS (the cell defines the worker)")
            tasks = self._eval(opts.args[0])
            worker = self._cell_worker(cell)
        kw: dict[str, Any] = {}
        if opts.executor is not None:
            kw["executor"] = self._executor(opts.executor)
        if opts.workers is not None:
            kw["workers"] = opts.workers
        result = loom.run(tasks, worker, **kw)
        if opts.output:
            self.shell.user_ns[opts.output] = result
        return result

    def _executor(self, name: str) -> Any:
        return name if name in EXECUTORS else self._eval(name)

    def _eval(self, expr: str) -> Any:
        return eval(expr, self.shell.user_ns)

    def _cell_worker(self, cell: str) -> Any:
        before = dict(self.shell.user_ns)
        self.shell.run_cell(cell, store_history=False)
        new = [
            v
            for k, v in self.shell.user_ns.items()
            if isinstance(v, types.FunctionType) and before.get(k) is not v
        ]
        if not new:
            raise UsageError("the cell defines no function to use as the worker")
        return new[-1]
