"""Per-minute propagation series of a cascade and their error against a real cascade.

The series at minute m is the tree as it stood m minutes after the root post (shares at
offsets <= m count), as in OASIS's real-world files, whose minute 0 holds the root alone
(scale 1, depth 0, max breadth 0). The real series come in the format of OASIS's
`False_Business_0.real_propagation.json`:

    {"topic": ..., "scale": {"minute": [...], "value": [...]},
     "depth": {...}, "max_breadth": {...}}

Normalised RMSE: the RMSE over the minutes both series cover, divided by the real series'
maximum (`norm="max"`, the default) or its range (`norm="range"`) or mean (`norm="mean"`).
OASIS's published files hold raw values and do not fix the divisor; for these cumulative
series, which start at or near 0, max and range differ by at most the starting value.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from oasis_des.analysis.cascades import Cascade, max_breadth, structural_virality, tree_depths
from oasis_des.analysis.tables import Table

METRICS = ("scale", "depth", "max_breadth")
Norm = Literal["max", "range", "mean"]


@dataclass(frozen=True)
class Series:
    """Values of one measure at integer minutes (ascending)."""

    minutes: np.ndarray
    values: np.ndarray

    def at(self, minutes: np.ndarray) -> np.ndarray:
        """Values at the given minutes, carrying the last value forward (a step function)."""
        idx = np.searchsorted(self.minutes, minutes, side="right") - 1
        if np.any(idx < 0):
            raise ValueError(f"Series starts at minute {self.minutes[0]}, after {minutes.min()}.")
        return self.values[idx]


def propagation(cascade: Cascade, *, minutes: int | None = None) -> Table:
    """scale, depth, max_breadth and structural_virality at minutes 0..`minutes`.

    `minutes` defaults to the last join; pass the run's remaining horizon (duration minus
    the root's time) to compare with a longer real series: after its last join a cascade
    stays as it is until the run ends.
    """
    offsets = np.ceil(cascade.times - cascade.start - 1e-9).astype(np.int64)
    offsets[0] = 0
    last = int(offsets.max()) if minutes is None else int(minutes)
    if last < 0:
        raise ValueError(f"minutes must be >= 0, got {minutes}.")
    grid = np.arange(last + 1)
    joined = np.maximum(np.searchsorted(offsets, grid, side="right"), 1)
    depths = tree_depths(cascade.parents)
    by_size: dict[int, tuple[int, int, int, float]] = {}
    for k in np.unique(joined).tolist():
        d = depths[:k]
        by_size[k] = (k, int(d.max()), max_breadth(d), structural_virality(cascade.parents[:k]))
    return Table(
        ("minute", "scale", "depth", "max_breadth", "structural_virality"),
        [(int(m), *by_size[int(k)]) for m, k in zip(grid, joined)],
    )


def series(table: Table, metric: str) -> Series:
    """One measure of a `propagation` table as a Series."""
    return Series(np.asarray(table.column("minute")), np.asarray(table.column(metric), dtype=float))


def load_real_propagation(path: str | Path) -> dict[str, Series]:
    """The scale/depth/max_breadth series of an OASIS real-propagation JSON file."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"Real propagation file {path} does not exist.") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno}).") from None
    out: dict[str, Series] = {}
    for metric in METRICS:
        entry = raw.get(metric) if isinstance(raw, dict) else None
        if not isinstance(entry, dict) or "minute" not in entry or "value" not in entry:
            raise ValueError(f"{path}, field {metric}: expected {{\"minute\": [...], \"value\": [...]}}.")
        minutes, values = entry["minute"], entry["value"]
        if not isinstance(minutes, list) or not isinstance(values, list) or len(minutes) != len(values):
            raise ValueError(f"{path}, field {metric}: minute and value must be lists of one length.")
        if not minutes:
            raise ValueError(f"{path}, field {metric}: the series is empty.")
        try:
            m = np.asarray(minutes, dtype=np.int64)
            v = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{path}, field {metric}: minutes and values must be numbers.") from None
        if np.any(np.diff(m) <= 0):
            raise ValueError(f"{path}, field {metric}.minute: minutes must increase.")
        out[metric] = Series(m, v)
    return out


def normalised_rmse(simulated: Series, real: Series, *, norm: Norm = "max") -> float:
    """RMSE over the real series' minutes that the simulated one covers, over `norm` of real."""
    common = real.minutes[(real.minutes >= simulated.minutes[0]) & (real.minutes <= simulated.minutes[-1])]
    if len(common) == 0:
        raise ValueError("The simulated and real series share no minute.")
    truth = real.at(common)
    rmse = float(np.sqrt(np.mean((simulated.at(common) - truth) ** 2)))
    divisor = {"max": truth.max(), "range": np.ptp(truth), "mean": truth.mean()}.get(norm)
    if divisor is None:
        raise ValueError(f"norm = {norm!r} is not allowed; use 'max', 'range' or 'mean'.")
    return rmse / float(divisor) if divisor else math.nan


def compare_to_real(
    simulated: Table, real: Mapping[str, Series], *, norm: Norm = "max"
) -> Table:
    """Per measure: normalised RMSE, the minutes compared and the final values of both."""
    rows = []
    for metric in METRICS:
        sim, truth = series(simulated, metric), real[metric]
        covered = truth.minutes[truth.minutes <= sim.minutes[-1]]
        rows.append((
            metric, normalised_rmse(sim, truth, norm=norm), len(covered),
            float(sim.values[-1]), float(truth.at(covered[-1:])[0]),
        ))
    return Table(("metric", "nrmse", "minutes_compared", "simulated_final", "real_final"), rows)
