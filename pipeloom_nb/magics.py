"""The `%pipeloom` and `%%pipeloom` magics: thin wrappers over `Loom`.

A `Loom` the user made on the same database file is used, handlers and all; otherwise a
plain one.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import keyword
import os
import re
import shlex
import types
from typing import Any

from IPython.core.magic import Magics, line_cell_magic, magics_class

from pipeloom.core.rows import MODES
from pipeloom.errors import PipelineError
from pipeloom.execution.executors import EXECUTORS

from .loom import Loom

__all__ = ["MagicUsageError", "PipeloomMagics"]


class MagicUsageError(PipelineError):
    """Bad `%pipeloom` arguments: shown as a usage message, not a traceback."""


USAGE = """\
%pipeloom run WORKER TASKS [--db PATH] [--workers N] [--executor E] [--rate R]
    [--timeout S] [--retries N] [--resume] [--name NAME] [-o VAR]
    [--table T [--key COL[,COL...]] [--mode append|merge|replace]]
%%pipeloom run TASKS [the same options]
    (the cell defines the worker; E: threads, processes, or a dask.distributed.Client's name;
    with --table: loom.map(WORKER, TASKS, table=T, ...), WORKER(item) returning rows)
%pipeloom sql [--db PATH] QUERY
%pipeloom status | tables | runs [--db PATH]"""


_SHELL_NAMES = re.compile(r"_+|_i+|_i?\d+|_[ido]h|In|Out|get_ipython|exit|quit")
"""IPython's own names: the output and input history (`_`, `_3`, `_i3`, `Out`, ...) and helpers."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        raise MagicUsageError(message)


def _parser() -> _Parser:
    p = _Parser(prog="%pipeloom", add_help=False)
    p.add_argument("command", choices=["run", "status", "tables", "runs"])
    p.add_argument("args", nargs="*")
    p.add_argument("--db", default=None)
    p.add_argument("--workers", type=_positive_int, default=None)
    p.add_argument("--executor", default=None)
    p.add_argument("--rate", type=_positive_float, default=None)
    p.add_argument("--timeout", type=_positive_float, default=None)
    p.add_argument("--retries", type=_non_negative_int, default=None)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--name", type=_nonempty, default=None)
    p.add_argument("--table", type=_nonempty, default=None)
    p.add_argument("--key", type=_columns, default=None)
    p.add_argument("--mode", choices=MODES, default=None)
    p.add_argument("-o", "--output", default=None)
    return p


def _positive_int(text: str) -> int:
    value = int(text) if text.isdecimal() else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"needs a whole number >= 1, not {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    if not text.isdecimal():
        raise argparse.ArgumentTypeError(f"needs a whole number >= 0, not {text!r}")
    return int(text)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"needs a number > 0, not {text!r}")
    return value


