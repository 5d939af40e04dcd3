"""What every display says in words: the progress line, a resumed run's tasks, the outcome."""

from __future__ import annotations

from .snapshot import StatsSnapshot

__all__ = [
    "duration",
    "eta_text",
    "outcome_text",
    "parts_text",
    "percent",
    "plural",
    "progress_line",
    "resumed_text",
]

PARTS = ("done", "error", "cancelled")
"""The final statuses a run's own tasks reach, in the order they are shown."""


def plural(n: int, word: str) -> str:
    """`1 task`, `2,996 tasks`."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def duration(seconds: float) -> str:
    """`4.2s`, `3m 05s`, `2h 07m`."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    return f"{minutes // 60}h {minutes % 60:02d}m"


def parts_text(s: StatsSnapshot) -> str:
    """`1,200 done · 4 error · 8 running`: this run's tasks by status (skipped ones apart)."""
    parts = [f"{s.counts[p]:,} {p}" for p in PARTS if s.counts.get(p)]
    if s.in_flight:
        parts.append(f"{s.in_flight:,} running")
    return " · ".join(parts)


def resumed_text(s: StatsSnapshot) -> str:
    """`resuming run 12: 2,996 done before` (`resumed ...` once the run ended), or "" when
    no task was skipped."""
    if not s.skipped:
        return ""
    verb = "resumed" if s.finished else "resuming"
    head = verb if s.resumed_from is None else f"{verb} run {s.resumed_from}"
    return f"{head}: {s.skipped:,} done before"


def eta_text(s: StatsSnapshot) -> str:
    """`ETA 25s`, `ETA ≥ 25s` when it is a lower bound, or "" when there is none to give."""
    eta = s.eta
    if eta is None or s.finished or s.left == 0:
        return ""
    return f"ETA {'≥ ' if s.eta_is_lower_bound else ''}{duration(eta)}"


def progress_line(s: StatsSnapshot) -> str:
    """`1,204/3,000 · 1,200 done · 4 error · 8 running · 34.5 tasks/s · 35.0s elapsed · ETA 52s`.

    The fraction counts this run's tasks (of an iterator not yet exhausted: `/?`); tasks
    skipped as done before are said apart, and the rate counts only tasks run here.
    """
    to_run = f"{s.total - s.skipped:,}" if s.total_known else "?"
    if s.growing and s.total_known:
        to_run = f"≥{to_run}"  # tasks in flight may still add tasks
    return " · ".join(
        text
        for text in (
            f"{s.completed - s.skipped:,}/{to_run}",
            parts_text(s),
            f"{s.rate:,.1f} tasks/s",
            f"{duration(s.elapsed)} elapsed",
            eta_text(s),
            resumed_text(s),
        )
        if text
    )


def outcome_text(status: str, s: StatsSnapshot) -> str:
    """The run's ending in words: `done: 3,000 tasks`, `ended with 4 errors: 2,996 of 3,000
    done`, `cancelled at 7%: 225 of 3,200 done`, `failed: ...`."""
    done = s.counts.get("done", 0) + s.skipped
    of = f"{done:,} of {s.total:,} done"
    if status == "done":
        return f"done: {plural(s.total, 'task')}"
    if status == "error":
        return f"ended with {plural(s.counts.get('error', 0) or len(s.errors), 'error')}: {of}"
    if status == "cancelled":
        reached = s.completed - s.counts.get("cancelled", 0)
        return f"cancelled at {percent(reached, s.total)}: {of}"
    return f"{status}: {of}"


def percent(n: int, total: int) -> str:
    """`7%` of `total`; never 100% for less than all, nor 0% for more than none."""
    if total <= 0:
        return "0%"
    pct = 100 * n / total
    return f"{max(1, min(99, round(pct)))}%" if 0 < n < total else f"{round(pct)}%"
