"""Helpers shared by the platform tests: table dumps, trace rows, graph edges, posts and
recommendations."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from oasis_des import Platform
from oasis_des.rng import KeyedStream

# Tables whose content a failed action must not change (failed_action gets the attempt,
# run_meta is written at construction).
STATE_TABLES = (
    "user",
    "post",
    "follow",
    "mute",
    "like",
    "dislike",
    "report",
    "trace",
    "rec",
    "comment",
    "comment_like",
    "comment_dislike",
    "product",
    "chat_group",
    "group_members",
    "group_messages",
)


def dump(p: Platform, tables: tuple[str, ...] = STATE_TABLES) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every state table, in rowid order."""
    conn = p.connection
    return {t: conn.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall() for t in tables}


def sequences(p: Platform) -> dict[str, int]:
    """AUTOINCREMENT counters (a failed action must not consume ids either)."""
    return dict(p.connection.execute("SELECT name, seq FROM sqlite_sequence").fetchall())


def traces(p: Platform) -> list[dict[str, Any]]:
    rows = p.connection.execute(
        "SELECT trace_id, user_id, created_at, action, info, sim_time FROM trace ORDER BY trace_id"
    ).fetchall()
    return [
        {
            "trace_id": r[0],
            "user_id": r[1],
            "created_at": r[2],
            "action": r[3],
            "info": json.loads(r[4]),
            "sim_time": r[5],
        }
        for r in rows
    ]


def last_trace(p: Platform) -> dict[str, Any]:
    rows = traces(p)
    assert rows, "no trace row written"
    return rows[-1]


def trace_count(p: Platform) -> int:
    return p.connection.execute("SELECT COUNT(*) FROM trace").fetchone()[0]


def failures(p: Platform) -> list[dict[str, Any]]:
    rows = p.connection.execute(
        "SELECT user_id, created_at, sim_time, action, args, error FROM failed_action "
        "ORDER BY failure_id"
    ).fetchall()
    return [
        {
            "user_id": r[0],
            "created_at": r[1],
            "sim_time": r[2],
            "action": r[3],
            "args": json.loads(r[4]),
            "error": r[5],
        }
        for r in rows
    ]


def follow_edges(p: Platform) -> Counter[tuple[int, int]]:
    return Counter(p.connection.execute("SELECT follower_id, followee_id FROM follow").fetchall())


def graph_edges(p: Platform) -> Counter[tuple[int, int]]:
    return Counter(tuple(e) for e in p.graph.get_edgelist())


def assert_graph_matches(p: Platform) -> None:
    """The igraph graph has exactly the follow table's edges, and a vertex per user."""
    assert graph_edges(p) == follow_edges(p)
    assert p.graph.is_directed()
    max_uid = p.connection.execute("SELECT MAX(user_id) FROM user").fetchone()[0]
    if max_uid is not None:
        assert p.graph.vcount() >= max_uid + 1


def one(p: Platform, sql: str, params: tuple[Any, ...] = ()) -> Any:
    row = p.connection.execute(sql, params).fetchone()
    return None if row is None else (row[0] if len(row) == 1 else row)


def ok(result: dict[str, Any]) -> dict[str, Any]:
    assert result.get("success") is True, result
    return result


def fails(result: dict[str, Any], error: str | None = None) -> str:
    """Assert a failure result ({success: False, error}) and return its message."""
    assert result.get("success") is False, result
    assert set(result) == {"success", "error"}, result
    if error is not None:
        assert result["error"] == error
    return result["error"]


POST_COLUMNS = (
    "post_id",
    "user_id",
    "original_post_id",
    "content",
    "quote_content",
    "created_at",
    "num_likes",
    "num_dislikes",
    "num_shares",
    "num_reports",
)


def post_row(p: Platform, post_id: int) -> dict[str, Any]:
    row = p.connection.execute(
        f"SELECT {', '.join(POST_COLUMNS)} FROM post WHERE post_id = ?", (post_id,)
    ).fetchone()
    assert row is not None, f"post {post_id} missing"
    return dict(zip(POST_COLUMNS, row))


def user_row(p: Platform, user_id: int) -> dict[str, Any]:
    cols = ("user_id", "agent_id", "user_name", "name", "bio", "created_at",
            "num_followings", "num_followers")
    row = p.connection.execute(
        f"SELECT {', '.join(cols)} FROM user WHERE user_id = ?", (user_id,)
    ).fetchone()
    assert row is not None, f"user {user_id} missing"
    return dict(zip(cols, row))


def comment_row(p: Platform, comment_id: int) -> dict[str, Any]:
    cols = ("comment_id", "post_id", "user_id", "content", "created_at", "num_likes",
            "num_dislikes")
    row = p.connection.execute(
        f"SELECT {', '.join(cols)} FROM comment WHERE comment_id = ?", (comment_id,)
    ).fetchone()
    assert row is not None, f"comment {comment_id} missing"
    return dict(zip(cols, row))


def write(p: Platform, author: int, texts: list[str]) -> list[int]:
    """Post `texts` as `author`; their post ids."""
    return [p.execute(author, "create_post", content=t)["post_id"] for t in texts]


def recommend(p: Platform, uid: int, k: int = 10) -> list[int]:
    """What the platform's recommender gives `uid` now (best first)."""
    return p.recommender.recommend(uid, p.now, k, KeyedStream(0, "test", uid))