def _nonempty(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("needs a value")
    return text


def _columns(text: str) -> str | tuple[str, ...]:
    """`id` or `a,b`: one key column, or several."""
    cols = tuple(c.strip() for c in text.split(","))
    if not all(cols):
        raise argparse.ArgumentTypeError(f"needs column names separated by commas, not {text!r}")
    return cols[0] if len(cols) == 1 else cols


def _split(line: str) -> list[str]:
    """Shell-like words, as `shlex.split`; an unbalanced quote is a usage error."""
    try:
        return shlex.split(line)
    except ValueError as exc:
        raise MagicUsageError(f"cannot split {line!r}: {exc}") from None


def _split_sql(rest: str) -> tuple[str | None, str]:
    """`[--db PATH] QUERY`: PATH quoted as in `run`, the query kept verbatim (quotes and all)."""
    if not re.match(r"\s*--db(?=[=\s]|$)", rest):
        return None, rest
    lex = shlex.shlex(rest, posix=True)
    lex.whitespace_split, lex.commenters = True, ""
    try:
        flag = lex.get_token()
        db = flag[len("--db=") :] if flag.startswith("--db=") else lex.get_token()
    except ValueError as exc:
        raise MagicUsageError(f"cannot split {rest!r}: {exc}") from None
    if not db:
        raise MagicUsageError("--db needs a PATH")
    # The lexer has consumed PATH and the one blank after it; what is left is the query.
    return db, lex.instream.read()


def _names(expr: str) -> set[str]:
    """The names an argument expression reads."""
    return {n.id for n in ast.walk(ast.parse(expr, mode="eval")) if isinstance(n, ast.Name)}


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
        """Run a pipeline, or query its database; `%pipeloom` alone prints the usage.

        `run` passes its options to `loom.run`; with `--table` the run is `loom.map`: the
        worker is `fn(item)` returning rows, TASKS are the items.

        Bad arguments print the usage; a run or a query that fails raises, so a notebook
        run stops there.
        """
        try:
            if line.split(None, 1)[:1] == ["sql"]:
                return self._sql(line.split(None, 1)[1] if " " in line.strip() else "")
            opts = _parser().parse_intermixed_args(_split(line))
            return self._dispatch(opts, cell)
        except MagicUsageError as exc:
            print(f"MagicUsageError: {exc}\n{USAGE}")
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
        """`sql [--db PATH] QUERY`."""
        db, query = _split_sql(rest)
        if not query.strip():
            raise MagicUsageError("sql needs a query")
        return self._loom(db).sql(query)

    def _run(self, loom: Loom, opts: argparse.Namespace, cell: str | None) -> Any:
        if opts.table is None and (opts.key is not None or opts.mode is not None):
            raise MagicUsageError("--key and --mode need --table (they are loom.map's)")
        exprs = list(opts.args)
        if cell is None:
            if len(exprs) != 2:
                raise MagicUsageError("run needs WORKER and TASKS")
            worker, tasks = (self._eval(a) for a in exprs)
        else:
            if len(exprs) != 1:
                raise MagicUsageError("%%pipeloom run needs TASKS (the cell defines the worker)")
            tasks = self._eval(exprs[0])
            worker = self._cell_worker(cell)
        kw: dict[str, Any] = {}
        if opts.executor is not None:
            kw["executor"] = self._executor(opts.executor)
            if opts.executor not in EXECUTORS:
                exprs.append(opts.executor)
        for opt in ("workers", "rate", "timeout", "retries", "name", "key", "mode"):
            if getattr(opts, opt) is not None:
                kw[opt] = getattr(opts, opt)
        if opts.resume:
            kw["resume"] = True
        if opts.output is not None:
            self._check_output(opts.output, exprs, worker)
        if opts.table is not None:
            result = loom.map(worker, tasks, opts.table, **kw)
        else:
            result = loom.run(tasks, worker, **kw)
        if opts.output is not None:
            self.shell.user_ns[opts.output] = result
        return result

    def _check_output(self, name: str, exprs: list[str], worker: Any) -> None:
        """Refuse an `-o` name that is not a name, or would hide a builtin or what the run uses."""
        dunder = name.startswith("__") and name.endswith("__")  # Python's own: __builtins__
        if not name.isidentifier() or keyword.iskeyword(name) or dunder:
            raise MagicUsageError(
                f"-o needs a plain Python name (not a keyword or a __dunder__), not {name!r}"
            )
        if (
            hasattr(builtins, name)
            or _SHELL_NAMES.fullmatch(name)
            or name in self.shell.user_ns_hidden
        ):
            raise MagicUsageError(f"-o {name} would hide Python's or IPython's own {name!r}")
        current = self.shell.user_ns.get(name)
        uses = set().union(*map(_names, exprs))
        if name in uses or current is worker:
            raise MagicUsageError(f"-o {name} would replace {name!r}, which this run uses")
        if isinstance(current, Loom):
            raise MagicUsageError(f"-o {name} would replace the Loom {name!r} the magic runs on")

    def _executor(self, name: str) -> Any:
        return name if name in EXECUTORS else self._eval(name)

    def _eval(self, expr: str) -> Any:
        """An argument's value in the user's namespace; a name or syntax error is a usage error."""
        try:
            return eval(expr, self.shell.user_ns)
        except (NameError, SyntaxError) as exc:
            raise MagicUsageError(f"{expr}: {exc}") from None

    def _cell_worker(self, cell: str) -> Any:
        before = dict(self.shell.user_ns)
        self.shell.run_cell(cell, store_history=False)
        new = [
            v
            for k, v in self.shell.user_ns.items()
            if isinstance(v, types.FunctionType) and before.get(k) is not v
        ]
        if not new:
            raise MagicUsageError("the cell defines no function to use as the worker")
        return new[-1]
