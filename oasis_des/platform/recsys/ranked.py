"""Recommenders that rank the candidate window for each user's query vector.

One user at a time (a refresh alone), the users of a stepped tick together (`prepare`,
which costs much less), or, for those that can, the next tick's users ahead, during the
tick before (`rank_ahead`, ahead.py). The ranking itself is ranking.py's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from oasis_des.platform.recsys.ranking import WindowRanker
from oasis_des.rng import KeyedStream

if TYPE_CHECKING:
    from oasis_des.platform.platform import Platform
    from oasis_des.platform.recsys.ahead import RankAhead


class RankedRecommender:
    """A recommender that ranks the window for each user's query vector: one user at a
    time, or the users of a tick together (`prepare`), which costs much less.

    Subclasses give the query and the posts never to recommend."""

    popularity: bool = False

    def __init__(self, platform: Platform) -> None:
        self._platform = platform
        self._index = platform.feed_index
        self._ranker = WindowRanker(self._index, popularity=self.popularity)
        self._prepared: dict[int, list[int]] = {}
        self._prepared_for: tuple[float, int, int, int] | None = None
        self._ahead: RankAhead | None = None  # set by subclasses that can rank ahead

    def query(self, user_id: int, folded: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """(the user's query vector, its fold if `folded` and the recommender keeps it)."""
        raise NotImplementedError

    def excluded(self, user_id: int) -> np.ndarray:
        """Window posts the user must not be recommended."""
        raise NotImplementedError

    def _state(self, now: float, k: int) -> tuple[float, int, int, int]:
        return (now, k, self._platform.content_version, self._index.epoch)

    def prepare(self, user_ids: Sequence[int], now: float, k: int) -> None:
        """Rank the feeds of `user_ids`, who refresh at `now` before anything changes:
        completing what `rank_ahead` began for them, if it did."""
        self._index.window_vectors()  # embed new posts before profiles share the embedder
        if not user_ids:
            return
        ranked = {} if self._ahead is None else self._ahead.complete(
            user_ids, now, k, lambda u: self.query(u, False)[0])
        rest = [u for u in user_ids if u not in ranked]
        if rest:
            self._index.profiles.embed_many(rest)
            queries, coarse = self._queries(rest)
            ranked.update(zip(rest, self._ranker.top_many(
                queries, k, now, [self.excluded(u) for u in rest], coarse)))
        self._prepared = ranked
        self._prepared_for = self._state(now, k)

    def rank_ahead(self, user_ids: Sequence[int], at: float, k: int) -> None:
        """Begin ranking the feeds of `user_ids`, who will refresh at `at` (the next
        stepped tick), on the window as it is now (see ahead.py); `prepare` completes
        them then. Only for recommenders that can (`_ahead`)."""
        if self._ahead is not None:
            self._index.window_vectors()  # embed new posts before profiles share the embedder
            self._ahead.begin(user_ids, at, k)

    def _queries(self, user_ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray | None]:
        """The users' query vectors, and their folds when the window is scanned coarse
        (None if the recommender does not keep them)."""
        folded = self._ranker.scans_coarse()
        queries = [self.query(u, folded) for u in user_ids]
        coarse = [c for _, c in queries]
        return (np.stack([q for q, _ in queries]),
                None if any(c is None for c in coarse) else np.stack(coarse))  # type: ignore[arg-type]

    def state(self) -> dict[str, Any] | None:
        """The ranking begun ahead, if any (for checkpoints)."""
        return None if self._ahead is None else self._ahead.state()

    def restore(self, state: dict[str, Any] | None) -> None:
        if self._ahead is not None:
            self._ahead.restore(state)

    def close(self) -> None:
        """End the peer process of a ranking ahead, if one was started."""
        if self._ahead is not None:
            self._ahead.close()

    def recommend(self, user_id: int, now: float, k: int, rng: KeyedStream) -> list[int]:
        self._index.sync()
        if self._prepared_for == self._state(now, k):
            ranked = self._prepared.pop(user_id, None)
            if ranked is not None:
                return ranked
        query, coarse = self.query(user_id, self._ranker.scans_coarse())
        return self._ranker.top(query, k, now, self.excluded(user_id), coarse)
