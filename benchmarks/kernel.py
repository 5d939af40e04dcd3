"""The widget display's cost measured where users see it: inside one real Jupyter kernel.

One kernel runs the seed-shaped pipeline (each task: started, k progress messages,
finished; 4 thread workers; a fresh SQLite file per run) with the ipywidgets display and
without it, alternating (on, off, off, on, ...), through `run_pipeline` and through
`Loom.run`. Times are taken inside the kernel around the run, so start-up is not counted;
the client counts the IOPub messages (and their bytes) each run sends, as a front end
receives them. Figures are medians. The CPU of the kernel's own threads (its main thread,
IOPub, libzmq) is read before and after each run, so the display's whole cost is measured
apart from the run's threads, whose CPU varies more from run to run than that cost.

    PYTHONPATH=. python -m benchmarks.kernel [--runs 5] [--tasks 5000] [--k 20]
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import queue
import statistics
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.kernel_threads import GROUPS

__all__ = ["widget_cost_in_kernel"]

ROOT = Path(__file__).resolve().parents[1]
WORKERS = 4

SETUP = """
import json, time
from pipeloom import MsgTaskFinished, MsgTaskProgress, MsgTaskStarted, TaskDef, run_pipeline
from pipeloom_nb import Loom, WidgetDisplay
from benchmarks.kernel_threads import kernel_threads_cpu, thread_cpu
K = {k}
TASKS = [TaskDef(i, f"t{{i}}") for i in range({tasks})]
def worker(task, q):
    q.put(MsgTaskStarted(task.task_id, task.name, "t"))
    for step in range(1, K + 1):
        q.put(MsgTaskProgress(task.task_id, step, K, "step"))
    q.put(MsgTaskFinished(task.task_id, "done", "t"))
def timed(name):
    def call(self, *args, **kwargs):
        c0 = time.thread_time()
        try:
            return getattr(WidgetDisplay, name)(self, *args, **kwargs)
        finally:
            self.cpu += time.thread_time() - c0
            if name == "update":  # the ticker's thread; the other calls are the cell's
                self.update_cpu += time.thread_time() - c0
    return call
Timed = type("Timed", (WidgetDisplay,), dict(
    cpu=0.0, update_cpu=0.0,
    **{{n: timed(n) for n in ("__init__", "start", "update", "wait", "finish")}}))
def bench(api, on, path):
    before = thread_cpu()
    t0, c0 = time.perf_counter(), time.process_time()
    display = Timed() if on else False  # what progress="auto" builds, timed too
    if api == "loom":
        s = Loom(path, workers={workers}).run(TASKS, worker, progress=display).summary
    else:
        s = run_pipeline(path, TASKS, workers={workers}, worker_fn=worker, progress=display)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    threads = kernel_threads_cpu(before, thread_cpu())
    threads["run"] = cpu - sum(threads.values())
    return json.dumps(dict(seconds=seconds, cpu=cpu, messages=s.messages, threads=threads,
                           done=s.counts.get("done", 0), redraws=display.redraws if on else 0,
                           display_cpu=display.cpu if on else 0.0,
                           update_cpu=display.update_cpu if on else 0.0))
