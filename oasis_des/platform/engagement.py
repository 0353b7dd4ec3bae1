"""Which posts each user has liked, disliked or reposted, and which comments it has liked
or disliked, kept in memory.

The platform refuses a second like, dislike or repost of a post, or rating of a comment,
by the same user, and the engine tells each activated agent which of its feed's posts and
which comments it already rated or reposted (so that a policy does not pick them). Asking
SQLite cost a query per rating and per activation. The pairs are read from the tables once,
on first use; afterwards the handlers that write those rows report them here. After a
rollback the platform calls `clear()` and they are read again.
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


# Kinds kept by user instead of as pairs: a user rates few comments, and an observation
# carries them all (cheaper than looking up each comment of a feed, where popular posts
# have hundreds).
BY_USER = ("comment_like", "comment_dislike")


class Engagement:
    """(user, id) pairs per kind (see KINDS); comment ratings as ids per user (BY_USER)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._pairs: dict[str, set[tuple[int, int]]] | None = None
        self._by_user: dict[str, dict[int, set[int]]] = {kind: {} for kind in BY_USER}
        # Users with a pair of any kind (kept after an undo): over a quarter of activations
        # (a 10k-agent day) are by users who never engaged, whose feeds need no look-up.
        self._users: set[int] = set()

    def _loaded(self) -> dict[str, set[tuple[int, int]]]:
        if self._pairs is None:
            pairs = {kind: set(self._conn.execute(sql)) for kind, sql in KINDS.items()}
            self._users = {user for rows in pairs.values() for user, _ in rows}
            self._by_user = {kind: {} for kind in BY_USER}
            for kind in BY_USER:
                for user, item in pairs.pop(kind):
                    self._by_user[kind].setdefault(user, set()).add(item)
            self._pairs = pairs
        return self._pairs

    def active(self, user: int) -> bool:
        """False if `user` has rated or reposted nothing (True may also mean: had once)."""
        self._loaded()
        return user in self._users

    def has(self, kind: str, user: int, item: int) -> bool:
        pairs = self._loaded()
        if kind in self._by_user:
            return item in self._by_user[kind].get(user, ())
        return (user, item) in pairs[kind]

    def add(self, kind: str, user: int, item: int) -> None:
        pairs = self._loaded()
        self._users.add(user)
        if kind in self._by_user:
            self._by_user[kind].setdefault(user, set()).add(item)
        else:
            pairs[kind].add((user, item))

    def remove(self, kind: str, user: int, item: int) -> None:
        pairs = self._loaded()
        if kind in self._by_user:
            self._by_user[kind].get(user, set()).discard(item)
        else:
            pairs[kind].discard((user, item))

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

    def comments_of(self, user: int) -> tuple[frozenset[int], ...]:
        """The comments `user` has liked, and those it has disliked."""
        self._loaded()
        return tuple(frozenset(self._by_user[kind].get(user, ())) for kind in BY_USER)

    def clear(self) -> None:
        self._pairs = None
