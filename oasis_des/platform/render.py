"""How posts look to agents in refresh, search_posts and trend results.

A repost shows its own id with the root's text, time, counters and comments; a quote shows
its own counters (including num_reports, which OASIS loses) and the quoted text.
"""

from __future__ import annotations

import json
import sqlite3
from bisect import bisect_left
from typing import Any, Sequence

from oasis_des.platform.bounded import trim_oldest
from oasis_des.platform.post_rows import PostRows
from oasis_des.platform.settings import PlatformSettings

# The trace's JSON: the encoder `Platform` uses for every trace row, so the fragments of
# cached views join into exactly the text that encoding the whole feed would give.
encode_json = json.JSONEncoder(ensure_ascii=False).encode
_encode_str = json.encoder.encode_basestring  # what encode_json does with a str


def _json(value: Any) -> str:
    """encode_json(value), without the encoder's set-up for the ints and texts views hold."""
    kind = type(value)
    if kind is int:
        return int.__repr__(value)
    if kind is str:
        return _encode_str(value)
    return encode_json(value)


def encode_info(info: dict[str, Any]) -> str:
    """encode_json(info) for a trace row's `info`, key by key: every action writes one,
    and for a few small values the encoder's set-up cost more than the text."""
    parts = []
    for key, value in info.items():
        if type(key) is not str:  # the encoder turns other keys into text its own way
            return encode_json(info)
        parts.append(f"{_encode_str(key)}: {_json(value)}")
    return "{" + ", ".join(parts) + "}"


def _in(ids: Sequence[int]) -> str:
    return ",".join("?" * len(ids))


class _Thread:
    """The comments one post shows, in creation order, each with its JSON."""

    __slots__ = ("ids", "comments", "parts", "_joined")

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.comments: list[dict[str, Any]] = []
        self.parts: list[str] = []
        self._joined: str | None = None

    def add(self, comment: dict[str, Any], limit: int) -> None:
        """Add a comment newer than those held (comment ids only grow); beyond `limit`
        (> 0) the oldest is no longer shown."""
        self.ids.append(comment["comment_id"])
        self.comments.append(comment)
        self.parts.append(encode_json(comment))
        if 0 < limit < len(self.ids):
            del self.ids[0], self.comments[0], self.parts[0]
        self._joined = None

    def rate(self, comment_id: int, counter: str, delta: int) -> None:
        """Add `delta` to a counter ("num_likes" or "num_dislikes") of a held comment;
        a comment not held is older than those shown."""
        at = bisect_left(self.ids, comment_id)
        if at == len(self.ids) or self.ids[at] != comment_id:
            return
        comment = dict(self.comments[at])  # views handed out share the old dict
        if "score" in comment:
            comment["score"] += delta if counter == "num_likes" else -delta
        else:
            comment[counter] += delta
        self.comments[at], self.parts[at] = comment, encode_json(comment)
        self._joined = None

    def joined(self) -> str:
        if self._joined is None:
            self._joined = ", ".join(self.parts)
        return self._joined


