"""Follows and mutes between users."""

from __future__ import annotations

from oasis_des.platform.recsys.index import FeedIndex
from oasis_des.platform.state import ActionFailed, Outcome, PlatformState


class RelationActions(PlatformState):
    feed_index: FeedIndex

    def _check_other_user(self, uid: int, other: int, verb: str) -> None:
        if other == uid:
            raise ActionFailed(f"Users cannot {verb} themselves.")
        if not self._user_exists(other):
            raise ActionFailed("User not found.")

    def _act_follow(self, uid: int, followee_id: int) -> Outcome:
        self._check_other_user(uid, followee_id, "follow")
        dup = self.connection.execute(
            "SELECT 1 FROM follow WHERE follower_id = ? AND followee_id = ?", (uid, followee_id)
        ).fetchone()
        if dup is not None:
            raise ActionFailed("Follow record already exists.")
        fid = self._insert(
            "INSERT INTO follow (follower_id, followee_id, created_at) VALUES (?, ?, ?)",
            (uid, followee_id, self._stamp()),
        )
        self._count_follow(uid, followee_id, +1)
        return {"follow_id": fid}, {"follow_id": fid}

    def _act_unfollow(self, uid: int, followee_id: int) -> Outcome:
        row = self.connection.execute(
            "SELECT follow_id FROM follow WHERE follower_id = ? AND followee_id = ?",
            (uid, followee_id),
        ).fetchone()
        if row is None:
            raise ActionFailed("Follow record does not exist.")
        self.connection.execute("DELETE FROM follow WHERE follow_id = ?", (row[0],))
        self._count_follow(uid, followee_id, -1)
        return {"follow_id": row[0]}, {"followee_id": followee_id}

    def _count_follow(self, follower: int, followee: int, delta: int) -> None:
        self.connection.execute(
            "UPDATE user SET num_followings = num_followings + ? WHERE user_id = ?",
            (delta, follower),
        )
        self.connection.execute(
            "UPDATE user SET num_followers = num_followers + ? WHERE user_id = ?",
            (delta, followee),
        )
        self._graph_changes.append((follower, followee, delta))

    def _act_mute(self, uid: int, mutee_id: int) -> Outcome:
        self._check_other_user(uid, mutee_id, "mute")
        dup = self.connection.execute(
            "SELECT 1 FROM mute WHERE muter_id = ? AND mutee_id = ?", (uid, mutee_id)
        ).fetchone()
        if dup is not None:
            raise ActionFailed("Mute record already exists.")
        mid = self._insert(
            "INSERT INTO mute (muter_id, mutee_id, created_at) VALUES (?, ?, ?)",
            (uid, mutee_id, self._stamp()),
        )
        self.feed_index.mute_changed(uid, mutee_id, +1)
        return {"mute_id": mid}, {"mutee_id": mutee_id}

    def _act_unmute(self, uid: int, mutee_id: int) -> Outcome:
        row = self.connection.execute(
            "SELECT mute_id FROM mute WHERE muter_id = ? AND mutee_id = ?", (uid, mutee_id)
        ).fetchone()
        if row is None:
            raise ActionFailed("No mute record exists.")
        self.connection.execute("DELETE FROM mute WHERE mute_id = ?", (row[0],))
        self.feed_index.mute_changed(uid, mutee_id, -1)
        return {"mute_id": row[0]}, {"mutee_id": mutee_id}
