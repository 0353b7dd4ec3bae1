"""When agents act: activation models as SimPy processes.

Stepped mode is OASIS's: a tick process activates each agent with the probability its
24-hour activity profile gives for the tick's hour. Continuous mode gives each agent its
own point process: homogeneous Poisson, hourly-profile-modulated Poisson (by thinning),
bursty renewal with Pareto inter-event times, or times read from a CSV file. Every draw is
a keyed uniform of (seed, purpose, agent, index), so adding an agent shifts nobody else.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Callable, Generator, Iterable

import numpy as np
import simpy

from oasis_des.rng import keyed_uniforms

Activate = Callable[[int], None]


class ActivityProfile:
    """Expected activations per hour of each agent at each hour of the day."""

    def __init__(self, activity: np.ndarray, start_hour: float) -> None:
        self.activity = np.asarray(activity, dtype=np.float64)
        self.start_hour = start_hour

    def hour(self, minutes: float) -> int:
        """Hour of the day (0-23) at a simulated time."""
        return int((self.start_hour + minutes / 60.0) % 24.0)

    def mean_rate(self) -> np.ndarray:
        """Each agent's mean activations per hour over the day."""
        return self.activity.mean(axis=1)


def tick_process(
    env: simpy.Environment,
    profile: ActivityProfile,
    *,
    tick: float,
    duration: float,
    seed: int,
    activate: Activate,
) -> Generator[simpy.Event, None, None]:
    """Stepped mode: each tick, agent a activates with probability 1 - exp(-rate_a(h) * tick/60)."""
    agents = np.arange(profile.activity.shape[0])
    step = 0
    while env.now < duration:
        rate = profile.activity[:, profile.hour(env.now)]
        p = 1.0 - np.exp(-rate * tick / 60.0)
        u = keyed_uniforms(seed, "activation", agents, step)
        for agent in agents[u < p]:
            activate(int(agent))
        step += 1
        yield env.timeout(tick)


def poisson_process(
    env: simpy.Environment,
    agent: int,
    rate_per_hour: float,
    *,
    duration: float,
    seed: int,
    activate: Activate,
) -> Generator[simpy.Event, None, None]:
    """Homogeneous Poisson activations of one agent."""
    if rate_per_hour <= 0:
        return
    i = 0
    while True:
        gap = -np.log(float(keyed_uniforms(seed, "activation", agent, i))) * 60.0 / rate_per_hour
        i += 1
        if env.now + gap >= duration:
            return
        yield env.timeout(gap)
        activate(agent)


def profile_poisson_process(
    env: simpy.Environment,
    agent: int,
    profile: ActivityProfile,
    *,
    duration: float,
    seed: int,
    activate: Activate,
) -> Generator[simpy.Event, None, None]:
    """Poisson activations whose rate follows the agent's hourly profile (Lewis-Shedler thinning)."""
    rates = profile.activity[agent]
    peak = float(rates.max())
    if peak <= 0:
        return
    i = 0
    t = env.now
    while True:
        u_gap, u_keep = keyed_uniforms(seed, "activation", agent, i, np.arange(2))
        i += 1
        t += -np.log(float(u_gap)) * 60.0 / peak
        if t >= duration:
            return
        if u_keep * peak < rates[profile.hour(t)]:
            yield env.timeout(t - env.now)
            activate(agent)


def bursty_process(
    env: simpy.Environment,
    agent: int,
    rate_per_hour: float,
    *,
    alpha: float,
    duration: float,
    seed: int,
    activate: Activate,
) -> Generator[simpy.Event, None, None]:
    """Renewal process with Pareto(alpha) gaps of mean 60/rate minutes: bursts and long silences."""
    if rate_per_hour <= 0:
        return
    scale = (alpha - 1.0) / alpha * 60.0 / rate_per_hour  # Pareto x_m giving that mean
    i = 0
    while True:
        u = float(keyed_uniforms(seed, "activation", agent, i))
        i += 1
        gap = scale * u ** (-1.0 / alpha)
        if env.now + gap >= duration:
            return
        yield env.timeout(gap)
        activate(agent)


def read_activation_csv(path: str | Path, n_agents: int) -> list[tuple[float, int]]:
    """(time, agent) pairs from a CSV of `agent_id,time` rows (header optional), sorted."""
    path = Path(path)
    out: list[tuple[float, int]] = []
    try:
        with open(path, newline="", encoding="utf-8") as f:
            for row_no, row in enumerate(csv.reader(f), start=1):
                if not row or (row_no == 1 and row[0].strip() == "agent_id"):
                    continue
                if len(row) < 2:
                    raise ValueError(f"{path}, row {row_no}: expected agent_id,time, got {row!r}.")
                try:
                    agent = int(row[0])
                except ValueError:
                    raise ValueError(
                        f"{path}, row {row_no}, field agent_id: expected an integer, got {row[0]!r}."
                    ) from None
                try:
                    time = float(row[1])
                except ValueError:
                    raise ValueError(
                        f"{path}, row {row_no}, field time: expected minutes, got {row[1]!r}."
                    ) from None
                if not 0 <= agent < n_agents:
                    raise ValueError(
                        f"{path}, row {row_no}, field agent_id: {agent} is not an agent "
                        f"(0..{n_agents - 1})."
                    )
                if time < 0 or time != time:
                    raise ValueError(f"{path}, row {row_no}, field time: {row[1]!r} is not >= 0.")
                out.append((time, agent))
    except FileNotFoundError:
        raise FileNotFoundError(f"Activation file {path} does not exist.") from None
    return sorted(out)


def replay_process(
    env: simpy.Environment, times: Iterable[tuple[float, int]], *, duration: float, activate: Activate
) -> Generator[simpy.Event, None, None]:
    """Activations at given times (from data)."""
    for time, agent in times:
        if time >= duration:
            return
        if time > env.now:
            yield env.timeout(time - env.now)
        activate(agent)
