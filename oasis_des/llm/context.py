"""What LLM agents observe beside their feed: their follower counts and the latest messages
of the chat groups they are in (OASIS's observation shows both).

The engine reads them when the agent observes (`LLMPolicy.context`), not when the prompt is
built: calls run while the simulation goes on, and the prompt must not depend on when.
Two indexed reads per activation; offline agents never pay them.
"""

from __future__ import annotations

import sqlite3
from typing import Any

GROUP_MESSAGES = 3  # the most recent messages over all of the agent's groups


def social_context(connection: sqlite3.Connection, agent: int) -> dict[str, Any]:
    """Observation fields: `followers`, `followings` and `group_messages` (newest last)."""
    row = connection.execute(
        "SELECT num_followers, num_followings FROM user WHERE user_id = ?", (agent,)
    ).fetchone()
    messages = connection.execute(
        "SELECT m.group_id, g.name, m.sender_id, m.content FROM group_members AS mine "
        "JOIN group_messages AS m ON m.group_id = mine.group_id "
        "JOIN chat_group AS g ON g.group_id = m.group_id "
        "WHERE mine.agent_id = ? ORDER BY m.message_id DESC LIMIT ?",
        (agent, GROUP_MESSAGES),
    ).fetchall()
    return {
        "followers": row[0] if row else 0,
        "followings": row[1] if row else 0,
        "group_messages": tuple(
            {"group_id": g, "group": name, "sender_id": s, "content": c}
            for g, name, s, c in reversed(messages)
        ),
    }
