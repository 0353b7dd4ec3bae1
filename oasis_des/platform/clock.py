"""Simulated time as the tables store it.

The simulation's only clock is `now`, simulated minutes since the run's start. Twitter
tables store the integer tick in `created_at` (as OASIS does); Reddit tables store a
datetime string counted from the run's start datetime. The k-factor turns real seconds
(think times, latencies) into simulated minutes, as OASIS's sandbox clock does.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
DEFAULT_START = datetime(2024, 1, 1, 0, 0, 0)

Kind = Literal["twitter", "reddit"]


class Clock:
    """Maps simulated minutes to `created_at` values and back."""

    def __init__(
        self,
        kind: Kind,
        *,
        tick: float = 1.0,
        start: datetime | str = DEFAULT_START,
        k: float = 60.0,
    ) -> None:
        if tick <= 0:
            raise ValueError(f"tick must be > 0 simulated minutes, got {tick!r}.")
        if k <= 0:
            raise ValueError(f"k (time magnification) must be > 0, got {k!r}.")
        self.kind: Kind = kind
        self.tick = float(tick)
        self.k = float(k)
        self.start = datetime.fromisoformat(start) if isinstance(start, str) else start
        self._now = 0.0
        self._stamped_at = -1.0
        self._stamp = ""

    @property
    def now(self) -> float:
        """Simulated minutes since the run's start."""
        return self._now

    @now.setter
    def now(self, minutes: float) -> None:
        minutes = float(minutes)
        if minutes < 0 or minutes != minutes:
            raise ValueError(f"Simulated time must be a non-negative number, got {minutes!r}.")
        self._now = minutes

    def stamp(self, minutes: float | None = None) -> int | str:
        """The `created_at` value for a simulated time (default: now)."""
        m = self._now if minutes is None else minutes
        if self.kind == "twitter":
            return int(m // self.tick)
        if m != self._stamped_at:  # formatting a datetime costs more than the rest of an action
            self._stamped_at = m
            self._stamp = (self.start + timedelta(minutes=m)).strftime(TIMESTAMP_FORMAT)
        return self._stamp

    def minutes_of(self, created_at: int | str) -> float:
        """Inverse of `stamp` (to the tick's resolution in Twitter mode)."""
        if self.kind == "twitter":
            return float(created_at) * self.tick
        delta = datetime.strptime(str(created_at), TIMESTAMP_FORMAT) - self.start
        return delta.total_seconds() / 60.0

    def epoch_seconds(self, minutes: float) -> float:
        """Unix seconds of a simulated time, for formulas written against real dates."""
        return (self.start - datetime(1970, 1, 1)).total_seconds() + minutes * 60.0

    def real_to_sim(self, seconds: float) -> float:
        """Simulated minutes that a real duration of `seconds` takes (k = 60: 1 s -> 1 min)."""
        return self.k * seconds / 60.0
