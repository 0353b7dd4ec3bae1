"""Synthetic follow graphs: preferential attachment with homophily and reciprocity.

Users arrive in a random order, in batches that grow geometrically. Each arriving user
follows `d` earlier users (`d` log-normal: most follow a few, some follow thousands),
each chosen with probability proportional to in-degree + `attractiveness` (Price's model
of preferential attachment: in-degrees follow a power law with exponent about
2 + attractiveness / mean out-degree). With probability `stance_homophily` the choice
is restricted to the follower's own stance camp and, within that, with probability
`interest_homophily` to the users of the same main topic (homophily by stance and by
interest). Finally each follow is returned with a probability that decreases with the
stance distance of the pair, calibrated so that about `reciprocity` of all follows are
mutual (Twitter measured about 22%).

Everything is numpy over edge arrays: batches rather than one user at a time is what makes
a million users and ten million follows take seconds; within a batch, new users attach to
the degrees at the batch's start (batches are small early on, when that matters most).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True, kw_only=True)
class GraphSettings:
    """Parameters of the follow graph (all dimensionless unless stated)."""

    # Mean number of users each user follows, reciprocal follows included.
    mean_following: float = 10.0
    # Log-sd of the number each user follows before reciprocity (heavy tail of followings).
    following_sigma: float = 1.0
    # Cap on the number of users one user follows before reciprocity.
    max_following: int = 5000
    # Target share of follows whose reverse follow also exists.
    reciprocity: float = 0.22
    # Probability that a follow target is drawn from the follower's own stance camp.
    stance_homophily: float = 0.6
    # Given a same-camp draw, probability it is restricted to the same main topic.
    interest_homophily: float = 0.5
    # Preferential attachment offset: a user is chosen with weight in-degree + this.
    attractiveness: float = 1.0
    # Each arrival batch is this many times larger than the previous one.
    growth: float = 1.25
    # Size of the first batch, whose users follow each other uniformly.
    seed_size: int = 64
    # Stance distance scale of reciprocity: P(return a follow) ~ exp(-|s_u - s_v| / this).
    reciprocity_stance_scale: float = 0.5

    def __post_init__(self) -> None:
        checks = (
            ("mean_following", self.mean_following >= 0),
            ("following_sigma", self.following_sigma >= 0),
            ("max_following", self.max_following >= 0),
            ("reciprocity", 0 <= self.reciprocity < 1),
            ("stance_homophily", 0 <= self.stance_homophily <= 1),
            ("interest_homophily", 0 <= self.interest_homophily <= 1),
            ("attractiveness", self.attractiveness > 0),
            ("growth", self.growth > 1),
            ("seed_size", self.seed_size >= 2),
            ("reciprocity_stance_scale", self.reciprocity_stance_scale > 0),
        )
        for name, ok in checks:
            if not ok:
                raise ValueError(f"GraphSettings.{name} is out of range: {getattr(self, name)!r}.")


_REDRAWS = 4
_TOLERANCE = 0.002


def follow_graph(
    rng: np.random.Generator,
    camp: np.ndarray,
    topic: np.ndarray,
    stance: np.ndarray,
    settings: GraphSettings = GraphSettings(),
    progress: Callable[[str], None] | None = None,
) -> np.ndarray:
    """(m, 2) int64 (follower, followee) pairs, sorted, without self-follows or duplicates.

    `camp` (small ints, e.g. against / undecided / for) and `topic` (main topic index)
    define the homophily groups; `stance` in [-1, 1] shapes reciprocity.
    """
    n = len(camp)
    if n < 2 or settings.mean_following <= 0:
        return np.zeros((0, 2), dtype=np.int64)
    s = settings
    p_back = s.reciprocity / (2.0 - s.reciprocity)
    out_degree = _out_degrees(rng, n, s.mean_following / (1.0 + p_back), s)
    base = _attach(
        rng, np.asarray(camp, np.int64), np.asarray(topic, np.int64), out_degree, s, progress
    )
    if progress is not None:
        progress(f"follow graph: {len(base):,} follows by attachment; adding reciprocal follows")
    return _reciprocate(rng, base, np.asarray(stance, np.float64), n, p_back, s)


def _out_degrees(rng: np.random.Generator, n: int, mean: float, s: GraphSettings) -> np.ndarray:
    """Log-normal numbers of follows with the given mean, randomly rounded to integers."""
    sigma = s.following_sigma
    raw = (
        rng.lognormal(np.log(mean) - sigma**2 / 2.0, sigma, size=n)
        if sigma > 0
        else np.full(n, mean)
    )
    degree = np.floor(raw + rng.random(n)).astype(np.int64)
    return np.minimum(degree, min(s.max_following, n - 1))


def _attach(
    rng: np.random.Generator,
    camp: np.ndarray,
    topic: np.ndarray,
    out_degree: np.ndarray,
    s: GraphSettings,
    progress: Callable[[str], None] | None,
) -> np.ndarray:
    n = len(camp)
    arrival = rng.permutation(n)
    rank = np.empty(n, dtype=np.int64)
    rank[arrival] = np.arange(n)
    # Users sorted by (camp, topic, arrival): camps and (camp, topic) groups are contiguous
    # ranges of positions, so a restricted draw is an inverse-CDF draw inside one range.
    order = np.lexsort((rank, topic, camp))
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    n_topics = int(topic.max()) + 1
    group = camp * n_topics + topic
    sorted_camp, sorted_group = camp[order], group[order]
    camp_lo = np.searchsorted(sorted_camp, camp, side="left")
    camp_hi = np.searchsorted(sorted_camp, camp, side="right")
    group_lo = np.searchsorted(sorted_group, group, side="left")
    group_hi = np.searchsorted(sorted_group, group, side="right")

    weight = np.zeros(n, dtype=np.float64)  # by position; 0 until a user has arrived
    rounds: list[np.ndarray] = []
    start = min(s.seed_size, n)
    weight[position[arrival[:start]]] = s.attractiveness  # the seed batch follows itself
    bounds = [0, start]
    while bounds[-1] < n:
        bounds.append(min(n, int(np.ceil(bounds[-1] * s.growth))))
    for k in range(len(bounds) - 1):
        new = arrival[bounds[k] : bounds[k + 1]]
        cdf = np.cumsum(weight)
        want = out_degree[new]
        keys = np.zeros(0, dtype=np.int64)
        deficit = want
        # A user drawing a target twice (or itself) loses a follow: redraw the lost ones.
        for _ in range(_REDRAWS):
            src = np.repeat(new, deficit)
            if not len(src):
                break
            dst = order[_draw(rng, cdf, src, s, camp_lo, camp_hi, group_lo, group_hi)]
            keys = unique_sorted(np.concatenate([keys, (src * n + dst)[src != dst]]))
            deficit = want - np.bincount(keys // n, minlength=n)[new]
            if deficit.sum() <= _TOLERANCE * want.sum():
                break
        weight += np.bincount(position[keys % n], minlength=n)
        rounds.append(keys)
        if k > 0:  # arrivals become choosable from the next batch on
            weight[position[new]] = s.attractiveness
        if progress is not None and (k + 1) % 10 == 0:
            progress(f"follow graph: {bounds[k + 1]:,}/{n:,} users attached")
    key = np.sort(np.concatenate(rounds))
    return np.stack([key // n, key % n], axis=1)


def _draw(
    rng: np.random.Generator,
    cdf: np.ndarray,
    src: np.ndarray,
    s: GraphSettings,
    camp_lo: np.ndarray,
    camp_hi: np.ndarray,
    group_lo: np.ndarray,
    group_hi: np.ndarray,
) -> np.ndarray:
    """Positions of targets for each source: weight-proportional inside its scope."""
    n = len(cdf)
    r = rng.random(len(src))
    # scope 0: anyone; 1: own camp; 2: own camp and main topic.
    scope = (r < s.stance_homophily).astype(np.int8)
    scope += (r < s.stance_homophily * s.interest_homophily).astype(np.int8)
    lo = np.where(scope == 2, group_lo[src], np.where(scope == 1, camp_lo[src], 0))
    hi = np.where(scope == 2, group_hi[src], np.where(scope == 1, camp_hi[src], n))
    below = np.where(lo > 0, cdf[lo - 1], 0.0)
    total = cdf[hi - 1] - below
    empty = total <= 0
    if empty.any():  # nobody of that group has arrived yet: draw from anyone
        lo[empty], hi[empty], below[empty] = 0, n, 0.0
        total[empty] = cdf[-1]
    x = below + rng.random(len(src)) * total
    # Searching sorted needles walks the CDF almost linearly: several times faster.
    sort = np.argsort(x)
    pos = np.empty(len(x), dtype=np.int64)
    pos[sort] = np.searchsorted(cdf, x[sort], side="right")
    np.clip(pos, lo, hi - 1, out=pos)
    return pos


def _reciprocate(
    rng: np.random.Generator,
    base: np.ndarray,
    stance: np.ndarray,
    n: int,
    p_back: float,
    s: GraphSettings,
) -> np.ndarray:
    """Add reverse follows, more likely between users of similar stance (mean prob. p_back)."""
    if not len(base) or p_back <= 0:
        return base
    affinity = np.exp(-np.abs(stance[base[:, 0]] - stance[base[:, 1]]) / s.reciprocity_stance_scale)
    prob = np.minimum(1.0, p_back * affinity / affinity.mean())
    back = base[rng.random(len(base)) < prob][:, ::-1]
    key = unique_sorted(np.concatenate([base[:, 0] * n + base[:, 1], back[:, 0] * n + back[:, 1]]))
    return np.stack([key // n, key % n], axis=1)


def unique_sorted(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct values (numpy 2's hash-based np.unique is many times slower here)."""
    keys = np.sort(keys)
    if len(keys) < 2:
        return keys
    keep = np.empty(len(keys), dtype=bool)
    keep[0] = True
    np.not_equal(keys[1:], keys[:-1], out=keep[1:])
    return keys[keep]
