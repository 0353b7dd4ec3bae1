"""Likes and dislikes of posts and comments: eight actions, one mechanism."""

from __future__ import annotations

from dataclasses import dataclass

from oasis_des.platform.state import ActionFailed, Outcome, PlatformState


@dataclass(frozen=True, kw_only=True)
class Rating:
    """One kind of rating: its table, what it rates, its counter and its error texts."""

    table: str  # "like", "dislike", "comment_like", "comment_dislike"
    target: str  # "post" or "comment"
    counter: str  # "num_likes" or "num_dislikes" on the target
    exists_error: str
    missing_error: str

    @property
    def id_key(self) -> str:
        return f"{self.table}_id"

    @property
    def target_key(self) -> str:
        return f"{self.target}_id"


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
    def _target(self, kind: Rating, target_id: int, *, must_exist: bool) -> tuple[int, int | None]:
        """(id that gets the rating, its author). Posts go to the root; comments stay."""
        if kind.target == "post":
            return self._root(target_id)
        row = self.connection.execute(
            "SELECT user_id FROM comment WHERE comment_id = ?", (target_id,)
        ).fetchone()
        if row is None and must_exist:
            raise ActionFailed("Comment not found.")
        return target_id, None if row is None else row[0]

    def _rate(self, kind: Rating, uid: int, target_id: int) -> Outcome:
        target, author = self._target(kind, target_id, must_exist=True)
        dup = self.connection.execute(
            f'SELECT 1 FROM "{kind.table}" WHERE {kind.target_key} = ? AND user_id = ?',
            (target, uid),
        ).fetchone()
        if dup is not None:
            raise ActionFailed(kind.exists_error)
        if not self.settings.allow_self_rating and author == uid:
            raise ActionFailed(
                f"Users are not allowed to like/dislike their own {kind.target}s."
            )
        rid = self._insert(
            f'INSERT INTO "{kind.table}" (user_id, {kind.target_key}, created_at) '
            "VALUES (?, ?, ?)",
            (uid, target, self._stamp()),
        )
        self.connection.execute(
            f"UPDATE {kind.target} SET {kind.counter} = {kind.counter} + 1 "
            f"WHERE {kind.target_key} = ?",
            (target,),
        )
        return {kind.id_key: rid}, {kind.target_key: target, kind.id_key: rid}

    def _unrate(self, kind: Rating, uid: int, target_id: int) -> Outcome:
        target, _ = self._target(kind, target_id, must_exist=False)
        row = self.connection.execute(
            f'SELECT {kind.id_key} FROM "{kind.table}" WHERE {kind.target_key} = ? AND user_id = ?',
            (target, uid),
        ).fetchone()
        if row is None:
            raise ActionFailed(kind.missing_error)
        rid = row[0]
        self.connection.execute(f'DELETE FROM "{kind.table}" WHERE {kind.id_key} = ?', (rid,))
        self.connection.execute(
            f"UPDATE {kind.target} SET {kind.counter} = {kind.counter} - 1 "
            f"WHERE {kind.target_key} = ?",
            (target,),
        )
        return {kind.id_key: rid}, {kind.target_key: target, kind.id_key: rid}

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
