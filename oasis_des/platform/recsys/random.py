"""OASIS's `random` recommender: a uniform sample of all posts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from oasis_des.rng import KeyedStream

if TYPE_CHECKING:
    from oasis_des.platform.platform import Platform


class RandomRecommender:
    """k distinct posts drawn uniformly; O(k), since post ids are 1..max and never deleted."""

    def __init__(self, platform: Platform) -> None:
        self._conn = platform.connection

    def recommend(self, user_id: int, now: float, k: int, rng: KeyedStream) -> list[int]:
        n = self._conn.execute("SELECT MAX(post_id) FROM post").fetchone()[0] or 0
        return sample_ids(n, k, rng)


def sample_ids(n: int, k: int, rng: KeyedStream) -> list[int]:
    """min(k, n) distinct ids from 1..n, by Floyd's algorithm (no O(n) permutation)."""
    if k >= n:
        return list(range(1, n + 1))
    chosen: dict[int, None] = {}
    for j in range(n - k + 1, n + 1):
        t = rng.integers(1, j + 1)
        chosen[j if t in chosen else t] = None
    return list(chosen)
