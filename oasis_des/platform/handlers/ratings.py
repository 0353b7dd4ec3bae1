"""Likes and dislikes of posts and comments: eight actions, one mechanism."""

from __future__ import annotations

from dataclasses import dataclass, field

from oasis_des.platform.state import ActionFailed, Outcome, PlatformState


@dataclass(frozen=True, kw_only=True)
class Rating:
    """One kind of rating: its table, what it rates, its counter and its error texts."""

    table: str  # "like", "dislike", "comment_like", "comment_dislike"
    target: str  # "post" or "comment"
    counter: str  # "num_likes" or "num_dislikes" on the target
    exists_error: str
    missing_error: str

    def __post_init__(self) -> None:
        table, target, counter = f'"{self.table}"', self.target, self.counter
        key = f"{target}_id"
        object.__setattr__(self, "id_key", f"{self.table}_id")
        object.__setattr__(self, "target_key", key)
        # The statements, built once per kind rather than formatted on every action.
        # (Not INSERT OR IGNORE as the duplicate check: an ignored insert still advances
        # AUTOINCREMENT, and a failed action must change nothing.)
        object.__setattr__(self, "insert_sql",
                           f"INSERT INTO {table} (user_id, {key}, created_at) VALUES (?, ?, ?)")
        object.__setattr__(self, "exists_sql",
                           f"SELECT {self.table}_id FROM {table} WHERE {key} = ? AND user_id = ?")
        object.__setattr__(self, "delete_sql", f"DELETE FROM {table} WHERE {self.table}_id = ?")
        object.__setattr__(self, "count_sql",
                           f"UPDATE {target} SET {counter} = {counter} + ? WHERE {key} = ?")

    id_key: str = field(init=False)
    target_key: str = field(init=False)
    insert_sql: str = field(init=False)
    exists_sql: str = field(init=False)
    delete_sql: str = field(init=False)
    count_sql: str = field(init=False)


LIKE = Rating(
    table="like",
    target="post",
    counter="num_likes",
    exists_error="Like record already exists.",
    missing_error="Like record does not exist.",
)
DISLIKE = Rating(
    table="dislike",
    target="post",
    counter="num_dislikes",
    exists_error="Dislike record already exists.",
    missing_error="Dislike record does not exist.",
)
COMMENT_LIKE = Rating(
    table="comment_like",
    target="comment",
    counter="num_likes",
    exists_error="Comment like record already exists.",
    missing_error="Comment like record does not exist.",
)
COMMENT_DISLIKE = Rating(
    table="comment_dislike",
    target="comment",
    counter="num_dislikes",
    exists_error="Comment dislike record already exists.",
    missing_error="Comment dislike record does not exist.",
)


class RatingActions(PlatformState):
    def _target(
        self, kind: Rating, target_id: int, *, must_exist: bool
    ) -> tuple[int, int | None, int | None]:
        """(id that gets the rating, its author, the post whose view shows the rating).

        Posts go to the root; comments stay and are shown with their post.
        """
        if kind.target == "post":
            root, author = self._root(target_id)
            return root, author, root
        row = self.connection.execute(
            "SELECT user_id, post_id FROM comment WHERE comment_id = ?", (target_id,)
        ).fetchone()
        if row is None:
            if must_exist:
                raise ActionFailed("Comment not found.")
            return target_id, None, None
        return target_id, row[0], row[1]

    def _rate(self, kind: Rating, uid: int, target_id: int) -> Outcome:
        target, author, shown_on = self._target(kind, target_id, must_exist=True)
        conn = self.connection
        if self.engagement.has(kind.table, uid, target):
            raise ActionFailed(kind.exists_error)
        if not self.settings.allow_self_rating and author == uid:
            raise ActionFailed(f"Users are not allowed to like/dislike their own {kind.target}s.")
        cur = conn.execute(kind.insert_sql, (uid, target, self._stamp()))
        rid = cur.lastrowid
        self.engagement.add(kind.table, uid, target)
        self._count(kind, target, 1, shown_on)
        return {kind.id_key: rid}, {kind.target_key: target, kind.id_key: rid}

    def _unrate(self, kind: Rating, uid: int, target_id: int) -> Outcome:
        target, _, shown_on = self._target(kind, target_id, must_exist=False)
        row = self.connection.execute(kind.exists_sql, (target, uid)).fetchone()
        if row is None:
            raise ActionFailed(kind.missing_error)
        rid = row[0]
        self.connection.execute(kind.delete_sql, (rid,))
        self.engagement.remove(kind.table, uid, target)
        self._count(kind, target, -1, shown_on)
        return {kind.id_key: rid}, {kind.target_key: target, kind.id_key: rid}

    def _count(self, kind: Rating, target: int, delta: int, shown_on: int | None) -> None:
        if kind.target == "post":
            self.posts.add(target, kind.counter, delta)
            self.views.changed(target)
            return
        self.connection.execute(kind.count_sql, (delta, target))
        if shown_on is not None:
            self.views.comment_rated(shown_on, target, kind.counter, delta)

    def _act_like_post(self, uid: int, post_id: int) -> Outcome:
        return self._rate(LIKE, uid, post_id)

    def _act_unlike_post(self, uid: int, post_id: int) -> Outcome:
        return self._unrate(LIKE, uid, post_id)

    def _act_dislike_post(self, uid: int, post_id: int) -> Outcome:
        return self._rate(DISLIKE, uid, post_id)

    def _act_undo_dislike_post(self, uid: int, post_id: int) -> Outcome:
        return self._unrate(DISLIKE, uid, post_id)

    def _act_like_comment(self, uid: int, comment_id: int) -> Outcome:
        return self._rate(COMMENT_LIKE, uid, comment_id)

    def _act_unlike_comment(self, uid: int, comment_id: int) -> Outcome:
        return self._unrate(COMMENT_LIKE, uid, comment_id)

    def _act_dislike_comment(self, uid: int, comment_id: int) -> Outcome:
        return self._rate(COMMENT_DISLIKE, uid, comment_id)

    def _act_undo_dislike_comment(self, uid: int, comment_id: int) -> Outcome:
        return self._unrate(COMMENT_DISLIKE, uid, comment_id)
