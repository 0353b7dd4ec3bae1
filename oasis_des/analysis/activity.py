"""Activity statistics from the trace: actions over time, the action mix, inter-event times.

Sign-ups are setup, not activity, so they are left out by default. Each activation of the
engine writes a `refresh` row (the agent reads its feed) before the action it decides on,
so refresh counts are activations; inter-event times leave refreshes out by default so
that a gap is the time between two decisions, not the think time inside one activation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from oasis_des.analysis.source import RunDB, connect
from oasis_des.analysis.tables import Table

SETUP = ("sign_up",)
DECISIONS_ONLY = ("sign_up", "refresh")


def actions_per_bin(
    db: RunDB, *, bin_minutes: float = 60.0, exclude: Sequence[str] = SETUP
) -> Table:
    """Rows: bin start (minutes), total, then one count column per action (alphabetical).

    Bins run from 0 to the last bin with activity, empty ones included.
    """
    if bin_minutes <= 0:
        raise ValueError(f"bin_minutes must be > 0, got {bin_minutes}.")
    marks = ",".join("?" * len(exclude))
    with connect(db) as conn:
        counts = conn.execute(
            f"SELECT CAST(sim_time / ? AS INTEGER), action, COUNT(*) FROM trace "
            f"WHERE action NOT IN ({marks}) GROUP BY 1, 2",
            (bin_minutes, *exclude),
        ).fetchall()
    names = sorted({a for _, a, _ in counts})
    n_bins = max((b for b, _, _ in counts), default=-1) + 1
    grid = np.zeros((n_bins, len(names)), dtype=np.int64)
    col = {a: i for i, a in enumerate(names)}
    for b, a, c in counts:
        grid[b, col[a]] = c
    return Table(
        ("start", "total", *names),
        [(b * bin_minutes, int(grid[b].sum()), *map(int, grid[b])) for b in range(n_bins)],
    )


def action_mix(db: RunDB, *, exclude: Sequence[str] = SETUP) -> Table:
    """Each action's count and share of all actions, most frequent first."""
    marks = ",".join("?" * len(exclude))
    with connect(db) as conn:
        counts = conn.execute(
            f"SELECT action, COUNT(*) FROM trace WHERE action NOT IN ({marks}) "
            "GROUP BY action ORDER BY 2 DESC, 1",
            tuple(exclude),
        ).fetchall()
    total = sum(c for _, c in counts)
    return Table(("action", "count", "share"), [(a, c, c / total) for a, c in counts])


def agent_activity(db: RunDB, *, exclude: Sequence[str] = DECISIONS_ONLY) -> Table:
    """Per agent with at least one action: events, mean and std of gaps, burstiness.

    Burstiness B = (σ − μ) / (σ + μ) of the agent's inter-event times (Goh & Barabási 2008):
    −1 for a regular clock, 0 for a Poisson process, towards 1 for bursts; NaN below 2 gaps.
    """
    rows = []
    for user, times in _times_by_agent(db, exclude):
        gaps = np.diff(times)
        mu = float(gaps.mean()) if len(gaps) else math.nan
        sigma = float(gaps.std()) if len(gaps) else math.nan
        burst = (sigma - mu) / (sigma + mu) if len(gaps) >= 2 and sigma + mu > 0 else math.nan
        rows.append((user, len(times), mu, sigma, burst))
    return Table(("user_id", "events", "mean_gap", "std_gap", "burstiness"), rows)


def inter_event_times(db: RunDB, *, exclude: Sequence[str] = DECISIONS_ONLY) -> np.ndarray:
    """Every gap (minutes) between consecutive actions of the same agent, pooled."""
    gaps = [np.diff(times) for _, times in _times_by_agent(db, exclude)]
    return np.concatenate(gaps) if gaps else np.zeros(0)


def gap_distribution(gaps: np.ndarray, *, per_decade: int = 5) -> Table:
    """Log-binned density of positive gaps: rows (low, high, count, density per minute)."""
    positive = np.asarray(gaps, dtype=np.float64)
    positive = positive[positive > 0]
    if not len(positive):
        return Table(("gap_low", "gap_high", "count", "density"))
    lo, hi = math.floor(math.log10(positive.min())), math.ceil(math.log10(positive.max()))
    hi = max(hi, lo + 1)
    edges = np.logspace(lo, hi, (hi - lo) * per_decade + 1)
    counts, _ = np.histogram(positive, bins=edges)
    density = counts / (len(positive) * np.diff(edges))
    return Table(
        ("gap_low", "gap_high", "count", "density"),
        [(float(a), float(b), int(c), float(d)) for a, b, c, d in zip(edges[:-1], edges[1:], counts, density)],
    )


def _times_by_agent(db: RunDB, exclude: Sequence[str]) -> list[tuple[int, np.ndarray]]:
    marks = ",".join("?" * len(exclude))
    with connect(db) as conn:
        rows = np.asarray(
            conn.execute(
                f"SELECT user_id, sim_time FROM trace WHERE action NOT IN ({marks}) "
                "ORDER BY user_id, sim_time, trace_id",
                tuple(exclude),
            ).fetchall(),
            dtype=np.float64,
        ).reshape(-1, 2)
    users, starts = np.unique(rows[:, 0], return_index=True)
    bounds = [*starts[1:], len(rows)]
    return [(int(u), rows[s:e, 1]) for u, s, e in zip(users, starts, bounds)]
