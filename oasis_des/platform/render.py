"""How posts look to agents in refresh, search_posts and trend results.

A repost shows its own id with the root's text, time, counters and comments; a quote shows
its own counters (including num_reports, which OASIS loses) and the quoted text.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Sequence

from oasis_des.platform.settings import PlatformSettings

_POST_COLS = (
    "post_id, user_id, original_post_id, content, quote_content, created_at, "
    "num_likes, num_dislikes, num_shares, num_reports"
)
# The trace's JSON: the encoder `Platform` uses for every trace row, so the fragments of
# cached views join into exactly the text that encoding the whole feed would give.
encode_json = json.JSONEncoder(ensure_ascii=False).encode


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


class PostViews:
    """Rendered posts (and their JSON), kept until something they show changes.

    Every refresh shows posts, and popular posts carry hundreds of comments: rendering and
    encoding them again for each viewer dominated a run. A view depends only on its
    *counter post* (the post itself, or the root of a repost): that post's counters and
    comments. Handlers call `changed(counter_post)` after writing either; all other
    columns a view shows never change. After a rollback the platform calls `clear()`.
    """

    def __init__(
        self, conn: sqlite3.Connection, settings: PlatformSettings, max_entries: int = 100_000
    ) -> None:
        self._conn = conn
        self._show_score = settings.show_score
        self._report_threshold = settings.report_threshold
        self._comments_per_post = settings.comments_per_post
        self._max_entries = max_entries
        # post id -> (counter post id, its version when rendered, view, view's JSON)
        self._cache: dict[int, tuple[int, int, dict[str, Any], str]] = {}
        self._version: dict[int, int] = {}

    def changed(self, counter_post: int) -> None:
        """The counters or comments of `counter_post` changed: its views are stale."""
        self._version[counter_post] = self._version.get(counter_post, 0) + 1

    def clear(self) -> None:
        self._cache.clear()
        self._version.clear()

    def show(self, post_ids: Sequence[int]) -> tuple[list[dict[str, Any]], str]:
        """The posts `post_ids` (in that order, unknown ids skipped) as agents see them,
        and the JSON of `{"posts": [...]}` for the trace.

        Each post carries its comments in creation order: all of them, or the most recent
        `comments_per_post` when that is > 0. The returned dicts are copies; their comment
        lists are shared with the cache and must not be modified.
        """
        cache, version = self._cache, self._version
        stale = [
            p for p in post_ids
            if (e := cache.get(p)) is None or e[1] != version.get(e[0], 0)
        ]
        if stale:
            self._render(stale)
        views: list[dict[str, Any]] = []
        parts: list[str] = []
        for pid in post_ids:
            entry = cache.get(pid)
            if entry is not None:
                views.append(dict(entry[2]))
                parts.append(entry[3])
        return views, '{"posts": [' + ", ".join(parts) + "]}"

    def _render(self, post_ids: list[int]) -> None:
        conn, cache = self._conn, self._cache
        posts = _rows(conn, post_ids)
        root_ids = {r[2] for r in posts.values() if r[2] is not None} - posts.keys()
        roots = {**posts, **_rows(conn, sorted(root_ids))}
        shown: list[tuple[int, tuple[Any, ...], tuple[Any, ...]]] = []  # id, row, counter row
        for pid, row in posts.items():
            is_repost = row[2] is not None and row[4] is None
            shown.append((pid, row, roots[row[2]] if is_repost else row))
        comments = _comments(
            conn, sorted({c[0] for _, _, c in shown}), self._show_score, self._comments_per_post
        )
        threshold = self._report_threshold
        for pid, row, counters in shown:
            content = _content(row, roots)
            if threshold > 0 and counters[9] >= threshold:
                content = f"[Warning: This post has been reported {counters[9]} times]\n{content}"
            view = {
                "post_id": pid,
                "user_id": row[1],
                "content": content,
                "created_at": counters[5],
                **_ratings(counters[6], counters[7], self._show_score),
                "num_shares": counters[8],
                "num_reports": counters[9],
                "comments": comments.get(counters[0], []),
            }
            cache.pop(pid, None)  # re-inserted last: the oldest entries are evicted first
            cache[pid] = (counters[0], self._version.get(counters[0], 0), view, encode_json(view))
        while len(cache) > self._max_entries:
            del cache[next(iter(cache))]


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