"""


def widget_cost_in_kernel(runs: int = 5, tasks: int = 5000, k: int = 20) -> dict:
    """Medians of `runs` alternating runs with the widget display on and off, in one kernel.

    Returns {"tasks", "k", "runs", "workers", "pipeline": figures, "loom": figures}, where
    figures are seconds_on/off, cpu_on/off (the kernel's CPU seconds), rate_on/off
    (messages/s), cost (1 - rate_on / rate_off), cost_paired (1 - the median ratio of each
    run with the widget to the run next to it without: drift on a shared machine cancels),
    cpu_cost (cpu_on / cpu_off - 1), iopub_messages_on/off and iopub_bytes_on (per run, as
    the client receives them), redraws, redraws_per_s, done_on (the fewest tasks done in a
    run with the widget), display_cpu (CPU seconds in the display's own calls, on the
    threads that make them) and display_share (display_cpu / seconds).

    The kernel's threads are read too (Linux): threads_on/off are the median CPU seconds of
    each group ("main", "iopub", "zmq", "kernel": the kernel's own; "run": the run's
    workers, writer and ticker); overhead_cpu is the display's whole CPU per run (paired:
    what the kernel's own threads spend more with it, plus its redraws on the ticker's
    thread), overhead_share that over the run's seconds without it, and engine_cpu_diff
    what the run's own threads spend more with it, its redraws left out. The run's threads
    vary by a tenth from run to run on a shared machine, so on/off wall or CPU medians of a
    few runs cannot resolve a few percent; overhead_cpu leaves them out and can.
    """
    from jupyter_client.manager import start_new_kernel

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), _pythonpath()]))}
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(ROOT), env=env)
    try:
        _execute(kc, SETUP.format(k=k, tasks=tasks, workers=WORKERS))
        with tempfile.TemporaryDirectory() as tmp:
            return {
                "tasks": tasks,
                "k": k,
                "runs": runs,
                "workers": WORKERS,
                **{api: _compare(kc, api, runs, Path(tmp)) for api in ("pipeline", "loom")},
            }
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def _pythonpath() -> str:
    return os.environ.get("PYTHONPATH", "")


def _compare(kc: Any, api: str, runs: int, tmp: Path) -> dict:
    """Alternate on/off (on, off, off, on, ...) and take medians, after one pair not counted.

    The pair not counted pays what happens once per kernel (the first widget, the first
    database of the session), not once per run.
    """
    for widget in (True, False):
        _one_run(kc, api, widget, tmp / f"{api}-warm-{int(widget)}.db")
    on: list[dict] = []
    off: list[dict] = []
    for i in range(runs):
        for widget in (True, False) if i % 2 == 0 else (False, True):
            path = tmp / f"{api}-{i}-{int(widget)}.db"
            (on if widget else off).append(_one_run(kc, api, widget, path))
    med, base = _medians(on), _medians(off)
    rate_on = statistics.median(_rate(r) for r in on)
    rate_off = statistics.median(_rate(r) for r in off)
    return {
        "seconds_on": med["seconds"],
        "seconds_off": base["seconds"],
        "cpu_on": med["cpu"],
        "cpu_off": base["cpu"],
        "rate_on": rate_on,
        "rate_off": rate_off,
        "cost": 1 - rate_on / rate_off,
        "cost_paired": 1 - statistics.median(map(_ratio, on, off)),
        "cpu_cost": med["cpu"] / base["cpu"] - 1,
        "iopub_messages_on": med["iopub_messages"],
        "iopub_messages_off": base["iopub_messages"],
        "iopub_bytes_on": med["iopub_bytes"],
        "redraws": med["redraws"],
        "redraws_per_s": statistics.median(r["redraws"] / r["seconds"] for r in on),
        "done_on": min(r["done"] for r in on),
        "display_cpu": med["display_cpu"],
        "display_share": statistics.median(r["display_cpu"] / r["seconds"] for r in on),
        "threads_on": _thread_medians(on),
        "threads_off": _thread_medians(off),
        "overhead_cpu": statistics.median(map(_overhead, on, off)),
        "overhead_share": statistics.median(
            _overhead(a, b) / b["seconds"] for a, b in zip(on, off, strict=True)
        ),
        "engine_cpu_diff": statistics.median(map(_engine_diff, on, off)),
    }


def _medians(runs: list[dict]) -> dict:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0] if key != "threads"}


def _thread_medians(runs: list[dict]) -> dict:
    return {g: statistics.median(r["threads"][g] for r in runs) for g in runs[0]["threads"]}


def _overhead(on: dict, off: dict) -> float:
    """The display's whole CPU in a pair of runs: what the kernel's own threads spent more
    with it (its calls in the cell's thread, IOPub, libzmq) and its redraws on the ticker's."""
    kernel = sum(on["threads"][g] - off["threads"][g] for g in GROUPS)
    return kernel + on["update_cpu"]


def _engine_diff(on: dict, off: dict) -> float:
    """What the run's own threads spent more with the display, its redraws left out (noise
    around zero unless the display slows the workers or the writer)."""
    return on["threads"]["run"] - on["update_cpu"] - off["threads"]["run"]


def _rate(run: dict) -> float:
    return run["messages"] / run["seconds"]


def _ratio(on: dict, off: dict) -> float:
    return _rate(on) / _rate(off)


def _one_run(kc: Any, api: str, widget: bool, path: Path) -> dict:
    code = f"_r = bench({api!r}, {widget}, {str(path)!r})"
    reply, count, size = _execute(kc, code, {"r": "_r"})
    text = reply["content"]["user_expressions"]["r"]["data"]["text/plain"]
    return {**json.loads(ast.literal_eval(text)), "iopub_messages": count, "iopub_bytes": size}


def _execute(kc: Any, code: str, expressions: dict | None = None) -> tuple[dict, int, int]:
    """Run a cell; its reply, and the IOPub messages and bytes received until it was idle."""
    msg_id = kc.execute(code, user_expressions=expressions or {})
    count = size = 0
    while True:
        msg = kc.get_iopub_msg(timeout=600)
        count += 1
        size += _size(msg)
        parent = msg["parent_header"].get("msg_id")
        if msg["msg_type"] == "error" and parent == msg_id:
            raise RuntimeError("\n".join(msg["content"]["traceback"]))
        if parent == msg_id and msg["content"].get("execution_state") == "idle":
            break
    while True:  # anything still on its way (sent by another thread just before idle)
        try:
            msg = kc.get_iopub_msg(timeout=0.2)
        except queue.Empty:
            break
        count += 1
        size += _size(msg)
    reply = kc.get_shell_msg(timeout=60)
    while reply["parent_header"].get("msg_id") != msg_id:  # a late kernel_info_reply
        reply = kc.get_shell_msg(timeout=60)
    if reply["content"]["status"] != "ok":
        raise RuntimeError(reply["content"])
    return reply, count, size


def _size(msg: dict) -> int:
    """Bytes of a message's content, metadata and buffers as JSON (headers left out)."""
    text = json.dumps([msg["content"], msg["metadata"]], default=str)
    return len(text) + sum(len(b) for b in msg.get("buffers", ()))


