"""How posts look to agents in refresh, search_posts and trend results.

A repost shows its own id with the root's text, time, counters and comments; a quote shows
its own counters (including num_reports, which OASIS loses) and the quoted text.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Sequence

_POST_COLS = (
    "post_id, user_id, original_post_id, content, quote_content, created_at, "
    "num_likes, num_dislikes, num_shares, num_reports"
)


def _in(ids: Sequence[int]) -> str:
    return ",".join("?" * len(ids))


def _rows(conn: sqlite3.Connection, ids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
    if not ids:
        return {}
    sql = f"SELECT {_POST_COLS} FROM post WHERE post_id IN ({_in(ids)})"
    return {r[0]: r for r in conn.execute(sql, tuple(ids))}


def _ratings(likes: int, dislikes: int, show_score: bool) -> dict[str, int]:
    if show_score:
        return {"score": likes - dislikes}
    return {"num_likes": likes, "num_dislikes": dislikes}


def render_posts(
    conn: sqlite3.Connection,
    post_ids: Sequence[int],
    *,
    show_score: bool,
    report_threshold: int,
    comments_per_post: int = 0,
) -> list[dict[str, Any]]:
    """The posts `post_ids` (in that order, unknown ids skipped) as agents see them.

    Each post carries its comments in creation order: all of them, or the most recent
    `comments_per_post` when that is > 0.
    """
    posts = _rows(conn, post_ids)
    root_ids = {r[2] for r in posts.values() if r[2] is not None} - posts.keys()
    roots = {**posts, **_rows(conn, sorted(root_ids))}

    shown: list[tuple[int, tuple[Any, ...], tuple[Any, ...]]] = []  # id, row, counter row
    for pid in post_ids:
        row = posts.get(pid)
        if row is None:
            continue
        is_repost = row[2] is not None and row[4] is None
        shown.append((pid, row, roots[row[2]] if is_repost else row))
    comments = _comments(conn, sorted({c[0] for _, _, c in shown}), show_score, comments_per_post)

    out: list[dict[str, Any]] = []
    for pid, row, counters in shown:
        content = _content(row, roots)
        if report_threshold > 0 and counters[9] >= report_threshold:
            content = f"[Warning: This post has been reported {counters[9]} times]\n{content}"
        out.append(
            {
                "post_id": pid,
                "user_id": row[1],
                "content": content,
                "created_at": counters[5],
                **_ratings(counters[6], counters[7], show_score),
                "num_shares": counters[8],
                "num_reports": counters[9],
                "comments": comments.get(counters[0], []),
            }
        )
    return out


def _content(row: tuple[Any, ...], roots: dict[int, tuple[Any, ...]]) -> str:
    if row[2] is None:
        return row[3]
    root = roots[row[2]]
    if row[4] is None:
        return (
            f"User {row[1]} reposted a post from User {root[1]}. "
            f"Repost content: {root[3]}. "
        )
    return (
        f"User {row[1]} quoted a post from User {root[1]}. "
        f"Quote content: {row[4]}. Original Content: {root[3]}"
    )


_COMMENT_KEYS = ("comment_id", "post_id", "user_id", "content", "created_at")
_SCORE_SQL = (", num_likes - num_dislikes", _COMMENT_KEYS + ("score",))
_COUNTS_SQL = (", num_likes, num_dislikes", _COMMENT_KEYS + ("num_likes", "num_dislikes"))


def _comments(
    conn: sqlite3.Connection, post_ids: Sequence[int], show_score: bool, limit: int
) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    if not post_ids:
        return out
    columns, keys = _SCORE_SQL if show_score else _COUNTS_SQL
    select = f"SELECT comment_id, post_id, user_id, content, created_at{columns} FROM comment"
    if limit <= 0:
        rows = conn.execute(
            f"{select} WHERE post_id IN ({_in(post_ids)}) ORDER BY comment_id", tuple(post_ids)
        )
        for r in rows:
            out.setdefault(r[1], []).append(dict(zip(keys, r)))
        return out
    for pid in post_ids:  # one indexed range read per post: cost bounded by the limit
        latest = conn.execute(
            f"{select} WHERE post_id = ? ORDER BY comment_id DESC LIMIT ?", (pid, limit)
        ).fetchall()
        if latest:
            out[pid] = [dict(zip(keys, r)) for r in reversed(latest)]
    return out