class PostViews:
    """Rendered posts (and their JSON), kept until something they show changes.

    Every refresh shows posts, and popular posts carry hundreds of comments: rendering and
    encoding them again for each viewer dominated a run. A view depends only on its
    *counter post* (the post itself, or the root of a repost): that post's counters and
    comments. Comments are read once per counter post and then kept current from what the
    handlers report (`changed`, `comment_created`, `comment_rated`), with no query, since
    all other columns a view shows never change. After a rollback the platform calls
    `clear()`.
    """

    def __init__(
        self, posts: PostRows, conn: sqlite3.Connection, settings: PlatformSettings,
        max_entries: int = 100_000,
    ) -> None:
        self._posts = posts
        self._conn = conn
        self._show_score = settings.show_score
        self._report_threshold = settings.report_threshold
        self._limit = settings.comments_per_post
        self._max_entries = max_entries
        self._columns, self._keys = _SCORE_SQL if settings.show_score else _COUNTS_SQL
        # post id -> (counter post id, its version when rendered, view, view's JSON)
        self._cache: dict[int, tuple[int, int, dict[str, Any], str]] = {}
        self._version: dict[int, int] = {}
        self._threads: dict[int, _Thread] = {}  # counter post id -> its shown comments
        self._heads: dict[int, tuple[int, dict[str, Any], str]] = {}  # post id -> _head(...)

    def changed(self, counter_post: int) -> None:
        """The counters of `counter_post` changed: its views are stale."""
        self._version[counter_post] = self._version.get(counter_post, 0) + 1

    def comment_created(
        self, post_id: int, comment_id: int, user_id: int, content: str, created_at: Any
    ) -> None:
        """Comment `comment_id` was written on `post_id` (its counters start at 0)."""
        thread = self._threads.get(post_id)
        if thread is not None:
            counters = (0,) if self._show_score else (0, 0)
            row = (comment_id, post_id, user_id, content, created_at, *counters)
            thread.add(dict(zip(self._keys, row)), self._limit)
        self.changed(post_id)

    def comment_rated(self, post_id: int, comment_id: int, counter: str, delta: int) -> None:
        """`delta` was added to `counter` ("num_likes" or "num_dislikes") of comment
        `comment_id`, shown on `post_id`."""
        thread = self._threads.get(post_id)
        if thread is not None:
            thread.rate(comment_id, counter, delta)
        self.changed(post_id)

    def created(self, post_id: int) -> None:
        """`post_id` was just created (a post or a quote): it has no comments yet, so its
        thread need not be read."""
        self._threads[post_id] = _Thread()
        trim_oldest(self._threads, self._max_entries)

    def clear(self) -> None:
        self._cache.clear()
        self._version.clear()
        self._threads.clear()
        self._heads.clear()

    def show(self, post_ids: Sequence[int]) -> tuple[list[dict[str, Any]], str]:
        """The posts `post_ids` (in that order, unknown ids skipped) as agents see them,
        and the JSON of `{"posts": [...]}` for the trace.

        Each post carries its comments in creation order: all of them, or the most recent
        `comments_per_post` when that is > 0. The returned posts and comment lists are
        copies; the comment dicts inside are shared and must not be modified.
        """
        cache, version = self._cache, self._version
        found, stale = {}, []
        for pid in post_ids:
            entry = cache.get(pid)
            if entry is not None and entry[1] == version.get(entry[0], 0):
                found[pid] = entry
            else:
                stale.append(pid)
        if stale:
            found.update(self._render(stale))
        views: list[dict[str, Any]] = []
        parts: list[str] = []
        for pid in post_ids:
            entry = found.get(pid)
            if entry is not None:
                view = dict(entry[2])
                view["comments"] = list(view["comments"])
                views.append(view)
                parts.append(entry[3])
        return views, f'{{"posts": [{", ".join(parts)}]}}'  # (one copy fewer than +)

    @property
    def _select(self) -> str:
        return f"SELECT comment_id, post_id, user_id, content, created_at{self._columns} FROM comment"

    def _render(self, post_ids: list[int]) -> dict[int, tuple[int, int, dict[str, Any], str]]:
        cache = self._cache
        out = {}
        posts = self._posts.many(post_ids)
        root_ids = {r[2] for r in posts.values() if r[2] is not None} - posts.keys()
        roots = {**posts, **self._posts.many(sorted(root_ids))}
        shown: list[tuple[int, list[Any], list[Any]]] = []  # id, row, counter row
        for pid, row in posts.items():
            is_repost = row[2] is not None and row[4] is None
            shown.append((pid, row, roots[row[2]] if is_repost else row))
        threads = self._threads  # (a set minus dict keys would copy all the keys)
        self._load_threads(sorted({c[0] for _, _, c in shown if c[0] not in threads}))
        heads, threshold = self._heads, self._report_threshold
        for pid, row, counters in shown:
            reports = counters[9]
            warned = reports if 0 < threshold <= reports else 0
            head = heads.get(pid)
            if head is None or head[0] != warned:
                head = heads[pid] = self._head(pid, row, roots, counters[5], warned)
            thread = threads[counters[0]]
            view = dict(head[1])
            if self._show_score:
                view["score"] = counters[6] - counters[7]
                rated = f'"score": {_json(view["score"])}'
            else:
                view["num_likes"], view["num_dislikes"] = counters[6], counters[7]
                rated = f'"num_likes": {_json(counters[6])}, "num_dislikes": {_json(counters[7])}'
            view["num_shares"], view["num_reports"] = counters[8], reports
            view["comments"] = thread.comments
            # What encode_json(view) gives, written out: one post's JSON is built per view
            # change, and the encoder's set-up cost more than the text.
            text = (f'{head[2]}{rated}, "num_shares": {_json(counters[8])}, '
                    f'"num_reports": {_json(reports)}, "comments": [{thread.joined()}]}}')
            cache.pop(pid, None)  # re-inserted last: the oldest entries are evicted first
            cache[pid] = out[pid] = (counters[0], self._version.get(counters[0], 0), view, text)
        trim_oldest(cache, self._max_entries)
        trim_oldest(heads, self._max_entries)
        trim_oldest(threads, self._max_entries)
        return out

    @staticmethod
    def _head(
        pid: int, row: list[Any], roots: dict[int, list[Any]], created_at: Any, warned: int
    ) -> tuple[int, dict[str, Any], str]:
        """What a view shows before its counters, which changes only with the number of
        reports once they pass the threshold: (that number or 0, the keys, their JSON)."""
        content = _content(row, roots)
        if warned:
            content = f"[Warning: This post has been reported {warned} times]\n{content}"
        keys = {"post_id": pid, "user_id": row[1], "content": content, "created_at": created_at}
        text = (f'{{"post_id": {_json(pid)}, "user_id": {_json(row[1])}, '
                f'"content": {_json(content)}, "created_at": {_json(created_at)}, ')
        return warned, keys, text

    def _load_threads(self, post_ids: list[int]) -> None:
        if not post_ids:
            return
        threads = {pid: _Thread() for pid in post_ids}
        keys, limit = self._keys, self._limit
        if limit <= 0:
            rows: Any = self._conn.execute(
                f"{self._select} WHERE post_id IN ({_in(post_ids)}) ORDER BY comment_id",
                tuple(post_ids),
            )
        else:  # one indexed range read per post: cost bounded by the limit
            rows = [
                r
                for pid in post_ids
                for r in reversed(self._conn.execute(
                    f"{self._select} WHERE post_id = ? ORDER BY comment_id DESC LIMIT ?",
                    (pid, limit),
                ).fetchall())
            ]
        for r in rows:
            threads[r[1]].add(dict(zip(keys, r)), limit)
        self._threads.update(threads)


def _content(row: list[Any], roots: dict[int, list[Any]]) -> str:
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
