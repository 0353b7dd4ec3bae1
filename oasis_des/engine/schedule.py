"""When agents act: activation models.

Stepped mode is OASIS's: each tick activates each agent with the probability its 24-hour
activity profile gives for the tick's hour. Continuous mode gives each agent its own point
process: homogeneous Poisson, hourly-profile-modulated Poisson (by thinning), bursty
renewal with Pareto inter-event times, or times read from a CSV file. Every draw is a keyed
uniform of (seed, purpose, agent, index), so adding an agent shifts nobody else, and a
model's whole state is a step number or, per agent, (next time, draw index): the engine
keeps those on its agenda (agenda.py) and a checkpoint saves them.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Protocol

import numpy as np

from oasis_des.platform.actions import shorten
from oasis_des.rng import KeyedStream, keyed_states, keyed_uniforms, uniforms_after


class ActivityProfile:
    """Expected activations per hour of each agent at each hour of the day."""

    def __init__(self, activity: np.ndarray, start_hour: float) -> None:
        self.activity = np.asarray(activity, dtype=np.float64)
        self.start_hour = start_hour

    def hour(self, minutes: float) -> int:
        """Hour of the day (0-23) at a simulated time."""
        return int((self.start_hour + minutes / 60.0) % 24.0)

    def mean_rate(self) -> np.ndarray:
        """Each agent's mean activations per hour over the day (a flat profile's exact
        value: a configured rate is not moved by rounding)."""
        a = self.activity
        return np.where(a.min(axis=1) == a.max(axis=1), a[:, 0], a.mean(axis=1))


def tick_probability(rate: np.ndarray | float, tick: float) -> np.ndarray:
    """The probability of activating in one tick of `tick` minutes at `rate` per hour:
    rate x tick / 60, at most 1. An agent then acts `rate` times an hour on average, as in
    continuous mode (until a tick cannot hold more), and OASIS's per-step probability p is
    the rate 20 p at its 3-minute steps."""
    return np.minimum(1.0, np.asarray(rate, dtype=np.float64) * tick / 60.0)


class TickModel:
    """Stepped mode: at step n, agent a activates with probability
    `tick_probability(rate_a(h), tick)`, h being the hour of the step's time."""

    def __init__(self, profile: ActivityProfile, *, tick: float, seed: int) -> None:
        self.profile, self.tick, self.seed = profile, tick, seed
        self._agents = np.arange(profile.activity.shape[0])
        # Each tick draws keyed_uniforms(seed, "activation", agent, step) for every agent:
        # the agents' part of the hash, and the probabilities of the hour, are kept.
        self._states = keyed_states(seed, "activation", self._agents)
        self._hour: int | None = None
        self._p = np.zeros(0)
        self._last: tuple[int, np.ndarray] | None = None  # the step asked last, its agents

    def activated(self, step: int) -> np.ndarray:
        """The agents activated at step `step` (time step * tick), in id order (read-only;
        a step is asked twice: when the one before begins, to rank its feeds ahead, and
        when it begins)."""
        if self._last is not None and self._last[0] == step:
            return self._last[1]
        hour = self.profile.hour(step * self.tick)
        if hour != self._hour:
            rate = self.profile.activity[:, hour]
            self._hour, self._p = hour, tick_probability(rate, self.tick)
        agents = self._agents[uniforms_after(self._states, step) < self._p]
        agents.flags.writeable = False
        self._last = (step, agents)
        return agents


class AgentClock(Protocol):
    """Continuous mode: one agent's activation times, one at a time.

    `next(agent, after, i)` is the first activation after minute `after` using draws i, i+1,
    ... of the agent's keyed stream: (time, next draw index), or None if the agent never
    activates again. The pair (time, i) is all the state an agent's clock has.
    """

    def next(self, agent: int, after: float, i: int) -> tuple[float, int] | None: ...


