"""Polarisation over time, measured on what agents wrote.

Agents' internal stances (the offline model's `s`, an LLM's views) are not stored in the
run database; their writing is. Each post, quote and comment is read through the same
content features agents read with (`oasis_des.policies.features.features`): a stance in
[-1, 1] from a pro/con phrase lexicon. Within each time bin the measures are taken over
writers (each writer's mean stance in that bin, `unit="user"`) or over texts
(`unit="text"`):

- variance: population variance of the stances;
- bimodality coefficient (Sarle's, with the sample skewness g and excess kurtosis k):
  (g² + 1) / (k + 3(n − 1)² / ((n − 2)(n − 3))); above 5/9 suggests two modes;
- extremity: mean |stance|.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np

from oasis_des.analysis.source import RunDB, connect
from oasis_des.analysis.tables import Table
from oasis_des.policies.features import features

Unit = Literal["user", "text"]
WRITING_ACTIONS = ("create_post", "quote_post", "create_comment")


def stance_variance(stances: Sequence[float] | np.ndarray) -> float:
    x = np.asarray(stances, dtype=np.float64)
    return float(x.var()) if len(x) else math.nan


def extremity(stances: Sequence[float] | np.ndarray) -> float:
    x = np.asarray(stances, dtype=np.float64)
    return float(np.abs(x).mean()) if len(x) else math.nan


def bimodality_coefficient(stances: Sequence[float] | np.ndarray) -> float:
    """Sarle's bimodality coefficient (NaN below 4 values or with no spread)."""
    x = np.asarray(stances, dtype=np.float64)
    n = len(x)
    if n < 4:
        return math.nan
    d = x - x.mean()
    m2 = float(np.mean(d**2))
    if m2 <= 1e-15:
        return math.nan
    g1 = float(np.mean(d**3)) / m2**1.5
    g2 = float(np.mean(d**4)) / m2**2 - 3.0
    skew = g1 * math.sqrt(n * (n - 1)) / (n - 2)
    kurt = ((n + 1) * g2 + 6.0) * (n - 1) / ((n - 2) * (n - 3))
    return (skew**2 + 1.0) / (kurt + 3.0 * (n - 1) ** 2 / ((n - 2) * (n - 3)))


def written_stances(db: RunDB, *, actions: Sequence[str] = WRITING_ACTIONS) -> Table:
    """Every text written by an agent: when, who, how (action), and its stance."""
    unknown = set(actions) - set(WRITING_ACTIONS)
    if unknown:
        raise ValueError(
            f"Unknown writing actions {sorted(unknown)}; use some of {', '.join(WRITING_ACTIONS)}."
        )
    marks = ",".join("?" * len(actions))
    with connect(db) as conn:
        rows = conn.execute(
            "SELECT t.sim_time, t.user_id, t.action, CASE t.action WHEN 'quote_post' "
            "THEN p.quote_content ELSE json_extract(t.info, '$.content') END "
            "FROM trace t LEFT JOIN post p ON t.action = 'quote_post' "
            "AND p.post_id = json_extract(t.info, '$.new_post_id') "
            f"WHERE t.action IN ({marks}) ORDER BY t.sim_time, t.trace_id",
            tuple(actions),
        ).fetchall()
    return Table(
        ("sim_time", "user_id", "action", "stance"),
        [(float(t), int(u), a, features(text or "")[1]) for t, u, a, text in rows],
    )


def polarization_over_time(
    db: RunDB,
    *,
    bin_minutes: float = 60.0,
    unit: Unit = "user",
    actions: Sequence[str] = WRITING_ACTIONS,
) -> Table:
    """Per time bin: how many stances, their mean, variance, bimodality and extremity."""
    groups = _binned(written_stances(db, actions=actions), bin_minutes, unit)
    rows = [
        (start, len(x), float(np.mean(x)), stance_variance(x), bimodality_coefficient(x),
         extremity(x))
        for start, x in groups
    ]
    return Table(("start", "n", "mean", "variance", "bimodality", "extremity"), rows)


def stance_histogram(
    db: RunDB,
    *,
    bin_minutes: float = 60.0,
    edges: Sequence[float] = tuple(np.linspace(-1.0, 1.0, 12)),
    unit: Unit = "user",
    actions: Sequence[str] = WRITING_ACTIONS,
) -> Table:
    """The distribution of stances per time bin: one row per (bin start, stance interval).

    The default edges make 11 intervals, the middle one centred on 0, so that stances of
    opposite sign fall into mirrored intervals.
    """
    e = np.asarray(edges, dtype=np.float64)
    rows = []
    for start, x in _binned(written_stances(db, actions=actions), bin_minutes, unit):
        counts, _ = np.histogram(np.clip(x, e[0], e[-1]), bins=e)
        rows.extend((start, float(lo), float(hi), int(c)) for lo, hi, c in zip(e[:-1], e[1:], counts))
    return Table(("start", "stance_low", "stance_high", "count"), rows)


def mean_by_writer(users: np.ndarray, stances: np.ndarray) -> np.ndarray:
    """Each writer's mean stance (writers in ascending id order)."""
    if not len(users):
        return np.zeros(0)
    _, inverse = np.unique(users, return_inverse=True)
    return np.bincount(inverse, weights=stances) / np.bincount(inverse)


def _binned(texts: Table, bin_minutes: float, unit: Unit) -> list[tuple[float, np.ndarray]]:
    if bin_minutes <= 0:
        raise ValueError(f"bin_minutes must be > 0, got {bin_minutes}.")
    if unit not in ("user", "text"):
        raise ValueError(f"unit = {unit!r} is not allowed; use 'user' or 'text'.")
    if not len(texts):
        return []
    times = np.asarray(texts.column("sim_time"))
    users = np.asarray(texts.column("user_id"))
    stances = np.asarray(texts.column("stance"), dtype=np.float64)
    bins = np.floor(times / bin_minutes).astype(np.int64)
    out = []
    for b in np.unique(bins).tolist():
        mask = bins == b
        x = stances[mask]
        if unit == "user":
            x = mean_by_writer(users[mask], x)
        out.append((b * bin_minutes, x))
    return out
