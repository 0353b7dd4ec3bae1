"""24-hour activity profiles: expected activations per simulated hour, per hour of day.

Three sources:
- OASIS's `activity_level_frequency` (24 hourly post counts per user). OASIS turns them
  into `active_threshold`, the probability of acting in each 3-minute step of that hour:
  p = f / max(f over the whole file), plus 0.1 where p < 0.6, rounded to 2 decimals.
  We keep that rule so runs match OASIS and express it as a rate: p activations per step
  times 60 / 3 steps per hour. A stepped run with OASIS's 3-minute tick then activates
  each agent in each tick with OASIS's probability (rate * tick / 60 = p).
- No activity column: a flat rate (OASIS activates such agents regardless of the hour).
- Synthetic users: a heavy-tailed (log-normal) daily rate spread over a diurnal curve
  shifted by each user's chronotype.
"""

from __future__ import annotations

import numpy as np

HOURS = 24
OASIS_STEP_MINUTES = 3.0
DEFAULT_RATE_PER_HOUR = 1.0
# One activation per simulated second: higher rates only stall continuous-time runs
# (gaps shorter than the float resolution of the clock).
MAX_RATE_PER_HOUR = 3600.0

# Relative activity by hour of day (mean 1): quiet nights, a lunchtime bump and an evening
# peak, the shape reported for Twitter posting across time zones.
DIURNAL = np.array(
    [
        0.55,
        0.35,
        0.22,
        0.15,
        0.12,
        0.15,
        0.3,
        0.6,
        0.9,
        1.1,
        1.2,
        1.3,
        1.4,
        1.35,
        1.3,
        1.3,
        1.35,
        1.45,
        1.55,
        1.7,
        1.8,
        1.75,
        1.45,
        0.95,
    ]
)
DIURNAL = DIURNAL / DIURNAL.mean()


def oasis_active_threshold(frequency: np.ndarray) -> np.ndarray:
    """OASIS's per-step activation probabilities from hourly counts, shape (n, 24)."""
    freq = np.asarray(frequency, dtype=np.float64)
    top = float(freq.max()) if freq.size else 0.0
    p = freq / top if top > 0 else np.zeros_like(freq)
    p = np.where(p < 0.6, p + 0.1, p)
    return np.round(p, 2)


def activity_from_frequency(
    frequency: np.ndarray, step_minutes: float = OASIS_STEP_MINUTES
) -> np.ndarray:
    """Expected activations per hour that reproduce OASIS's activation in `step_minutes` steps."""
    return oasis_active_threshold(frequency) * (60.0 / step_minutes)


def flat_activity(n: int, per_hour: float = DEFAULT_RATE_PER_HOUR) -> np.ndarray:
    """Every hour the same rate (files that say nothing about when users are active)."""
    return np.full((n, HOURS), float(per_hour), dtype=np.float64)


def synthetic_activity(
    rng: np.random.Generator,
    n: int,
    *,
    mean_per_day: float,
    sigma: float,
    max_per_hour: float,
    chronotype_hours: float,
) -> np.ndarray:
    """Heavy-tailed per-user daily rates times a diurnal curve shifted per user.

    The daily rate is log-normal with log-sd `sigma` and mean `mean_per_day` (so a few
    users act orders of magnitude more than the median, as on real platforms); each user's
    curve is DIURNAL rolled by a rounded normal shift of sd `chronotype_hours`.
    """
    mu = np.log(mean_per_day) - sigma**2 / 2.0
    daily = rng.lognormal(mu, sigma, size=n)
    shift = np.rint(rng.normal(0.0, chronotype_hours, size=n)).astype(np.int64)
    hours = (np.arange(HOURS)[None, :] - shift[:, None]) % HOURS
    out = DIURNAL[hours]
    out *= (daily / HOURS)[:, None]
    np.minimum(out, max_per_hour, out=out)
    return out
