"""Which posts each user has liked, disliked or reposted, and which comments it has liked
or disliked, kept in memory.

The platform refuses a second like, dislike or repost of a post, or rating of a comment,
by the same user, and the engine tells each activated agent which of its feed's posts and
comments it already rated or reposted (so that a policy does not pick them). Asking SQLite cost a query per rating and per
activation. The pairs are read from the tables once, on first use; afterwards the
handlers that write those rows report them here. After a rollback the platform calls
`clear()` and they are read again.
"""

from __future__ import annotations

import sqlite3

# What is remembered: (user, post) pairs of likes, dislikes and reposts (of a root post),
# and (user, comment) pairs of comment likes and dislikes.
KINDS = {
    "like": 'SELECT user_id, post_id FROM "like"',
    "dislike": "SELECT user_id, post_id FROM dislike",
    "repost": "SELECT user_id, original_post_id FROM post "
              "WHERE original_post_id IS NOT NULL AND quote_content IS NULL",
    "comment_like": "SELECT user_id, comment_id FROM comment_like",
    "comment_dislike": "SELECT user_id, comment_id FROM comment_dislike",
}


class Engagement:
    """(user, id) pairs per kind (see KINDS)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._pairs: dict[str, set[tuple[int, int]]] | None = None
        # Users with a pair of any kind (kept after an undo): over a quarter of activations
        # (a 10k-agent day) are by users who never engaged, whose feeds need no look-up.
        self._users: set[int] = set()

    def _loaded(self) -> dict[str, set[tuple[int, int]]]:
        if self._pairs is None:
            self._pairs = {kind: set(self._conn.execute(sql)) for kind, sql in KINDS.items()}
            self._users = {user for pairs in self._pairs.values() for user, _ in pairs}
        return self._pairs

    def active(self, user: int) -> bool:
        """False if `user` has no like, dislike or repost (True may also mean: had one)."""
        self._loaded()
        return user in self._users

    def has(self, kind: str, user: int, post: int) -> bool:
        return (user, post) in self._loaded()[kind]

    def add(self, kind: str, user: int, post: int) -> None:
        self._loaded()[kind].add((user, post))
        self._users.add(user)

    def remove(self, kind: str, user: int, post: int) -> None:
        self._loaded()[kind].discard((user, post))

    def of(self, user: int, posts: dict[int, int]) -> tuple[frozenset[int], ...]:
        """Which keys of `posts` (shown id -> root id) `user` has liked, disliked and
        reposted, judged by their roots."""
        pairs = self._loaded()
        like, dislike, repost = pairs["like"], pairs["dislike"], pairs["repost"]
        liked, disliked, reposted = [], [], []
        for shown, root in posts.items():
            pair = (user, root)
            if pair in like:
                liked.append(shown)
            if pair in dislike:
                disliked.append(shown)
            if pair in repost:
                reposted.append(shown)
        return frozenset(liked), frozenset(disliked), frozenset(reposted)

    def of_comments(self, user: int, comments: list[int]) -> tuple[frozenset[int], ...]:
        """Which of `comments` `user` has liked and disliked."""
        pairs = self._loaded()
        like, dislike = pairs["comment_like"], pairs["comment_dislike"]
        return (frozenset(c for c in comments if (user, c) in like),
                frozenset(c for c in comments if (user, c) in dislike))

    def clear(self) -> None:
        self._pairs = None
