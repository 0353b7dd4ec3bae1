"""Top-k interest ranking over the candidate window: similarity x recency (x popularity).

score(post) = (max(cos(query, post), 0) + SIM_FLOOR) x weight(post),
weight(post) = recency(age) [x fan(author)]

The similarity floor keeps posts that share nothing with the user ordered by recency and
popularity instead of tied at zero; ties go to the newer post. Since a similarity is at
most 1, no post can score more than (1 + SIM_FLOOR) x its weight: posts are scanned in
decreasing weight, in chunks, and the scan stops as soon as the weight of the next post
is too small for it to enter the top (the "threshold algorithm"). The weights and their
order are computed once per tick and window; the cost follows the posts that could
matter, not the window's length (which only bounds the worst case).

Several users can be ranked together (`top_many`, e.g. all who refresh in one tick):
each chunk of posts is then scored for all of them in one matrix product.

Windows larger than EXACT_ROWS are scanned with the coarse (folded, 64-column) vectors,
since memory bandwidth is what a scan costs, and the best k + RESCORE candidates (by
coarse score, ties to newer posts, among the posts scanned until the coarse top k was
settled) are re-ranked with the full vectors. A user's scan keeps the same posts alone or
with others, in chunks or settled at once from the whole window's scores.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from oasis_des.platform.recsys.distinct import DistinctVectors
from oasis_des.platform.recsys.embedders import fold
from oasis_des.platform.recsys.index import FeedIndex
from oasis_des.platform.recsys.topk import Best, best_of, pack

SIM_FLOOR = 1e-3
# OASIS's recency factor ln((271.8 - age) / 100): 1 for a new post, 0 at 171.8 ticks,
# undefined past 271.8. Here it is followed up to KNEE ticks, then continued by the
# exponential with the same value and slope, so it stays positive and decreasing.
HORIZON, SCALE, KNEE = 271.8, 100.0, 150.0
_AT_KNEE = math.log((HORIZON - KNEE) / SCALE)
_TAIL_RATE = 1.0 / ((HORIZON - KNEE) * _AT_KNEE)
# The scan's first chunk of posts (the heaviest), then chunks GROWTH times larger; the
# chunk that would reach past half the window takes the rest.
FIRST_CHUNK, GROWTH = 1024, 4
# Up to this many queries score the whole window in place; more gather each chunk's rows.
GATHER_USERS = 8
# Candidates are re-ranked for this many users at a time (their vectors: 64 x 258 x 256).
RERANK_USERS = 64
# Scores held at a time: a chunk is scored in blocks of max(SUB_CHUNK, SCORE_BUDGET /
# users) rows, so memory stays bounded whatever the window and the number of users.
SUB_CHUNK, SCORE_BUDGET = 8192, 1 << 24
# Rows per matrix product: one product over a whole large window lets OpenBLAS split it
# across threads, which took 10-20 ms instead of 1 when another process kept a core busy.
BLOCK = 2048
# A post is skipped only if even a perfect similarity would leave it below the best
# (this margin covers float32 rounding of the scores).
MARGIN = 1.0 + 1e-4
# Windows up to this many posts are ranked with the full vectors only: exact, and faster
# for a tick's users together (their scan keeps k posts each, not k + RESCORE to re-rank;
# measured 2-3x at 8,000-27,000 posts), a little slower for one user alone (it scores the
# whole window: 0.43 ms instead of 0.26 at 8,000 posts).
EXACT_ROWS = 16384
# Larger ones: candidates taken from the coarse scan beyond k, re-ranked with the full
# vectors (measured on templated posts: 94% of them in the exact top 5, 99.4% of its mean
# score; with 64: 77%, 97%).
RESCORE = 256


def recency(age_ticks: np.ndarray | float) -> np.ndarray:
    """The recency factor of posts `age_ticks` old (decreasing, positive)."""
    age = np.asarray(age_ticks, dtype=np.float64)
    head = np.log((HORIZON - np.minimum(age, KNEE)) / SCALE)
    return np.where(age <= KNEE, head, _AT_KNEE * np.exp(-(age - KNEE) * _TAIL_RATE))


class WindowRanker:
    """Ranks the window's posts for a query vector; caches the per-post weights
    (recency x popularity) until the tick, the window or a popularity changes."""

    def __init__(self, index: FeedIndex, *, popularity: bool) -> None:
        self._index = index
        self._popularity = popularity
        self._key: tuple[float, int, int] | None = None
        self._weights = np.zeros(0, dtype=np.float32)
        self._lo = 1  # post id of weights[0]
        self._order_key: tuple[object, int, int] | None = None
        self._order = scan_order(self._weights)
        self.scratch = ScanScratch()

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

    def _scan_order(self, lo: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """`scan_order` of the window's weights, once per weights."""
        key = (self._key, lo, n)
        if key != self._order_key:
            self._order_key = key
            self._order = scan_order(self._weights[lo - self._lo : lo - self._lo + n])
        return self._order

    def scans_coarse(self) -> bool:
        """Whether the window is scanned with its coarse vectors (then queries are folded
        too: a caller that keeps their folds can pass them)."""
        full, coarse, _ = self._index.window_vectors()
        return not _exact(full, coarse)

    def top(
        self, query: np.ndarray, k: int, now: float, excluded: np.ndarray,
        coarse_query: np.ndarray | None = None,
    ) -> list[int]:
        """The ids of the k best window posts for `query`, best first, never `excluded`.
        `coarse_query` is fold(query), if known."""
        coarse = None if coarse_query is None else coarse_query[None, :]
        return self.top_many(query[None, :], k, now, [excluded], coarse)[0]

    def top_many(
        self, queries: np.ndarray, k: int, now: float, excluded: Sequence[np.ndarray],
        coarse_queries: np.ndarray | None = None,
    ) -> list[list[int]]:
        """`top` for each row of `queries`, with its own `excluded` posts: the same
        posts as one at a time (up to float rounding), for a fraction of the cost."""
        window = self.window(now)
        if window is None or k <= 0:
            return [[] for _ in excluded]
        keys = rank_window(window, queries, coarse_queries, self.hidden_rows(window, excluded),
                           k, self.scratch)
        return [post_ids(line, window.lo).tolist() for line in keys]

    def window(self, now: float) -> Window | None:
        """The candidate window as a scan at `now` reads it (None: no posts)."""
        weighted = self.weighted(now)
        if weighted is None:
            return None
        full, weights, lo = weighted
        index = self._index
        return Window(full, index.window_vectors()[1], weights,
                      *self._scan_order(lo, len(full)), index.window_twins(), lo, index.epoch)

    def weighted(self, now: float) -> Weighted | None:
        """The window's full vectors and weights at `now`, and its first post id (None: no
        posts)."""
        full, _, lo = self._index.window_vectors()
        if not len(full):
            return None
        return Weighted(full, self._window_weights(self._index.now_tick(now), lo,
                                                   lo + len(full) - 1), lo)

    def hidden_rows(self, window: Window, excluded: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Each query's excluded posts (and the ids with no post) as rows of `window`."""
        lo, n = window.lo, len(window.full)
        hidden = [np.asarray(e, dtype=np.int64) for e in excluded]
        if self._index.missing:
            gaps = np.asarray(self._index.missing, dtype=np.int64)
            hidden = [np.concatenate([e, gaps]) for e in hidden]
        return [e[(e >= lo) & (e < lo + n)] - lo for e in hidden]


class Weighted(NamedTuple):
    """A window's full vectors, their weights, and the post id of row 0."""

    full: np.ndarray
    weights: np.ndarray
    lo: int


@dataclass(frozen=True)
class Window:
    """A candidate window as a scan reads it: its vectors (full, and coarse: the same
    array when the embedder is small), each row's weight, the scan order (`_order`) and
    each row's place in it, each row's twin (None: every row its own; see `_interest`),
    and the post id of row 0 in the feed index's epoch."""

    full: np.ndarray
    coarse: np.ndarray
    weights: np.ndarray
    order: np.ndarray
    rank: np.ndarray
    twins: np.ndarray | None
    lo: int
    epoch: int


class ScanScratch:
    """What scans reuse from one call to the next: the scratch positions of
    `_threshold_scan` and the window's distinct vectors (coarse, full)."""

    def __init__(self) -> None:
        self._position = np.zeros(0, dtype=np.int64)
        self._distinct = (DistinctVectors(), DistinctVectors())

    def position(self, n: int) -> np.ndarray:
        if len(self._position) < n:
            self._position = np.full(2 * n, -1, dtype=np.int64)
        return self._position

    def distinct(self, window: Window, exact: bool) -> tuple[np.ndarray, np.ndarray] | None:
        if window.twins is None:
            return None
        scanned = window.full if exact else window.coarse
        return self._distinct[exact].of(scanned, window.twins, (window.lo, window.epoch))


def rank_window(
    window: Window, queries: np.ndarray, coarse_queries: np.ndarray | None,
    hidden: list[np.ndarray], k: int, scratch: ScanScratch,
) -> np.ndarray:
    """Each query's k best rows of `window`, never its `hidden` rows, as packed keys
    (score, row + 1; see topk.pack), ascending, 0 where there are fewer."""
    full, coarse = window.full, window.coarse
    exact = _exact(full, coarse)
    queries = np.asarray(queries, dtype=np.float32)
    position = scratch.position(len(full))
    # The queries score the whole window: each distinct vector once.
    distinct = scratch.distinct(window, exact) if len(queries) <= GATHER_USERS else None
    if exact:
        return _threshold_scan(full, window.weights, window.order, queries, hidden, k, k,
                               position, window.rank, window.twins, distinct).keys
    if coarse_queries is None:
        coarse_queries = fold(queries)
    candidates = _threshold_scan(coarse, window.weights, window.order,
                                 np.asarray(coarse_queries, dtype=np.float32), hidden,
                                 k + RESCORE, k, position, window.rank, window.twins, distinct)
    return _rerank(full, window.weights, queries, candidates.ids(), k)


class RowsByAuthor:
    """A window's rows grouped by author (one stable sort), to find the rows of some
    authors for many users at once."""

    def __init__(self, authors: np.ndarray) -> None:
        self._order = np.argsort(authors, kind="stable")
        self._authors = authors[self._order]

    def of(self, keys: np.ndarray, users: int) -> list[np.ndarray]:
        """Each of `users` users' rows written by its authors in `keys` (sorted keys
        user << 32 | author)."""
        who, author = keys >> 32, keys & 0xFFFFFFFF
        start = np.searchsorted(self._authors, author, "left")
        count = np.searchsorted(self._authors, author, "right") - start
        ends = np.cumsum(count)
        at = np.repeat(start - ends + count, count) + np.arange(ends[-1] if len(ends) else 0)
        return np.split(self._order[at], np.searchsorted(np.repeat(who, count),
                                                         np.arange(1, users)))

    def hidden(self, blocked: np.ndarray, users: int) -> list[np.ndarray]:
        """`of(blocked, users)`, with every row that has no post (author -1)."""
        hidden = self.of(blocked, users)
        gaps = self._order[: np.searchsorted(self._authors, 0)]
        return [np.concatenate([h, gaps]) for h in hidden] if len(gaps) else hidden


def post_ids(keys: np.ndarray, first: int) -> np.ndarray:
    """The post ids of a line of packed keys (ascending, 0: none), best first, where row
    0 is post `first`."""
    return (keys[keys > 0] & np.uint64(0xFFFFFFFF)).astype(np.int64)[::-1] + (first - 1)


def _exact(full: np.ndarray, coarse: np.ndarray) -> bool:
    """Whether a window is ranked with its full vectors alone (see EXACT_ROWS)."""
    return coarse is full or len(full) <= EXACT_ROWS


def _rerank(
    vectors: np.ndarray, weights: np.ndarray, queries: np.ndarray, ids: np.ndarray, k: int
) -> np.ndarray:
    """Each query's k best of its candidate rows `ids` (-1: none) by the exact score, as
    packed keys (ascending, 0: none); RERANK_USERS queries at a time (memory: their
    vectors)."""
    out = []
    for u in range(0, len(queries), RERANK_USERS):
        block = ids[u : u + RERANK_USERS]
        rows = np.maximum(block, 0)
        exact = np.einsum("ukd,ud->uk", vectors[rows], queries[u : u + RERANK_USERS])
        np.maximum(exact, 0.0, out=exact)
        exact += SIM_FLOOR
        exact *= weights[rows]
        keys = np.where(block >= 0, pack(exact, rows), np.uint64(0))
        out.append(np.sort(np.partition(keys, keys.shape[1] - k, axis=1)[:, -k:], axis=1))
    return np.concatenate(out)


def scan_order(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the window's rows in chunks of decreasing weight, as the scan reads them, each
    chunk's first row the heaviest of it and of all later chunks: a partition, not a
    sort; each row's place in that order)."""
    n = len(weights)
    order = np.argpartition(-weights, _chunk_starts(n))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    return order, rank


def _chunk_starts(n: int) -> list[int]:
    """Where the scan's chunks of an n-row window start."""
    starts, size = [0], FIRST_CHUNK
    while 2 * (starts[-1] + size) < n:
        starts.append(starts[-1] + size)
        size *= GROWTH
    return starts


def _scores(queries: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """queries @ vectors.T (one line per query). A few queries (scoring a whole window)
    take it a block of rows at a time (see BLOCK), one query as matrix-vector products,
    about a third faster than a one-column matrix product; many queries (a gathered block,
    bounded by SCORE_BUDGET) take one product, which measured a third cheaper than
    blocks of rows and gives each query's scores in one contiguous line."""
    out = np.empty((len(queries), len(vectors)), dtype=np.float32)
    if len(queries) > GATHER_USERS:
        return np.matmul(queries, vectors.T, out=out)
    for j in range(0, len(vectors), BLOCK):
        if len(queries) == 1:
            np.dot(vectors[j : j + BLOCK], queries[0], out=out[0, j : j + BLOCK])
        else:
            out[:, j : j + BLOCK] = (vectors[j : j + BLOCK] @ queries.T).T
    return out


def _interest(
    queries: np.ndarray, vectors: np.ndarray, rows: np.ndarray, twins: np.ndarray | None
) -> np.ndarray:
    """max(cos, 0) + SIM_FLOOR of each query and row of `rows`, one line per query, each
    distinct vector scored once: a row whose twin is another row takes the twin's value.
    Reposts share their source's vector (most posts of a busy day are reposts), so a
    fraction of the rows is scored, and a repost ties its source exactly (the newer post
    then comes first, as for any tie)."""
    held = rows if twins is None else twins[rows]
    if held is rows or np.array_equal(held, rows):
        return lift(_scores(queries, vectors[rows]))
    # the distinct rows, and where each row's value is among theirs (no sort)
    seen = np.zeros(len(vectors), dtype=bool)
    seen[held] = True
    distinct = np.flatnonzero(seen)
    place = np.empty(len(vectors), dtype=np.int64)
    place[distinct] = np.arange(len(distinct))
    return np.take(lift(_scores(queries, vectors[distinct])), place[held], axis=1)


def _whole_interest(
    queries: np.ndarray, vectors: np.ndarray, twins: np.ndarray | None,
    distinct: tuple[np.ndarray, np.ndarray] | None,
) -> np.ndarray:
    """`_interest` of every row, scored in place: `distinct` holds the window's distinct
    vectors and each row's place among them (distinct.py); without it, every row is scored
    and takes its twin's value."""
    if distinct is not None:
        held, place = distinct
        return np.take(lift(_scores(queries, held)), place, axis=1)
    out = lift(_scores(queries, vectors))
    return out if twins is None else np.take(out, twins, axis=1)


def lift(similarity: np.ndarray) -> np.ndarray:
    """max(similarity, 0) + SIM_FLOOR, in place."""
    np.maximum(similarity, 0.0, out=similarity)
    similarity += SIM_FLOOR
    return similarity


def _threshold_scan(
    vectors: np.ndarray, weights: np.ndarray, order: np.ndarray, queries: np.ndarray,
    hidden: list[np.ndarray], keep: int, k: int, position: np.ndarray, rank: np.ndarray,
    twins: np.ndarray | None, distinct: tuple[np.ndarray, np.ndarray] | None = None,
) -> Best:
    """Per query, the `keep` best rows by (score, row): ties go to newer rows.

    Rows are scored in `order` (decreasing weight), a chunk at a time for all queries
    still scanning; a query stops once its k-th best beats what the next row could
    score. `position` is scratch space of at least len(order) entries, all -1 (and left
    so). Up to GATHER_USERS queries score the whole window and are settled at once
    (`_settle`, which needs `rank`: each row's place in `order`). `twins[row]` is the row
    holding the same vector (a repost's source), or the row itself (None: every row's
    own); see `_interest`. `distinct` (see `_whole_interest`) serves the queries that
    score the whole window.
    """
    b, n = len(queries), len(order)
    best = Best(b, keep)
    hidden_of = np.repeat(np.arange(b), [len(h) for h in hidden])
    hidden_rows = np.concatenate(hidden) if b else np.zeros(0, dtype=np.int64)
    active = np.arange(b)
    starts = _chunk_starts(n) + [n]
    # A few queries score the whole window once (gathering rows would copy their vectors)
    # and are settled from it; many share gathered chunks, scored a block of rows at a time.
    if b <= GATHER_USERS:
        whole = _whole_interest(queries, vectors, twins, distinct)
        whole *= weights
        whole[hidden_of, hidden_rows] = -1.0
        _settle(best, whole, weights, order, rank, starts[1:-1], k)
        return best
    for start, end in zip(starts, starts[1:]):
        step = max(SUB_CHUNK, SCORE_BUDGET // len(active))
        for first in range(start, end, step):
            rows = order[first : min(first + step, end)]
            s = _interest(queries[active], vectors, rows, twins)
            s *= weights[rows]
            if len(hidden_rows):
                position[rows] = np.arange(len(rows))  # where each row is in this block
                slot = np.full(b, -1, dtype=np.int64)
                slot[active] = np.arange(len(active))
                at, who = position[hidden_rows], slot[hidden_of]
                inside = (at >= 0) & (who >= 0)
                s[who[inside], at[inside]] = -1.0
                position[rows] = -1
            best.add(active, s, rows)
        if end == n:
            break
        kth = best.kth(active, k)
        bound = (1.0 + SIM_FLOOR) * MARGIN * float(weights[order[end]])
        active = active[kth <= bound]
        if not len(active):
            break
    return best


def _settle(
    best: Best, whole: np.ndarray, weights: np.ndarray, order: np.ndarray,
    rank: np.ndarray, ends: list[int], k: int,
) -> None:
    """Fill `best` as the chunked scan would, for queries whose whole window is scored
    (`whole`, hidden rows -1): each query's `keep` best rows, and the scan's stopping test
    at each chunk end decided from them, since a row outside them scores no more than
    the least of them. A query that would stop keeps the best of the rows read so far."""
    for u in range(len(whole)):
        rows, scores = best_of(whole[u], np.arange(whole.shape[1]), best.keep)
        for end in ends:
            bound = (1.0 + SIM_FLOOR) * MARGIN * float(weights[order[end]])
            inside = scores[rank[rows] < end]
            # Fewer than k inside: one of the best is a later row, which scores below the
            # bound (weights decrease along the scan), and so does the k-th best so far.
            if len(inside) < k:
                continue
            if np.partition(inside, len(inside) - k)[len(inside) - k] > bound:
                rows, scores = best_of(whole[u, order[:end]], order[:end], best.keep)
                break
        best.keys[u, best.keep - len(rows) :] = np.sort(pack(scores, rows))
