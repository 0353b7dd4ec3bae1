"""What every action handler shares: the connection, clock, settings and graph."""

from __future__ import annotations

import sqlite3
from typing import Any

from oasis_des.platform.clock import Clock
from oasis_des.platform.engagement import Engagement
from oasis_des.platform.graph import SocialGraph
from oasis_des.platform.post_rows import PostRows
from oasis_des.platform.render import PostViews
from oasis_des.platform.settings import PlatformSettings

# What a handler returns on success: extra result keys, and the trace `info` (None:
# untraced; a str: info already encoded as JSON, as cached post views are).
Outcome = tuple[dict[str, Any], dict[str, Any] | str | None]


class ActionFailed(Exception):
    """An action's check failed; the message is the user-facing error text."""

    def __init__(self, message: str, *, key: str = "error") -> None:
        super().__init__(message)
        self.message = message
        self.key = key  # "message" for empty search/feed results, as OASIS reports them


class PlatformState:
    """Base of the handler mixins; `Platform` fills these in."""

    connection: sqlite3.Connection
    clock: Clock
    settings: PlatformSettings
    posts: PostRows  # every write to `post` goes through it (post_rows.py)
    engagement: Engagement  # likes, dislikes and reposts by user (engagement.py)
    views: PostViews  # rendered posts; handlers report what they change (render.py)
    social_graph: SocialGraph
    # Follow edges changed by the running action (follower, followee, +1/-1); the graph
    # gets them only once the action has committed.
    _graph_changes: list[tuple[int, int, int]]
    # Ids of signed-up users, kept in memory: every action checks its agent against it.
    _users: set[int]

    def _post(self, post_id: int) -> list[Any]:
        """The post's row (columns of post_rows.COLUMNS), or fail with OASIS's text."""
        row = self.posts.get(post_id)
        if row is None:
            raise ActionFailed("Post not found.")
        return row

    def _root(self, post_id: int) -> tuple[int, int]:
        """(root post id, root author): a repost is replaced by the post it points at."""
        row = self._post(post_id)
        original = row[2]
        if original is not None and row[4] is None:
            root = self.posts.get(original)
            assert root is not None, "a repost's original post exists (foreign key)"
            return original, root[1]
        return post_id, row[1]

    def _user_exists(self, user_id: int) -> bool:
        return user_id in self._users

    def _stamp(self) -> Any:
        return self.clock.stamp()

    def _insert(self, sql: str, params: tuple[Any, ...]) -> int:
        cur = self.connection.execute(sql, params)
        assert cur.lastrowid is not None
        return cur.lastrowid
