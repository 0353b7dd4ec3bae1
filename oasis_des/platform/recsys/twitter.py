"""OASIS's `twitter` recommender: out-of-network posts by interest, recency and popularity.

The Twitter feed has two parts, as in OASIS and X: *in-network* posts (of the users one
follows, most liked first), which the refresh adds (`following_post_count`, from
`FeedIndex.followee_posts`), and *out-of-network* posts, ranked here by the OASIS
paper's formula

    score = similarity(user profile, post) x recency(age) x popularity(author)

with the user's bio and the post text embedded by the configured embedder (see
ranking.py for the exact factors). The user's own posts, the posts of users they follow
(in-network) and of users they muted are never recommended here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from oasis_des.platform.recsys.ahead import RankAhead
from oasis_des.platform.recsys.ranked import RankedRecommender

if TYPE_CHECKING:
    from oasis_des.platform.platform import Platform


class TwitterRecommender(RankedRecommender):
    """Interest x recency x popularity over the candidate window (deterministic). What it
    hides is a matter of authors alone, so a stepped tick's feeds are ranked ahead
    (ahead.py)."""

    popularity = True

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        self._ahead = RankAhead(self._ranker, self._index)

    def query(self, user_id: int, folded: bool) -> tuple[np.ndarray, np.ndarray | None]:
        profiles = self._index.profiles
        return profiles.vector(user_id), profiles.coarse(user_id) if folded else None

    def excluded(self, user_id: int) -> np.ndarray:
        index = self._index
        _, muted = index.relations(user_id)
        own = index.posts_by([user_id, *muted], index.window_start)
        return np.concatenate((own, index.in_network(user_id)))
