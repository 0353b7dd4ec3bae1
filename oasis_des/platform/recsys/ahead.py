"""Ranking the next stepped tick's feeds ahead, while this tick runs.

Ranking a tick's feeds is the largest single cost of a stepped run, and it only reads
the window as the tick starts. Who refreshes at the next tick is known in advance (the
activation draws are keyed by tick), so their ranking begins as this tick begins, on
the window as it stands, on the second core (peer.py). When the next tick comes, the
ranking is completed with what this tick changed:

- the posts it created, and the posts of authors whose popularity (follower count)
  changed, are scored now, and those of the latter ranked ahead are dropped;
- posts that left the window are dropped;
- users who followed, unfollowed, muted or unmuted anyone meanwhile are ranked anew.

Ahead, each user keeps SLACK posts more than a feed needs: if drops leave fewer than k,
that user is ranked anew. Windows scanned with coarse vectors (past `ranking.EXACT_ROWS`
posts, whose candidates depend on the whole window) are not ranked ahead. Nothing else a Twitter ranking reads changes within a tick:
its query is the user's bio, a post's weight is its recency at the next tick times
its author's popularity, and the posts it hides are those of the user, of those they
follow and of those they muted. So the feeds are the top k of the window at the next
tick, as when ranked then (up to float rounding), and a function of the run alone: the
peer computes exactly what this process would, a checkpoint taken between the two
ticks holds the ranking ahead, and a resumed run completes it as the first run did.

The posts of each user's network (followees not muted), which their refresh shows beside
the ranked ones, are found with the ranking and completed with the tick's new posts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import numpy as np

from oasis_des.platform.recsys.embedders import HashingEmbedder
from oasis_des.platform.recsys.index import FeedIndex
from oasis_des.platform.recsys.peer import JobData, RankingPeer, RankJob
from oasis_des.platform.recsys.ranking import Weighted, WindowRanker, lift
from oasis_des.platform.recsys.topk import pack, top_keys

# Posts ranked ahead beyond the k a feed shows, for those dropped by the tick's changes.
SLACK = 2
# From this many users, the ranking ahead goes to the peer process (fewer cost less here
# than the trip).
PEER_USERS = 16
_LOW = np.uint64(0xFFFFFFFF)


@dataclass
class Ahead:
    """A ranking begun ahead: for the users `users` refreshing at time `at`, their k +
    SLACK best posts among posts lo..last (the window then), as packed keys by window row
    (`keys`, from `job` until read); `blocked`: user row << 32 | author for each author
    whose posts the user must not be shown, `network`: the same for the users they follow
    and did not mute, and `network_posts` each user's window posts by those (from `job`;
    None after a resume); `queries`: the users' (None after a resume: asked again), of
    which those of `embedded` are embedded with the job."""

    at: float
    k: int
    epoch: int
    lo: int
    last: int
    users: np.ndarray
    blocked: np.ndarray
    network: np.ndarray | None = None
    queries: np.ndarray | None = None
    embedded: list[int] = field(default_factory=list)
    job: RankJob | None = None
    keys: np.ndarray | None = None
    network_posts: list[np.ndarray] | None = None


class RankAhead:
    """Begins the next tick's ranking (`begin`) and completes it when the tick comes
    (`complete`), for a recommender whose query is the user's profile and whose hidden
    posts are those of the user, their followees and the users they muted (`twitter`).
    The posts of each user's network (`FeedIndex.in_network`), which their refresh
    shows, are found with the ranking."""

    def __init__(self, ranker: WindowRanker, index: FeedIndex) -> None:
        self._ranker, self._index = ranker, index
        self._peer = RankingPeer()
        self._ahead: Ahead | None = None

    def begin(self, users: Sequence[int], at: float, k: int) -> None:
        """Start ranking the feeds of `users` for time `at`, on the window as it is now."""
        index = self._index
        self._ahead = None
        index.changed_relations.clear()
        index.changed_fans.clear()
        window = self._ranker.window(at)
        if window is None or not len(users) or k <= 0 or self._ranker.scans_coarse():
            return  # a window scanned coarse is ranked when the tick comes (see complete)
        queries, missing, embedder = self._queries(users)
        embedded = [users[i] for i in missing.tolist()]
        texts = index.profiles.texts(embedded) if embedded else []
        blocked, network = self._authors(users)
        data = JobData(queries, blocked, network, k + SLACK, texts, missing,
                       None if embedder is None else embedder.dim)
        rows = slice(window.lo, window.lo + len(window.full))
        job = RankJob(window, index.author[rows], index.window_labels(), data,
                      self._ranker.scratch, embedder)
        self._ahead = Ahead(at, k, index.epoch, window.lo, window.lo + len(window.full) - 1,
                            np.asarray(users, dtype=np.int64), blocked, network, queries,
                            embedded, job)
        if len(users) >= PEER_USERS:
            self._peer.submit(job)
        else:
            self._ranked(self._ahead)

    def _queries(
        self, users: Sequence[int],
    ) -> tuple[np.ndarray, np.ndarray, HashingEmbedder | None]:
        """The users' profile vectors, with zero rows where a profile is not held yet:
        those rows (`missing`) are embedded with the job when the embedder is the hashing
        one (whose vectors the peer computes alike); other embedders embed them here."""
        index = self._index
        profiles, embedder = index.profiles, index.embedder
        hashing = embedder if type(embedder) is HashingEmbedder else None
        if hashing is None:
            profiles.embed_many(users)
        absent = set(profiles.missing(users)) if hashing is not None else set()
        missing = np.fromiter((i for i, u in enumerate(users) if u in absent), dtype=np.int64)
        queries = np.zeros((len(users), embedder.dim), dtype=np.float32)
        for i, u in enumerate(users):
            if u not in absent:
                queries[i] = profiles.vector(u)
        return queries, missing, hashing

    def _ranked(self, ahead: Ahead) -> np.ndarray:
        """The keys ranked ahead (waiting for the peer if need be); the profiles embedded
        with them join the others."""
        if ahead.keys is None:
            assert ahead.job is not None
            answer = ahead.job.answer()
            ahead.job, ahead.keys, vectors = None, answer.keys, answer.vectors
            ahead.network_posts = answer.network(ahead.lo)
            if ahead.embedded:
                self._index.profiles.add(ahead.embedded, vectors)
                if ahead.queries is not None:
                    ahead.queries[np.isin(ahead.users, ahead.embedded)] = vectors
        return ahead.keys

    def _authors(self, users: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """Sorted keys user row << 32 | author: of the authors each user must not be
        shown (themselves, their followees and the users they muted), and of those in
        their network (followees not muted)."""
        relations = [self._index.relations(u) for u in users]
        blocked = [[u, *followees, *muted] for u, (followees, muted) in zip(users, relations)]
        network = [[f for f in followees if f not in muted] if muted else followees
                   for followees, muted in relations]
        return _keys(blocked), _keys(network)

    def complete(
        self, users: Sequence[int], now: float, k: int, query: Callable[[int], np.ndarray],
    ) -> dict[int, list[int]]:
        """The feeds of those of `users` that the ranking ahead covers, completed with
        what changed since it began (the others must be ranked now)."""
        ahead, index = self._ahead, self._index
        self._ahead = None
        if ahead is None or (ahead.at, ahead.k, ahead.epoch) != (now, k, index.epoch):
            return {}
        if self._ranker.scans_coarse():
            # Past EXACT_ROWS posts a scan keeps the best candidates by coarse vectors and
            # re-ranks them: which they are depends on the whole window then.
            return {}
        place = {u: i for i, u in enumerate(ahead.users.tolist())}
        changed = index.changed_relations
        wanted = [u for u in users if u in place and u not in changed]
        window = self._ranker.weighted(now)
        if not wanted or window is None:
            return {}
        rows = np.fromiter((place[u] for u in wanted), dtype=np.int64, count=len(wanted))
        keys = self._ranked(ahead)[rows]
        new = np.arange(max(ahead.last + 1, window.lo), window.lo + len(window.full))
        new = new[index.author[new] >= 0]  # the posts since the ranking began (gaps: none)
        self._in_network(ahead, window, rows, wanted, new)
        posts = (keys & _LOW).astype(np.int64) + (ahead.lo - 1)
        kept = (keys > 0) & (posts >= window.lo)
        fans = np.fromiter(index.changed_fans, dtype=np.int64, count=len(index.changed_fans))
        extra = self._rescored(window, ahead, fans, new)
        if len(extra):
            kept &= ~np.isin(posts, extra)
        # A line with fewer keys than asked held every post it could: nothing was left out.
        enough = (np.count_nonzero(kept, axis=1) >= k) | (keys[:, 0] == 0)
        # Keys by row of the window now (as pack makes them: row + 1 in the low 32 bits).
        rows_now = (posts - window.lo + 1).astype(np.uint64)
        merged = np.where(kept, (keys & ~_LOW) | rows_now, np.uint64(0))
        if len(extra):
            merged = np.concatenate(
                [merged, self._extra_keys(window, ahead, rows, wanted, extra, query)], axis=1)
        best = top_keys(merged, k)[:, ::-1]  # best first
        lines = ((best & _LOW).astype(np.int64) + (window.lo - 1)).tolist()
        if not best.all():  # some have fewer than k posts: no post is window.lo - 1
            lines = [[p for p in line if p >= window.lo] for line in lines]
        return {u: line for u, line, ok in zip(wanted, lines, enough.tolist()) if ok}

    def _in_network(
        self, ahead: Ahead, window: Weighted, rows: np.ndarray, wanted: list[int],
        new: np.ndarray,
    ) -> None:
        """Give the feed index each wanted user's network posts: those found ahead that
        are still in the window, and those posted since (`new`) by the user's network."""
        if ahead.network_posts is None or ahead.network is None:
            return
        index = self._index
        ours = _member((rows[:, None] << 32) | index.author[new][None, :], ahead.network)
        posted = ours.any(axis=1).tolist()
        slid = window.lo > ahead.lo
        found = {}
        for i, (row, user) in enumerate(zip(rows.tolist(), wanted)):
            posts = ahead.network_posts[row]
            if slid:
                posts = posts[posts >= window.lo]
            if posted[i]:
                posts = np.concatenate([posts, new[ours[i]]])
            found[user] = posts
        index.install_in_network(found)

    def _rescored(
        self, window: Weighted, ahead: Ahead, fans: np.ndarray, new: np.ndarray,
    ) -> np.ndarray:
        """Post ids scored now, in order: those created since the ranking began (`new`),
        those of authors whose popularity changed meanwhile, and every post that could
        tie one of them exactly, having its vector and its weight (a repost made in the
        same tick as its source), so that their scores come from one product and equal
        scores go to the newer post (see `_extra_keys`)."""
        index, lo = self._index, window.lo
        extra = new
        if len(fans):
            old = index.posts_by(fans.tolist(), lo)
            extra = np.union1d(old[old <= ahead.last], new)
        twins = index.window_twins()
        if twins is None or not len(extra):
            return extra
        at = extra - lo
        alike = np.flatnonzero(np.isin(twins, twins[at]))  # the same vector as one of them
        def keyed(rows: np.ndarray) -> np.ndarray:  # (vector's row, weight's bits)
            return (twins[rows] << 32) | window.weights[rows].view(np.uint32).astype(np.int64)

        tied = np.isin(keyed(alike), keyed(at))
        return np.union1d(alike[tied] + lo, extra)

    def _extra_keys(
        self, window: Weighted, ahead: Ahead, rows: np.ndarray, wanted: list[int],
        extra: np.ndarray, query: Callable[[int], np.ndarray],
    ) -> np.ndarray:
        """Packed keys (score, window row + 1) of the `extra` posts for each wanted user,
        0 where the user must not see the post. Each distinct vector is scored once, as
        `ranking._interest` does: a repost then ties its source exactly (two products
        may differ in the last bit), and of equal scores the newer post comes first."""
        at = extra - window.lo
        queries = (np.stack([query(u) for u in wanted]) if ahead.queries is None
                   else ahead.queries[rows]).astype(np.float32, copy=False)
        twins = self._index.window_twins()
        distinct, place = np.unique(at if twins is None else twins[at], return_inverse=True)
        scores = lift(queries @ window.full[distinct].T)[:, place]
        scores *= window.weights[at]
        hidden = _member((rows[:, None] << 32) | self._index.author[extra][None, :], ahead.blocked)
        return np.where(hidden, np.uint64(0), pack(scores, at[None, :]))

    # -- checkpoints ------------------------------------------------------------------
    def state(self) -> dict[str, Any] | None:
        """The ranking ahead, if one is under way (its keys, waiting for them if need be),
        and what changed since it began."""
        ahead = self._ahead
        if ahead is None:
            return None
        index = self._index
        return {
            "at": ahead.at, "k": ahead.k, "lo": ahead.lo, "last": ahead.last,
            "users": ahead.users, "blocked": ahead.blocked, "keys": self._ranked(ahead),
            "changed_relations": sorted(index.changed_relations),
            "changed_fans": sorted(index.changed_fans),
        }

    def restore(self, state: dict[str, Any] | None) -> None:
        """Take back what `state` returned (after the feed index is restored)."""
        self._ahead = None
        if state is None:
            return
        index = self._index
        self._ahead = Ahead(state["at"], state["k"], index.epoch, state["lo"], state["last"],
                            state["users"], state["blocked"], keys=state["keys"])
        index.changed_relations = set(state["changed_relations"])
        index.changed_fans = set(state["changed_fans"])

    def close(self) -> None:
        self._peer.close()


def _keys(authors: list[list[int]]) -> np.ndarray:
    """Sorted keys row << 32 | author of each row's `authors`."""
    counts = np.fromiter(map(len, authors), dtype=np.int64, count=len(authors))
    flat = np.fromiter(chain.from_iterable(authors), dtype=np.int64, count=int(counts.sum()))
    return np.sort((np.repeat(np.arange(len(authors), dtype=np.int64), counts) << 32) | flat)


def _member(keys: np.ndarray, among: np.ndarray) -> np.ndarray:
    """Which of `keys` are in the sorted array `among`."""
    if not len(among):
        return np.zeros(keys.shape, dtype=bool)
    return among[np.minimum(np.searchsorted(among, keys), len(among) - 1)] == keys

