"""Activation models produce the configured rates (statistical checks with fixed seeds)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from oasis_des.engine import schedule


def times_of(clock: schedule.AgentClock, agents: int, duration: float) -> dict[int, list[float]]:
    return {a: schedule.activation_times(clock, a, start=0.0, until=duration) for a in range(agents)}


def test_poisson_count_matches_rate() -> None:
    rate, duration, agents = 2.0, 60 * 200.0, 20  # 2/h over 200 h: 400 expected per agent
    times = times_of(schedule.PoissonClock(np.full(agents, rate), seed=1), agents, duration)
    counts = np.array([len(t) for t in times.values()])
    expected = rate * duration / 60
    assert abs(counts.mean() - expected) < 4 * np.sqrt(expected / agents)
    gaps = np.diff(times[0])
    assert 0.8 < gaps.std() / gaps.mean() < 1.2  # exponential: coefficient of variation 1


def test_profile_poisson_follows_the_hourly_profile() -> None:
    activity = np.zeros((10, 24))
    activity[:, 8:12] = 6.0  # active only 08:00-12:00
    activity[:, 20] = 3.0
    profile = schedule.ActivityProfile(activity, start_hour=0.0)
    duration = 60 * 24 * 30.0  # 30 days
    times = times_of(schedule.ProfileClock(profile, seed=2, until=duration), 10, duration)
    hours = np.array([int(t / 60) % 24 for ts in times.values() for t in ts])
    per_hour = np.bincount(hours, minlength=24)
    assert set(np.flatnonzero(per_hour)) <= {8, 9, 10, 11, 20}
    expected_morning = 6.0 * 4 * 30 * 10
    assert abs(per_hour[8:12].sum() - expected_morning) < 4 * np.sqrt(expected_morning)
    assert abs(per_hour[20] - 3.0 * 30 * 10) < 4 * np.sqrt(900)


def test_bursty_has_the_mean_rate_but_heavy_tailed_gaps() -> None:
    rate, duration = 1.0, 60 * 2000.0
    clock = schedule.BurstyClock(np.array([rate]), alpha=1.5, seed=3)
    times = schedule.activation_times(clock, 0, start=0.0, until=duration)
    gaps = np.diff(times)
    # Pareto(1.5) has a finite mean (60 min here) but infinite variance: bursts and long waits.
    assert 0.6 * 60 < gaps.mean() < 1.6 * 60
    assert gaps.std() / gaps.mean() > 1.5
    assert np.median(gaps) < gaps.mean()


def test_clocks_continue_from_their_state() -> None:
    """(time, draw index) is a clock's whole state: resuming from it gives the same times."""
    clock = schedule.PoissonClock(np.array([3.0]), seed=7)
    whole = schedule.activation_times(clock, 0, start=0.0, until=600.0)
    state = clock.next(0, 0.0, 0)
    for _ in range(4):
        assert state is not None
        state = clock.next(0, state[0], state[1])
    assert state is not None and state[0] == whole[4]


@pytest.mark.parametrize(("rate", "p"), [(4.0, 0.2), (12.0, 0.6), (20.0, 1.0), (45.0, 1.0)])
def test_stepped_ticks_activate_with_profile_probability(rate: float, p: float) -> None:
    """rate x tick / 60 per 3-minute tick, at most 1: OASIS's per-step probability p of a
    persona whose rate is 20 p, and `rate` activations an hour on average."""
    agents, tick = 2000, 3.0
    activity = np.full((agents, 24), rate)
    model = schedule.TickModel(schedule.ActivityProfile(activity, start_hour=0.0), tick=tick, seed=4)
    fired = sum(len(model.activated(step)) for step in range(100))
    assert abs(fired / (agents * 100) - p) < 0.01


def test_stepped_uses_the_hour_of_the_day() -> None:
    activity = np.zeros((50, 24))
    activity[:, 10] = 60.0  # only at 10:00, almost surely
    profile = schedule.ActivityProfile(activity, start_hour=9.5)  # minute 0 is 09:30
    model = schedule.TickModel(profile, tick=3.0, seed=5)
    times = [step * 3.0 for step in range(60) for _ in model.activated(step)]
    assert times and min(times) >= 30.0 and max(times) < 90.0


def test_csv_rows_are_read_sorted(tmp_path: Path) -> None:
    f = tmp_path / "times.csv"
    f.write_text("agent_id,time\n1,5.5\n0,2\n1,700\n")
    assert schedule.read_activation_csv(f, 2) == [(2.0, 0), (5.5, 1), (700.0, 1)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("0,x\n", r"row 1, field time: expected minutes, got 'x'"),
        ("zero,1\n", r"row 1, field agent_id: expected an integer"),
        ("agent_id,time\n5,1\n", r"row 2, field agent_id: 5 is not an agent \(0..1\)"),
        ("0,-1\n", r"row 1, field time"),
        ("0\n", r"row 1: expected agent_id,time"),
    ],
)
def test_csv_errors_name_row_and_field(tmp_path: Path, content: str, message: str) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(content)
    with pytest.raises(ValueError, match=message):
        schedule.read_activation_csv(f, 2)
