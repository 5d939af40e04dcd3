"""CPU seconds of a process's threads by group, read from /proc (Linux; elsewhere empty).

Imported inside the kernel by `benchmarks.kernel`: the kernel's own threads (its main
thread, the IOPub thread, libzmq's I/O threads, the rest) are read before and after a run;
the run's threads (workers, writer, ticker) are gone by then, so their CPU is what remains
of the process's.
"""

from __future__ import annotations

import os
import threading

__all__ = ["GROUPS", "kernel_threads_cpu", "thread_cpu"]

GROUPS = ("main", "iopub", "zmq", "kernel")
"""The kernel's own threads: its main thread, IOPub, libzmq's I/O threads, the others."""

_PREFIXES = (("MainThread", "main"), ("IOPub", "iopub"), ("ZMQbg/", "zmq"))
_TASKS = "/proc/self/task"


def thread_cpu() -> dict[int, tuple[str, float]]:
    """Each live thread's name and CPU seconds (nanoseconds from schedstat), by thread id."""
    if not os.path.isdir(_TASKS):
        return {}
    names = {t.native_id: t.name for t in threading.enumerate()}
    out = {}
    for tid in map(int, os.listdir(_TASKS)):
        try:
            cpu = _read(f"{_TASKS}/{tid}/schedstat").split()[0]
            name = names.get(tid) or _read(f"{_TASKS}/{tid}/comm").strip()
        except OSError:  # the thread ended meanwhile
            continue
        out[tid] = (name, int(cpu) / 1e9)
    return out


def kernel_threads_cpu(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]
) -> dict[str, float]:
    """CPU seconds each group of the kernel's own threads spent between two readings.

    The kernel's threads are those alive at both: a thread born meanwhile is the run's,
    though it may have left `threading`'s list (and lost its name) before the second.
    """
    out = dict.fromkeys(GROUPS, 0.0)
    for tid, (name, cpu) in after.items():
        group = _group(name) if tid in before else None
        if group is not None:
            out[group] += cpu - before[tid][1]
    return out


def _group(name: str) -> str | None:
    if name.startswith("pipeloom-"):
        return None  # the run's own
    return next((g for prefix, g in _PREFIXES if name.startswith(prefix)), "kernel")


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()
