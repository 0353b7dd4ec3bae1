"""The `embedding` recommender: posts close to what the user is and what they engage with.

The query is the user's profile vector (bio) plus the mean vector of the posts they liked,
reposted or quoted most recently (the last ENGAGEMENT_MEMORY), normalised; posts are ranked
by similarity to it x recency (ranking.py), without author popularity. Followees' posts
are candidates like any other; the user's own posts and muted users' posts are not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from oasis_des.platform.recsys.embedders import normalise
from oasis_des.platform.recsys.ranked import RankedRecommender

if TYPE_CHECKING:
    from oasis_des.platform.platform import Platform


class EmbeddingRecommender(RankedRecommender):
    """Similarity to profile + recent engagement, times recency (deterministic)."""

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        self._index.track_engagement = True

    def query(self, user_id: int, folded: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """The user's interest vector: profile and recent engagement, equally weighted."""
        index = self._index
        index.window_vectors()  # engaged posts need their vectors
        liked = index.vectors_of(index.engaged(user_id))
        profile = index.profiles.vector(user_id)
        if not len(liked):
            return profile, None
        return normalise(profile + normalise(liked.mean(axis=0))), None

    def excluded(self, user_id: int) -> np.ndarray:
        index = self._index
        _, muted = index.relations(user_id)
        return index.posts_by([user_id, *muted], index.window_start)
