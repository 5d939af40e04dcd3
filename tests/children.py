"""Child Python processes for the guarantee tests: line handshakes and bounded waits."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import IO, Any

import psutil

ROOT = Path(__file__).resolve().parents[1]


class Child:
    """A `python -c script args...` process; talk to it by lines on stdin and stdout.

    Every wait is bounded; a child still alive at `close()` is killed.
    """

    def __init__(self, script: str, *args: Any) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        self.proc = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(script), *map(str, args)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.out: list[str] = []
        self._err: list[str] = []
        self._lines: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._pumps = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, True), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, False), daemon=True),
        ]
        for t in self._pumps:
            t.start()

    def _pump(self, stream: IO[str], is_out: bool) -> None:
        for line in stream:
            if is_out:
                self.out.append(line)
                self._lines.put(line)
            else:
                self._err.append(line)
        if is_out:
            self._lines.put(None)

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def stderr(self) -> str:
        return "".join(self._err)

    def expect(self, prefix: str, timeout: float = 30) -> str:
        """Wait for the next stdout line starting with `prefix` (other lines are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {prefix!r} from the child in {timeout}s:\n{self.stderr}")
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"child ended before {prefix!r}; stderr:\n{self.stderr}")
            if line.startswith(prefix):
                return line.strip()

    def send(self, line: str) -> None:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def interrupt(self) -> None:
        """Ctrl-C, as a terminal sends it."""
        os.kill(self.proc.pid, signal.SIGINT)

    def kill9(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def finish(self, timeout: float = 30) -> int:
        """Wait for the exit code; a child still running after `timeout` is killed and fails."""
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise AssertionError(
                f"child still running after {timeout}s; stderr:\n{self.stderr}"
            ) from None
        for t in self._pumps:
            t.join(5)
        return rc

    def has_open(self, path: Path, timeout: float = 10) -> bool:
        """Wait until the child has `path` open (its writer connected to it)."""
        target = str(Path(path).resolve())
        deadline = time.monotonic() + timeout
        proc = psutil.Process(self.proc.pid)
        while time.monotonic() < deadline:
            if any(f.path == target for f in proc.open_files()):
                return True
            time.sleep(0.02)
        return False

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            with contextlib.suppress(OSError):
                stream.close()

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


LOCKER = """
    import sqlite3, sys, time
    conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
    conn.execute("CREATE TABLE IF NOT EXISTS other(x)")
    print("ready", flush=True)
    for line in sys.stdin:
        cmd, *arg = line.split()
        if cmd == "lock":
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO other VALUES (1)")
            print("locked", flush=True)
            if arg:
                time.sleep(float(arg[0]))
                conn.execute("COMMIT")
                print("released", flush=True)
        elif cmd == "release":
            conn.execute("COMMIT")
            print("released", flush=True)
"""
"""Another writer on the file, as a second notebook or the sqlite3 shell: `lock [seconds]`
takes the write lock (BEGIN IMMEDIATE plus a write), `release` commits."""


def locker(db: Path) -> Child:
    """Start a LOCKER on `db` and wait until it is connected."""
    child = Child(LOCKER, db)
    child.expect("ready")
    return child