class PoissonClock:
    """Homogeneous Poisson activations at `rates[agent]` per hour."""

    def __init__(self, rates: np.ndarray, *, seed: int) -> None:
        self.rates, self.seed = np.asarray(rates, dtype=np.float64), seed

    def next(self, agent: int, after: float, i: int) -> tuple[float, int] | None:
        rate = float(self.rates[agent])
        if rate <= 0:
            return None
        u = float(keyed_uniforms(self.seed, "activation", agent, i))
        return after - np.log(u) * 60.0 / rate, i + 1


class ProfileClock:
    """Poisson activations whose rate follows the agent's hourly profile (Lewis-Shedler
    thinning: candidates at the agent's peak rate, each kept with probability rate/peak)."""

    def __init__(self, profile: ActivityProfile, *, seed: int, until: float) -> None:
        self.profile, self.seed, self.until = profile, seed, until
        self._peaks = profile.activity.max(axis=1)

    def next(self, agent: int, after: float, i: int) -> tuple[float, int] | None:
        rates, peak = self.profile.activity[agent], float(self._peaks[agent])
        if peak <= 0:
            return None
        t = after
        while t < self.until:
            draws = KeyedStream(self.seed, "activation", int(agent), i)  # no numpy calls
            u_gap, u_keep = draws.at(0), draws.at(1)
            i += 1
            t -= np.log(float(u_gap)) * 60.0 / peak
            if u_keep * peak < rates[self.profile.hour(t)]:
                return t, i
        return None


class BurstyClock:
    """Renewal process with Pareto(alpha) gaps of mean 60/rate minutes: bursts and long silences."""

    def __init__(self, rates: np.ndarray, *, alpha: float, seed: int) -> None:
        self.rates, self.alpha, self.seed = np.asarray(rates, dtype=np.float64), alpha, seed

    def next(self, agent: int, after: float, i: int) -> tuple[float, int] | None:
        rate = float(self.rates[agent])
        if rate <= 0:
            return None
        scale = (self.alpha - 1.0) / self.alpha * 60.0 / rate  # Pareto x_m giving that mean
        u = float(keyed_uniforms(self.seed, "activation", agent, i))
        return after + scale * u ** (-1.0 / self.alpha), i + 1


def activation_times(clock: AgentClock, agent: int, *, start: float, until: float) -> list[float]:
    """Every activation time of `agent` in [start, until) (for checks and estimates)."""
    out: list[float] = []
    state = clock.next(agent, start, 0)
    while state is not None and state[0] < until:
        out.append(state[0])
        state = clock.next(agent, state[0], state[1])
    return out


def read_activation_csv(path: str | Path, n_agents: int) -> list[tuple[float, int]]:
    """(time, agent) pairs from a CSV of `agent_id,time` rows (header optional), sorted."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"Activation file {path} does not exist.") from None
    except IsADirectoryError:
        raise ValueError(f"{path}: an activation file, not a directory.") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ValueError(f"{path}, line {line}: not UTF-8 text (save the file as UTF-8).") from None
    out: list[tuple[float, int]] = []
    row_no = 0
    try:
        for row_no, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            if not row or (row_no == 1 and row[0].strip() == "agent_id"):
                continue
            if len(row) < 2:
                raise ValueError(
                    f"{path}, row {row_no}: expected agent_id,time, got {shorten(row)}."
                )
            try:
                agent = int(row[0])
            except ValueError:
                raise ValueError(
                    f"{path}, row {row_no}, field agent_id: expected an integer, "
                    f"got {shorten(row[0])}."
                ) from None
            try:
                time = float(row[1])
            except ValueError:
                raise ValueError(
                    f"{path}, row {row_no}, field time: expected minutes, got {shorten(row[1])}."
                ) from None
            if not 0 <= agent < n_agents:
                raise ValueError(
                    f"{path}, row {row_no}, field agent_id: {agent} is not an agent "
                    f"(0..{n_agents - 1})."
                )
            if not 0 <= time < math.inf:  # NaN fails too
                raise ValueError(
                    f"{path}, row {row_no}, field time: {shorten(row[1])} is not a finite "
                    "time >= 0."
                )
            out.append((time, agent))
    except csv.Error as exc:
        raise ValueError(f"{path}, row {row_no + 1}: not well-formed CSV ({exc}).") from None
    return sorted(out)
