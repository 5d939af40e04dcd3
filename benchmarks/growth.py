"""How a run's cost grows with workers, messages per task and tasks (table and plot)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.common import fresh_db, run_tasks
from pipeloom import MsgTaskProgress, TaskDef

MESSAGES = 100_000
"""Messages (progress + one closing message per task) in each run of the sweeps."""


def _run(tmp: Path, workers: int, tasks: int, per_task: int, repeat: int) -> dict:
    def worker(task: TaskDef, q: Any) -> None:
        for step in range(1, per_task + 1):
            q.put(MsgTaskProgress(task.task_id, step, per_task))

    best = min(
        run_tasks(fresh_db(tmp, "growth"), tasks, worker, workers).elapsed for _ in range(repeat)
    )
    return {
        "workers": workers,
        "tasks": tasks,
        "per_task": per_task,
        "seconds": best,
        "msgs_per_s": tasks * (per_task + 1) / best,
        "us_per_task": best / tasks * 1e6,
        "us_per_msg": best / (tasks * (per_task + 1)) * 1e6,
    }


def sweeps(tmp: Path, scale: int = 1, repeat: int = 2) -> dict[str, list[dict]]:
    """Three sweeps around 4 workers x 10 messages per task; `scale` divides every size."""
    n = MESSAGES // scale
    return {
        "workers": [_run(tmp, w, n // 11, 10, repeat) for w in (1, 2, 4, 8, 16)],
        "per_task": [_run(tmp, 4, n // (k + 1), k, repeat) for k in (0, 1, 10, 100, 1000)],
        "tasks": [_run(tmp, 4, t // scale, 10, repeat) for t in (1_000, 10_000, 100_000)],
    }


def table(growth: dict[str, list[dict]]) -> str:
    """The sweeps as one Markdown table."""
    lines = [
        "| sweep | workers | tasks | progress msgs/task | seconds | msgs/s | µs per task |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for sweep, rows in growth.items():
        lines += [
            f"| {sweep} | {r['workers']} | {r['tasks']:,} | {r['per_task']} | "
            f"{r['seconds']:.2f} | {r['msgs_per_s']:,.0f} | {r['us_per_task']:.1f} |"
            for r in rows
        ]
    return "\n".join(lines)


def plot(growth: dict[str, list[dict]], path: Path) -> None:
    """Three panels: messages/s by workers, µs per message by messages per task, time by tasks."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2), layout="constrained")
    panels = [  # sweep (also the x column), y column, x label, y label
        ("workers", "msgs_per_s", "worker threads", "messages/s"),
        ("per_task", "us_per_msg", "progress messages per task", "µs per message"),
        ("tasks", "seconds", "tasks", "seconds (log)"),
    ]
    for ax, (sweep, y, xlabel, ylabel) in zip(axes, panels, strict=True):
        xs = [r[sweep] for r in growth[sweep]]
        ax.plot(xs, [r[y] for r in growth[sweep]], "o-")
        ax.set_xscale("symlog" if 0 in xs else "log")
        ax.set_xticks(xs, [f"{x:,}" for x in xs])
        ax.minorticks_off()
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    axes[0].set_ylim(bottom=0)
    axes[1].set_ylim(bottom=0)
    axes[2].set_yscale("log")
    fig.suptitle("pipeloom: cost as runs grow (4 workers, 10 messages per task unless varied)")
    fig.savefig(path, dpi=100)
    plt.close(fig)
