"""OASIS's `reddit` recommender: the posts with the highest Reddit hot score.

hot = sign(s) * log10(max(|s|, 1)) + (t - 1134028003) / 45000, with s = likes - dislikes
and t the post's creation time in Unix seconds (here: from simulated time, never the wall
clock). Every user gets the same top-k list, so it is computed once per simulated instant
and content version, not once per refresh.

The ranking is exact but scans only recent posts: a user rates a post at most once, so
|s| <= number of users N and no post older than t can score above log10(N) + (t - epoch)/45000.
Posts are read newest first (by the `created_at` index) until that bound falls below the
k-th best score found.
"""

from __future__ import annotations

import heapq
import math
from typing import TYPE_CHECKING

import numpy as np

from oasis_des.rng import KeyedStream

if TYPE_CHECKING:
    from oasis_des.platform.platform import Platform

REDDIT_EPOCH = 1134028003.0
HOT_SECONDS = 45000.0
CHUNK = 4096


def hot_scores(score: np.ndarray, epoch_seconds: np.ndarray) -> np.ndarray:
    """Reddit's hot score of each post, rounded to 7 decimals as Reddit does."""
    order = np.log10(np.maximum(np.abs(score), 1))
    return np.round(np.sign(score) * order + (epoch_seconds - REDDIT_EPOCH) / HOT_SECONDS, 7)


class HotRecommender:
    """The top-k posts by hot score; ties go to the older post (lower id)."""

    def __init__(self, platform: Platform) -> None:
        self._platform = platform
        self._key: tuple[float, int, int] | None = None
        self._ranked: list[int] = []

    def recommend(self, user_id: int, now: float, k: int, rng: KeyedStream) -> list[int]:
        key = (now, self._platform.content_version, k)
        if key != self._key:
            self._ranked = self._rank(k)
            self._key = key
        return self._ranked

    def _epoch_sql(self) -> tuple[str, tuple[float, ...]]:
        """SQL for a post's creation time in Unix seconds, from what `created_at` holds."""
        clock = self._platform.clock
        if clock.kind == "reddit":
            return "(julianday(created_at) - 2440587.5) * 86400.0", ()
        return "? + created_at * ?", (clock.epoch_seconds(0.0), clock.tick * 60.0)

    def _rank(self, k: int) -> list[int]:
        if k <= 0:
            return []
        conn = self._platform.connection
        max_order = math.log10(max(1, self._platform.user_count))
        epoch, params = self._epoch_sql()
        cursor = conn.execute(
            f"SELECT post_id, num_likes - num_dislikes, {epoch} FROM post "
            "ORDER BY created_at DESC, post_id DESC",
            params,
        )
        best: list[tuple[float, int]] = []  # min-heap of (hot, -post_id): the k best so far
        while rows := cursor.fetchmany(CHUNK):
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            score = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
            seconds = np.fromiter((r[2] for r in rows), dtype=np.float64, count=len(rows))
            for h, pid in zip(hot_scores(score, seconds).tolist(), ids.tolist()):
                item = (h, -pid)
                if len(best) < k:
                    heapq.heappush(best, item)
                elif item > best[0]:
                    heapq.heapreplace(best, item)
            bound = max_order + (float(seconds[-1]) - REDDIT_EPOCH) / HOT_SECONDS
            if len(best) == k and best[0][0] > bound:
                break  # no older post can enter the top k
        return [-pid for _, pid in sorted(best, reverse=True)]
