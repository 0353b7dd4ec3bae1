"""OASIS's `reddit` recommender: the posts with the highest Reddit hot score.

hot = sign(s) * log10(max(|s|, 1)) + (t - 1134028003) / 45000, with s = likes - dislikes
and t the post's creation time in Unix seconds (here: from simulated time, never the wall
clock). Every user gets the same top-k list, so it is computed once per simulated instant
and content version, not once per refresh.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from oasis_des.rng import KeyedStream

if TYPE_CHECKING:
    from oasis_des.platform.platform import Platform

REDDIT_EPOCH = 1134028003.0
HOT_SECONDS = 45000.0


def hot_scores(score: np.ndarray, epoch_seconds: np.ndarray) -> np.ndarray:
    """Reddit's hot score of each post, rounded to 7 decimals as Reddit does."""
    order = np.log10(np.maximum(np.abs(score), 1))
    return np.round(np.sign(score) * order + (epoch_seconds - REDDIT_EPOCH) / HOT_SECONDS, 7)


class HotRecommender:
    """The top-k posts by hot score; ties go to the older post (lower id)."""

    def __init__(self, platform: "Platform") -> None:
        self._platform = platform
        self._key: tuple[float, int, int] | None = None
        self._ranked: list[int] = []

    def recommend(self, user_id: int, now: float, k: int, rng: KeyedStream) -> list[int]:
        key = (now, self._platform.content_version, k)
        if key != self._key:
            self._ranked = self._rank(k)
            self._key = key
        return self._ranked

    def _rank(self, k: int) -> list[int]:
        clock = self._platform.clock
        rows = self._platform.connection.execute(
            "SELECT post_id, num_likes - num_dislikes, created_at FROM post"
        ).fetchall()
        if not rows:
            return []
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        score = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
        seconds = np.fromiter(
            (clock.epoch_seconds(clock.minutes_of(r[2])) for r in rows),
            dtype=np.float64,
            count=len(rows),
        )
        hot = hot_scores(score, seconds)
        order = np.lexsort((ids, -hot))[:k]
        return [int(i) for i in ids[order]]
