"""Chat groups: create, join, leave, send and listen."""

from __future__ import annotations

from typing import Any

from oasis_des.platform.state import ActionFailed, Outcome, PlatformState


class GroupActions(PlatformState):
    def _is_member(self, uid: int, group_id: int) -> bool:
        row = self.connection.execute(
            "SELECT 1 FROM group_members WHERE group_id = ? AND agent_id = ?", (group_id, uid)
        ).fetchone()
        return row is not None

    def _act_create_group(self, uid: int, group_name: str) -> Outcome:
        now = self._stamp()
        gid = self._insert(
            "INSERT INTO chat_group (name, created_at) VALUES (?, ?)", (group_name, now)
        )
        self.connection.execute(
            "INSERT INTO group_members (group_id, agent_id, joined_at) VALUES (?, ?, ?)",
            (gid, uid, now),
        )
        return {"group_id": gid}, {"group_id": gid, "group_name": group_name}

    def _act_join_group(self, uid: int, group_id: int) -> Outcome:
        exists = self.connection.execute(
            "SELECT 1 FROM chat_group WHERE group_id = ?", (group_id,)
        ).fetchone()
        if exists is None:
            raise ActionFailed("Group does not exist.")
        if self._is_member(uid, group_id):
            raise ActionFailed("User is already in the group.")
        self.connection.execute(
            "INSERT INTO group_members (group_id, agent_id, joined_at) VALUES (?, ?, ?)",
            (group_id, uid, self._stamp()),
        )
        return {}, {"group_id": group_id}

    def _act_leave_group(self, uid: int, group_id: int) -> Outcome:
        if not self._is_member(uid, group_id):
            raise ActionFailed("User is not a member of this group.")
        self.connection.execute(
            "DELETE FROM group_members WHERE group_id = ? AND agent_id = ?", (group_id, uid)
        )
        return {}, {"group_id": group_id}

    def _act_send_to_group(self, uid: int, group_id: int, message: str) -> Outcome:
        if not self._is_member(uid, group_id):
            raise ActionFailed("User is not a member of this group.")
        mid = self._insert(
            "INSERT INTO group_messages (group_id, sender_id, content, sent_at) "
            "VALUES (?, ?, ?, ?)",
            (group_id, uid, message, self._stamp()),
        )
        others = [
            r[0]
            for r in self.connection.execute(
                "SELECT agent_id FROM group_members WHERE group_id = ? AND agent_id != ? "
                "ORDER BY agent_id",
                (group_id, uid),
            )
        ]
        return (
            {"message_id": mid, "to": others},
            {"group_id": group_id, "message_id": mid, "content": message},
        )

    def _act_listen_from_group(self, uid: int) -> Outcome:
        all_groups = {
            r[0]: r[1]
            for r in self.connection.execute("SELECT group_id, name FROM chat_group ORDER BY group_id")
        }
        joined = [
            r[0]
            for r in self.connection.execute(
                "SELECT group_id FROM group_members WHERE agent_id = ? ORDER BY group_id", (uid,)
            )
        ]
        messages: dict[int, list[dict[str, Any]]] = {g: [] for g in joined}
        if joined:
            marks = ",".join("?" * len(joined))
            for mid, gid, content, sender, sent_at in self.connection.execute(
                "SELECT message_id, group_id, content, sender_id, sent_at FROM group_messages "
                f"WHERE group_id IN ({marks}) ORDER BY message_id",
                tuple(joined),
            ):
                messages[gid].append(
                    {"message_id": mid, "content": content, "sender_id": sender, "sent_at": sent_at}
                )
        return {"all_groups": all_groups, "joined_groups": joined, "messages": messages}, None
