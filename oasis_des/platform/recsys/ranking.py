"""Top-k interest ranking over the candidate window: similarity x recency (x popularity).

score(post) = (max(cos(query, post), 0) + SIM_FLOOR) x recency(age) [x fan(author)]

The similarity floor keeps posts that share nothing with the user ordered by recency and
popularity instead of tied at zero; ties go to the newer post. The window is scanned from
the newest post back, in chunks, and the scan stops as soon as no older post can enter the
top k: similarity is at most 1, recency falls with age and popularity is bounded by the
most followed author, so posts older than the age at which that bound drops below the k-th
best score are skipped. The cost follows the recent posts that matter, not the window's
length (which only bounds the worst case).

The scan reads the coarse (folded, 64-column) vectors, since memory bandwidth is what a
scan costs, and the best k + RESCORE candidates are re-ranked with the full vectors.
"""

from __future__ import annotations

import math

import numpy as np

from oasis_des.platform.recsys.index import FeedIndex, fold

SIM_FLOOR = 1e-3
# OASIS's recency factor ln((271.8 - age) / 100): 1 for a new post, 0 at 171.8 ticks,
# undefined past 271.8. Here it is followed up to KNEE ticks, then continued by the
# exponential with the same value and slope, so it stays positive and decreasing.
HORIZON, SCALE, KNEE = 271.8, 100.0, 150.0
_AT_KNEE = math.log((HORIZON - KNEE) / SCALE)
_TAIL_RATE = 1.0 / ((HORIZON - KNEE) * _AT_KNEE)
# The scan's first chunk of rows (the newest posts), then chunks GROWTH times larger.
FIRST_CHUNK, GROWTH = 2048, 4
BLOCK = 2048  # rows per matrix-vector product
# Windows up to this many posts are ranked with the full vectors only (exact, and no
# slower than the two stages at that size).
EXACT_ROWS = 4096
# Larger ones: candidates taken from the coarse scan beyond k, re-ranked with the full
# vectors (measured on templated posts: 94% of them in the exact top 5, 99.4% of its mean
# score; with 64: 77%, 97%).
RESCORE = 256


def recency(age_ticks: np.ndarray | float) -> np.ndarray:
    """The recency factor of posts `age_ticks` old (decreasing, positive)."""
    age = np.asarray(age_ticks, dtype=np.float64)
    head = np.log((HORIZON - np.minimum(age, KNEE)) / SCALE)
    return np.where(age <= KNEE, head, _AT_KNEE * np.exp(-(age - KNEE) * _TAIL_RATE))


def recency_age(value: float) -> float:
    """The age at which `recency` falls to `value` (inverse of `recency`)."""
    if value <= 0.0:
        return math.inf
    if value >= _AT_KNEE:
        return HORIZON - SCALE * math.exp(value)
    return KNEE - math.log(value / _AT_KNEE) / _TAIL_RATE


