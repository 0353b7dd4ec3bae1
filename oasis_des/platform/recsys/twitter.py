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

from oasis_des.platform.recsys.ranking import WindowRanker
from oasis_des.rng import KeyedStream

if TYPE_CHECKING:
    from oasis_des.platform.platform import Platform


class TwitterRecommender:
    """Interest x recency x popularity over the candidate window (deterministic)."""

    def __init__(self, platform: Platform) -> None:
        self._index = platform.feed_index
        self._ranker = WindowRanker(self._index, popularity=True)

    def recommend(self, user_id: int, now: float, k: int, rng: KeyedStream) -> list[int]:
        index = self._index
        index.sync()
        followees, muted = index.relations(user_id)
        excluded = index.posts_by([user_id, *followees, *muted], index.window_start)
        index.window_vectors()  # embed new posts before the profile shares the embedder
        return self._ranker.top(index.profile(user_id), k, now, excluded,
                                index.coarse_profile(user_id))
