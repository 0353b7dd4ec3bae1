"""Keeping the best rows of scored windows: each query's best `keep` (score, row) pairs.

Scores and rows are packed into one integer per pair (`pack`) that sorts like (score, row),
so ties go to the newer row and keeping the best is integer selection. A few (a Twitter
user's 2 candidates) are taken as repeated maxima, more by a partition (ranking.py uses
both).
"""

from __future__ import annotations

import numpy as np

# Up to this many best rows of a scored window are picked one at a time, not by a partition.
FEW = 8


def best_of(scores: np.ndarray, rows: np.ndarray, keep: int) -> tuple[np.ndarray, np.ndarray]:
    """The `keep` best of `rows` (their `scores`; < 0: hidden) by (score, row): a float
    partition, then the ties at the cut-off resolved to the newer rows. A few (a Twitter
    user's 2 candidates) are picked one at a time instead (see `few_best`)."""
    if keep <= FEW:
        return few_best(scores, rows, keep)
    if len(rows) > keep:
        at = np.argpartition(scores, len(rows) - keep)[len(rows) - keep :]
        cut = scores[at].min()
        above = at[scores[at] > cut]
        tied = np.sort(rows[scores == cut])[len(above) - keep :]
        rows = np.concatenate([rows[above], tied])
        scores = np.concatenate([scores[above], np.full(len(tied), cut, dtype=scores.dtype)])
    shown = scores >= 0
    return rows[shown], scores[shown]


def few_best(scores: np.ndarray, rows: np.ndarray, keep: int) -> tuple[np.ndarray, np.ndarray]:
    """`best_of` by taking the highest score `keep` times (ties: the newer row): two passes
    over the scores each, which for a few beats a partition (12 us instead of 88 for the 2
    best of 10,000)."""
    left = scores.copy()
    best_rows, best_scores = [], []
    for _ in range(min(keep, len(left))):
        at = int(left.argmax())
        top = left[at]
        if top < 0:  # only hidden rows remain
            break
        tied = np.flatnonzero(left == top)
        if len(tied) > 1:
            at = int(tied[np.argmax(rows[tied])])
        best_rows.append(rows[at])
        best_scores.append(top)
        left[at] = -np.inf
    return (np.asarray(best_rows, dtype=rows.dtype),
            np.asarray(best_scores, dtype=scores.dtype))


class Best:
    """The best `keep` (score, row) of each query so far, as packed keys (see `pack`),
    ascending per query; 0 stands for no post."""

    def __init__(self, b: int, keep: int) -> None:
        self.keep, self.keys = keep, np.zeros((b, keep), dtype=np.uint64)

    def add(self, active: np.ndarray, s: np.ndarray, rows: np.ndarray) -> None:
        """Take in the scores `s` (one line per active query; < 0: hidden) of `rows`."""
        floor = score_of(self.keys[active, 0])  # a score below the worst kept cannot enter
        few = Entrants.of(s, floor, rows)
        if few is None:
            keys = pack(s, rows[None, :])
            keys[s < floor[:, None]] = 0  # cannot enter (or hidden)
        elif not len(few.users):
            return
        else:
            active, keys = active[few.users], pack(few.scores, few.rows)
            keys[few.rows < 0] = 0
        merged = np.concatenate([self.keys[active], keys], axis=1)
        self.keys[active] = top_keys(merged, self.keep)

    def kth(self, active: np.ndarray, k: int) -> np.ndarray:
        """The k-th best score of each active query (-1 while it has fewer than k)."""
        keys = self.keys[active, self.keep - k]
        return np.where(keys == 0, np.float32(-1.0), score_of(keys))

    def ids(self) -> np.ndarray:
        """The rows kept, one line per query (-1: none), in no particular order."""
        return (self.keys & np.uint64(0xFFFFFFFF)).astype(np.int64) - 1


def top_keys(merged: np.ndarray, keep: int) -> np.ndarray:
    """The `keep` largest keys of each line of `merged` (distinct, but for zeros), ascending.
    A few of a wide block (a tick's first chunk, where every post enters) are taken as
    maxima, one at a time: 127 us instead of a partition's 588 for 2 of 83 x 1,026."""
    if keep > FEW or merged.shape[1] <= 8 * FEW:
        top = np.partition(merged, merged.shape[1] - keep, axis=1)[:, -keep:]
        return np.sort(top, axis=1)
    top = np.empty((len(merged), keep), dtype=merged.dtype)
    for j in range(keep - 1, -1, -1):
        top[:, j] = largest = merged.max(axis=1)
        merged[merged == largest[:, None]] = 0  # taken (0 stands for no post)
    return top


class Entrants:
    """The scores of a block that beat their query's worst kept score, packed left in one
    short row per query that has any (padding: score -1, row -1).

    After the first posts, few of a block's rows can enter the best `keep` (they come in
    decreasing weight), so merging just these costs a fraction of merging the block.
    """

    # Beyond this share of entrants the block is merged whole (no gain, more memory).
    DENSE_SHARE = 0.125

    def __init__(self, users: np.ndarray, scores: np.ndarray, rows: np.ndarray) -> None:
        self.users, self.scores, self.rows = users, scores, rows

    @classmethod
    def of(cls, s: np.ndarray, floor: np.ndarray, rows: np.ndarray) -> Entrants | None:
        """Entrants of block `s` (one line per query, over `rows`): scores at or above
        `floor` (per query; hidden posts score -1 and never enter); None when they are many."""
        enter = s >= np.maximum(floor, 0.0)[:, None]
        total = int(np.count_nonzero(enter))
        if total > cls.DENSE_SHARE * s.size:
            return None
        who, col = np.divmod(np.flatnonzero(enter), s.shape[1])
        count = np.bincount(who, minlength=len(s))
        users = np.flatnonzero(count)
        width = int(count.max()) if total else 0
        line = np.cumsum(count > 0)[who] - 1
        slot = np.arange(total) - (np.cumsum(count) - count)[who]
        scores = np.full((len(users), width), -1.0, dtype=np.float32)
        ids = np.full((len(users), width), -1, dtype=np.int64)
        scores[line, slot] = s[who, col]
        ids[line, slot] = rows[col]
        return cls(users, scores, ids)


def pack(scores: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Scores (float32, >= 0) and their rows as integers that sort like (score, row),
    all > 0 (0 stands for no post)."""
    high = scores.astype(np.float32).view(np.uint32).astype(np.uint64) << np.uint64(32)
    return high | (rows.astype(np.uint64) + np.uint64(1))


def score_of(keys: np.ndarray) -> np.ndarray:
    return (keys >> np.uint64(32)).astype(np.uint32).view(np.float32)