class WindowRanker:
    """Ranks the window's posts for a query vector; caches the per-post weights
    (recency x popularity) until the tick, the window or a popularity changes."""

    def __init__(self, index: FeedIndex, *, popularity: bool) -> None:
        self._index = index
        self._popularity = popularity
        self._key: tuple[float, int, int] | None = None
        self._weights = np.zeros(0, dtype=np.float32)
        self._lo = 1  # post id of weights[0]

    def _window_weights(self, now_tick: float, lo: int, last: int) -> np.ndarray:
        """recency x popularity of posts lo..last (extended as posts arrive)."""
        index = self._index
        fan = index.fan_scores() if self._popularity else None
        key = (now_tick, index.fan_version if fan is not None else 0, index.epoch)
        if key != self._key or lo < self._lo:
            self._key, self._lo = key, lo
            self._weights = np.zeros(0, dtype=np.float32)
        elif lo - self._lo > len(self._weights) // 2:  # the window moved on: drop the old part
            self._weights = self._weights[lo - self._lo :].copy()
            self._lo = lo
        have = self._lo + len(self._weights)
        if have <= last:  # posts created since the last call
            ids = np.arange(have, last + 1)
            w = recency(now_tick - index.created[ids])
            if fan is not None:
                w = w * fan[np.maximum(index.author[ids], 0)]
            self._weights = np.concatenate([self._weights, w.astype(np.float32)])
        return self._weights[lo - self._lo : last - self._lo + 1]

    def top(
        self, query: np.ndarray, k: int, now: float, excluded: np.ndarray,
        coarse_query: np.ndarray | None = None,
    ) -> list[int]:
        """The ids of the k best window posts for `query`, best first, never `excluded`.

        Windows of up to EXACT_ROWS posts are ranked exactly. In larger ones candidates
        come from the coarse vectors (k + RESCORE of them) and their exact scores, from
        the full vectors, give the order. `coarse_query` is fold(query), if known.
        """
        index = self._index
        full, coarse, lo = index.window_vectors()
        n = len(full)
        if n == 0 or k <= 0:
            return []
        now_tick = index.now_tick(now)
        weights = self._window_weights(now_tick, lo, lo + n - 1)
        ex = np.asarray(excluded, dtype=np.int64)
        if index.missing:
            ex = np.concatenate([ex, np.asarray(index.missing, dtype=np.int64)])
        ex = ex[(ex >= lo) & (ex < lo + n)] - lo
        if coarse is full or n <= EXACT_ROWS:
            return (self._scan(full, query, k, k, weights, ex, lo, now_tick) + lo).tolist()
        if coarse_query is None:
            coarse_query = fold(query[None, :])[0]
        rows = self._scan(coarse, coarse_query, k + RESCORE, k, weights, ex, lo, now_tick)
        if len(rows) > 1:
            exact = np.maximum(full[rows] @ query, 0.0) + SIM_FLOOR
            exact *= weights[rows]
            rows = rows[np.lexsort((-rows, -exact))[:k]]
        return (rows + lo).tolist()

    def _scan(
        self, vectors: np.ndarray, query: np.ndarray, keep: int, k: int, weights: np.ndarray,
        ex: np.ndarray, lo: int, now_tick: float,
    ) -> np.ndarray:
        """Rows of the `keep` best scores, best first, scanning chunks from the newest back
        until no older post could enter the top `k`."""
        index = self._index
        n = len(vectors)
        fan_max = index.fan_max if self._popularity else 1.0
        ceiling = (1.0 + 1e-4 + SIM_FLOOR) * fan_max  # best possible similarity x popularity
        has_query = bool(query.any())
        newest = index.newest[lo : lo + n]  # non-decreasing: a post's time or earlier ones'
        best_s = np.zeros(0, dtype=np.float32)
        best_r = np.zeros(0, dtype=np.int64)
        end, size, floor = n, FIRST_CHUNK, 0
        while end > floor:
            if len(best_s) >= k:
                # Posts older than this age cannot beat (or tie with a newer) k-th best.
                oldest = recency_age(float(best_s[k - 1]) / ceiling * (1.0 - 1e-6))
                floor = int(np.searchsorted(newest, now_tick - oldest, side="left"))
                if end <= floor:
                    break
            start = max(floor, end - size)
            if not has_query:
                s = np.zeros(end - start, dtype=np.float32)
            else:
                s = _similarities(vectors[start:end], query)
            np.maximum(s, 0.0, out=s)
            s += SIM_FLOOR
            s *= weights[start:end]
            inside = ex[(ex >= start) & (ex < end)]
            if len(inside):
                s[inside - start] = -np.inf
            if len(best_s) >= keep:  # only rows beating the keep-th best (older: ties lose)
                rows = np.flatnonzero(s > best_s[keep - 1])
                if len(rows) > keep:
                    rows = rows[_best_rows(s[rows], keep)]
            else:
                rows = _best_rows(s, keep)
            scores = s[rows]
            if len(inside):
                rows, scores = rows[scores > -np.inf], scores[scores > -np.inf]
            if len(best_s):
                scores = np.concatenate([best_s, scores])
                rows = np.concatenate([best_r, rows + start])
            else:
                rows = rows + start
            order = np.lexsort((-rows, -scores))[:keep]
            best_s, best_r = scores[order], rows[order]
            end, size = start, GROWTH * size
        return best_r


def _similarities(vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
    """vectors @ query, in blocks that stay in cache. (One product over the whole chunk
    lets OpenBLAS split it across threads, which took 10-20 ms instead of 1 when another
    process kept a core busy.)"""
    out = np.empty(len(vectors), dtype=np.float32)
    for b in range(0, len(vectors), BLOCK):
        np.dot(vectors[b : b + BLOCK], query, out=out[b : b + BLOCK])
    return out


def _best_rows(s: np.ndarray, k: int) -> np.ndarray:
    """Rows of the k largest values of `s`; among equal values, the highest rows."""
    m = len(s)
    if m <= k:
        return np.arange(m)
    kth = np.partition(s, m - k)[m - k]
    above = np.flatnonzero(s > kth)
    tied = np.flatnonzero(s == kth)
    return np.concatenate([above, tied[len(tied) - (k - len(above)) :]])