def _table(res: dict) -> str:
    lines = [
        f"{res['tasks']:,} tasks x {res['k'] + 2} messages, {res['workers']} threads, "
        f"{res['runs']} runs each, medians",
        "| api | s on / off | CPU s on / off | msgs/s on / off | cost (paired; CPU) "
        "| display's own CPU | display's whole CPU | run threads' CPU on - off "
        "| IOPub msgs/run (bytes) | redraws/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for api in ("pipeline", "loom"):
        r = res[api]
        lines.append(
            f"| {api} | {r['seconds_on']:.2f} / {r['seconds_off']:.2f} | {r['cpu_on']:.2f} / "
            f"{r['cpu_off']:.2f} | {r['rate_on']:,.0f} / {r['rate_off']:,.0f} | "
            f"{r['cost']:.1%} ({r['cost_paired']:.1%}; {r['cpu_cost']:.1%}) | "
            f"{r['display_cpu'] * 1e3:.1f} ms "
            f"({r['display_share']:.1%}) | {r['overhead_cpu'] * 1e3:.1f} ms "
            f"({r['overhead_share']:.1%}) | {r['engine_cpu_diff'] * 1e3:+.1f} ms | "
            f"{r['iopub_messages_on']:.0f} "
            f"({r['iopub_bytes_on']:,.0f}) | {r['redraws_per_s']:.1f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--tasks", type=int, default=5000)
    p.add_argument("--k", type=int, default=20)
    a = p.parse_args()
    print(_table(widget_cost_in_kernel(a.runs, a.tasks, a.k)))
